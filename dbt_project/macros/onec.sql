{# A phone as E.164 (+7XXXXXXXXXX): Russian numbers written as 8…, 7…, +7… or 10 digits. The digits are
   computed once per row (a scalar subquery), not once per test of them: the expression is often itself
   a regular expression over 1C's contact text. #}
{% macro phone_e164(expression) -%}
    (
        select case
            when length(digits) = 11 and left(digits, 1) in ('7', '8') then '+7' || right(digits, 10)
            when length(digits) = 10 then '+7' || digits
        end
        -- offset 0: not inlined; `limit all` (no limit) only because sqlfluff's grammar wants one before offset
        from (select regexp_replace({{ expression }}, '\D', '', 'g') as digits limit all offset 0) as phone
    )
{%- endmacro %}

{# One labelled line ("Телефон: …") of 1C's multi-line ОсновныеСведения text. #}
{% macro info_line(expression, label) -%}
    nullif(trim(substring({{ expression }} from '(?n)^{{ label }}:\s*(.*)$')), '')
{%- endmacro %}

{# False when Dagster says this 1C base has not got the set (an empty ONEC_*_ENDPOINT turns an optional set
   off: vars `onec_sets_off`). The columns such a set feeds are then null, never zero: "unknown", not "none". #}
{% macro onec_set_on(name) -%}
    {{ return(name not in var('onec_sets_off', [])) }}
{%- endmacro %}
