{# Tests of a model that declares meta.window_column (a window-incremental mart, or a staging view over a
   daily-partitioned register) check the run's window only, when Dagster passed one: that build rebuilt
   just those days, and the days before were tested when they were built. Without a window (a full
   build) they check the whole table. meta.window_is_timestamp keeps the bounds on the bare column so
   the raw table's index answers them. #}
{% macro postgres__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set meta = tested_model_meta(relation) -%}
    {%- set conditions = [] -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- if meta.get('window_column') and window_day('start_date') -%}
        {%- do conditions.append(run_window(meta['window_column'], meta.get('window_is_timestamp', false))) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{# The tested model's meta. Looked up by its unique id first: a test's compilation runs this once, and a walk
   over every node of the graph made it most of a test's compile time (a day's build runs 122 tests). The
   walk stays for a model whose alias differs from its name. #}
{% macro tested_model_meta(relation) -%}
    {%- if execute -%}
        {%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ relation.identifier) -%}
        {%- if node and node.schema == relation.schema -%}
            {%- do return(node.config.meta) -%}
        {%- endif -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.alias == relation.identifier
                    and node.schema == relation.schema -%}
                {%- do return(node.config.meta) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- do return({}) -%}
{%- endmacro %}
