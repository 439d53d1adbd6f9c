{# marts.phone_e164(text): the staging rule for phones (macro phone_e164) as a SQL function, so a BI tool
   can find a customer by a phone typed in any common format (`8 (978) 123-45-67`, `+7 978 123 45 67`,
   `9781234567`) with the same normalisation the marts use. Created before the models (on-run-start),
   so the models' tests can call it. #}
{% macro create_phone_lookup_function() %}
    {% set sql %}
    create schema if not exists marts;
    create or replace function marts.phone_e164(typed text) returns text
        language sql immutable parallel safe
        as $fn$ select {{ phone_e164('typed') }} $fn$;
    comment on function marts.phone_e164(text) is
        'A phone typed in any common Russian format as E.164 (+7XXXXXXXXXX), as customer_profile.phone stores it';
    {% endset %}
    {% if execute %}
        {% do run_query(sql) %}
    {% endif %}
{% endmacro %}
