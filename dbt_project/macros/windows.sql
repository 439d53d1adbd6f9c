{# The window an incremental model rebuilds: vars start_date/end_date (the run's Moscow days, passed by
   Dagster), else the last 7 days. Days inside the window are deleted and rebuilt, so rows that
   disappeared in the source disappear here too. #}
{% macro window_start() -%}
    {%- if var('start_date', none) -%}'{{ var('start_date') }}'::date
    {%- else -%}((now() at time zone 'Europe/Moscow')::date - {{ var('lookback_days', 7) }})
    {%- endif -%}
{%- endmacro %}

{% macro window_end() -%}
    {%- if var('end_date', none) -%}'{{ var('end_date') }}'::date
    {%- else -%}(now() at time zone 'Europe/Moscow')::date
    {%- endif -%}
{%- endmacro %}

{% macro delete_window(column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ column }} between {{ window_start() }} and {{ window_end() }}
    {%- endif -%}
{%- endmacro %}

{% macro moscow_today() -%}(now() at time zone 'Europe/Moscow')::date{%- endmacro %}
