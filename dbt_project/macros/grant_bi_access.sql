{# A read-only role for BI tools: usage on `marts` and select on its tables, nothing else. Created when
   missing; BI users are granted it (GRANT glame_bi TO some_login). Skipped with a notice where the
   loader's user may not create roles. #}
{% macro grant_bi_access(role='glame_bi') %}
    {% set sql %}
    do $$
    begin
        if not exists (select 1 from pg_roles where rolname = '{{ role }}') then
            create role {{ role }} nologin;
        end if;
        grant usage on schema marts to {{ role }};
        grant select on all tables in schema marts to {{ role }};
        alter default privileges in schema marts grant select on tables to {{ role }};
    exception when insufficient_privilege then
        raise notice 'glame: no privilege to manage role {{ role }}; BI access left unchanged';
    end
    $$;
    {% endset %}
    {% if execute and target.name != 'none' %}
        {% do run_query("select 1 from information_schema.schemata where schema_name = 'marts'") %}
        {% do run_query(sql) %}
    {% endif %}
{% endmacro %}
