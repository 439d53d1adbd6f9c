{# A phone as E.164 (+7XXXXXXXXXX): Russian numbers written as 8…, 7…, +7… or 10 digits. #}
{% macro phone_e164(expression) -%}
    case
        when length(regexp_replace({{ expression }}, '\D', '', 'g')) = 11
            and left(regexp_replace({{ expression }}, '\D', '', 'g'), 1) in ('7', '8')
            then '+7' || right(regexp_replace({{ expression }}, '\D', '', 'g'), 10)
        when length(regexp_replace({{ expression }}, '\D', '', 'g')) = 10
            then '+7' || regexp_replace({{ expression }}, '\D', '', 'g')
    end
{%- endmacro %}

{# One labelled line ("Телефон: …") of 1C's multi-line ОсновныеСведения text. #}
{% macro info_line(expression, label) -%}
    nullif(trim(substring({{ expression }} from '(?n)^{{ label }}:\s*(.*)$')), '')
{%- endmacro %}
