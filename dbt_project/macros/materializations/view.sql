{#-
  Views replaced in place. dbt's default swaps a new view in (rename, rename, then `drop ... cascade` of the
  old one), and the cascade drops every view built on the old one: a run that rebuilds a staging view
  silently drops the intermediate views another run built from it. Here a view whose columns keep their
  names and types (new columns may be added at the end) is replaced with `create or replace view`, which
  Postgres allows without touching its dependents. A view whose shape changed takes the default swap (a
  shape change comes with a deploy and a full build, which rebuilds the dependents).
-#}
{%- materialization view, adapter='postgres' -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation) -%}
  {%- set backup_relation_type = 'view' if existing_relation is none else existing_relation.type -%}
  {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
  {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}
  {%- set grant_config = config.get('grants') -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
  {{ drop_relation_if_exists(preexisting_backup_relation) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- call statement('main') -%}
    {{ get_create_view_as_sql(intermediate_relation, sql) }}
  {%- endcall -%}

  {%- set in_place = existing_relation is not none and existing_relation.type == 'view'
        and glame_same_leading_columns(existing_relation, intermediate_relation) -%}
  {%- if in_place -%}
    {%- call statement('replace_in_place') -%}
      create or replace view {{ target_relation }} as (
        {{ sql }}
      )
    {%- endcall -%}
    {{ drop_relation_if_exists(intermediate_relation) }}
  {%- else -%}
    {%- if existing_relation is not none -%}
      {%- set existing_relation = load_cached_relation(existing_relation) -%}
      {%- if existing_relation is not none -%}
        {{ adapter.rename_relation(existing_relation, backup_relation) }}
      {%- endif -%}
    {%- endif -%}
    {{ adapter.rename_relation(intermediate_relation, target_relation) }}
  {%- endif -%}

  {%- set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) -%}
  {%- do apply_grants(target_relation, grant_config, should_revoke=should_revoke) -%}
  {%- do persist_docs(target_relation, model) -%}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ drop_relation_if_exists(backup_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{%- endmaterialization -%}


{#- True when `new` starts with `old`'s columns, same names and types, in the same order. -#}
{%- macro glame_same_leading_columns(old, new) -%}
  {%- set old_columns = adapter.get_columns_in_relation(old) -%}
  {%- set new_columns = adapter.get_columns_in_relation(new) -%}
  {%- if new_columns | length < old_columns | length -%}
    {{ return(false) }}
  {%- endif -%}
  {%- for column in old_columns -%}
    {%- set other = new_columns[loop.index0] -%}
    {%- if column.name != other.name or column.data_type != other.data_type -%}
      {{ return(false) }}
    {%- endif -%}
  {%- endfor -%}
  {{ return(true) }}
{%- endmacro -%}
