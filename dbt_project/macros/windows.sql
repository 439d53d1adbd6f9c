{# The window an incremental model rebuilds: the run's Moscow days, else the last 7 days. Days inside the
   window are deleted and rebuilt, so rows that disappeared in the source disappear here too.
   Dagster passes the days in GLAME_DBT_START_DATE / GLAME_DBT_END_DATE (a by-hand run may use vars
   start_date / end_date, which win). Not as vars: dbt re-parses the whole project whenever its vars differ
   from the last parse's, which every new day's build did (about 8 s of a 2-core machine's build); a changed
   variable re-parses only the few files that read it while being parsed. #}
{% macro window_day(name) -%}
    {{- return(var(name, none) or env_var('GLAME_DBT_' ~ (name | upper), '') or none) -}}
{%- endmacro %}

{% macro window_start() -%}
    {%- if window_day('start_date') -%}'{{ window_day('start_date') }}'::date
    {%- else -%}((now() at time zone 'Europe/Moscow')::date - {{ var('lookback_days', 7) }})
    {%- endif -%}
{%- endmacro %}

{% macro window_end() -%}
    {%- if window_day('end_date') -%}'{{ window_day('end_date') }}'::date
    {%- else -%}(now() at time zone 'Europe/Moscow')::date
    {%- endif -%}
{%- endmacro %}

{# `column` inside the window. For a timestamp (`moment=true`) the bounds stay on the bare column, so
   the raw tables' index on the period answers it and a day's build reads a day's rows. #}
{% macro in_window(column, moment=false) -%}
    {%- if moment -%}{{ column }} >= {{ window_start() }} and {{ column }} < {{ window_end() }} + 1
    {%- else -%}{{ column }} between {{ window_start() }} and {{ window_end() }}
    {%- endif -%}
{%- endmacro %}

{# For an incremental model's source rows: the window on an incremental build, everything otherwise. #}
{% macro incremental_window(column, moment=false) -%}
    {%- if is_incremental() -%}({{ in_window(column, moment) }}){%- else -%}true{%- endif -%}
{%- endmacro %}

{# For tests: the run's window when Dagster passed one (only that window was rebuilt), else everything. #}
{% macro run_window(column, moment=false) -%}
    {%- if window_day('start_date') -%}({{ in_window(column, moment) }}){%- else -%}true{%- endif -%}
{%- endmacro %}

{# The pre-hook of a window-incremental model: delete what the build is about to rebuild. `also` adds
   rows rebuilt on every run (e.g. migrated history, which has no day of its own). #}
{% macro delete_window(column, also=none) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_window(column) }}{% if also %} or {{ also }}{% endif %}
    {%- endif -%}
{%- endmacro %}

{% macro moscow_today() -%}(now() at time zone 'Europe/Moscow')::date{%- endmacro %}
