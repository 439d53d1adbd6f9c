{#-
  Views replaced in place. dbt's default swaps a new view in (rename, rename, then `drop ... cascade` of the
  old one), and the cascade drops every view built on the old one: a run that rebuilds a staging view
  silently drops the intermediate views another run built from it. Here a view whose columns keep their
  names and types (new columns may be added at the end) is replaced with `create or replace view`, which
  Postgres allows without touching its dependents. A view whose shape changed takes the default swap (a
  shape change comes with a deploy and a full build, which rebuilds the dependents).

  And a view that would come out the same is left alone. A view is its SQL bound to the relations it reads
  (their identity and columns, which `select *` expands when the view is made): the view keeps a fingerprint
  of both in its comment, and a build whose fingerprint matches has nothing to do. A day's build used to
  re-create all 26 views, about 0.1 s each, under a lock that made the dashboards' queries wait. A full
  refresh, or a model with hooks, always builds.
-#}
{%- materialization view, adapter='postgres' -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set fingerprint = glame_view_fingerprint(target_relation, sql) -%}
  {%- if existing_relation is not none and existing_relation.type == 'view' and not should_full_refresh()
        and not pre_hooks and not post_hooks and fingerprint.stored == fingerprint.wanted -%}
    {{ return({'relations': [target_relation]}) }}
  {%- endif -%}
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
  {%- call statement('fingerprint') -%}
    comment on view {{ target_relation }} is '{{ fingerprint.wanted }}'
  {%- endcall -%}
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


{#- What the view would be made from: its SQL, its grants, and the relations it reads (by oid, so one replaced
    under the same name counts, and by columns). `stored` is what the existing view was made from. Runs as the
    node's `main` statement, which is all a view with nothing to do runs. -#}
{%- macro glame_view_fingerprint(relation, sql) -%}
  {%- set read = [] -%}
  {%- for unique_id in model.depends_on.nodes -%}
    {%- set node = graph.nodes.get(unique_id) or graph.sources.get(unique_id) -%}
    {%- if node and node.relation_name -%}
      {%- do read.append("to_regclass('" ~ node.relation_name | replace("'", "''") ~ "')::oid") -%}
    {%- endif -%}
  {%- endfor -%}
  {%- call statement('main', fetch_result=True) -%}
    select
        obj_description(to_regclass('{{ relation | replace("'", "''") }}'), 'pg_class') as stored,
        (
            select md5(coalesce(string_agg(
                concat_ws(':', a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod), ','
                order by a.attrelid, a.attnum), ''))
            from pg_attribute as a
            where a.attrelid in ({{ read | join(', ') if read else 'null' }}) and a.attnum > 0 and not a.attisdropped
        ) as read_columns
  {%- endcall -%}
  {%- set row = load_result('main').table.rows[0] -%}
  {%- set made_of = local_md5(sql ~ '|' ~ (config.get('grants') | tojson) ~ '|' ~ row['read_columns']) -%}
  {{ return({'stored': row['stored'], 'wanted': 'glame view ' ~ made_of}) }}
{%- endmacro -%}
