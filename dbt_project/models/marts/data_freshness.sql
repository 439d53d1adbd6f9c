-- One row: when the marts were last built (Moscow time) and the latest day each kind of data reaches.
-- Every dashboard shows it as its "data last loaded" line.
with

unified as (

    select * from {{ ref('unified_daily') }}

),

final as (

    select
        current_timestamp as built_at,
        to_char(current_timestamp at time zone 'Europe/Moscow', 'DD.MM.YYYY HH24:MI') || ' МСК' as built_at_moscow,
        max(date) filter (where orders > 0) as latest_sales_date,
        max(date) filter (where web_visits is not null) as latest_web_date,
        max(date) filter (where store_visitors is not null) as latest_store_date,
        'Данные обновлены ' || to_char(current_timestamp at time zone 'Europe/Moscow', 'DD.MM.YYYY HH24:MI')
        || ' МСК; продажи по ' || coalesce(to_char(max(date) filter (where orders > 0), 'DD.MM.YYYY'), '—')
        || ', сайт по ' || coalesce(to_char(max(date) filter (where web_visits is not null), 'DD.MM.YYYY'), '—')
        || ', магазины по '
        || coalesce(to_char(max(date) filter (where store_visitors is not null), 'DD.MM.YYYY'), '—') as summary

    from unified

)

select * from final
