with

source as (

    select * from {{ source('onec', 'sales') }}

),

opening_balances as (

    select * from {{ source('onec', 'opening_balances') }}

),

unioned as (

    -- a migrated record can reach both tables when the partitions start before the migration date: the
    -- migrated copy wins. An anti-join (not distinct on) so a filter on the period reaches the raw index.
    select *, false as is_migrated
    from source
    where
        not exists (
            select from opening_balances
            where opening_balances.recorder = source.recorder and opening_balances.line_number = source.line_number
        )
    union all
    select *, true as is_migrated from opening_balances

),

renamed as (

    select
        recorder || ':' || line_number as sales_line_id,
        recorder as document_ref,
        line_number,
        replace(recorder_type, 'StandardODATA.', '') as document_type,
        period as sold_at,
        period::date as sale_date,
        active as is_active,
        store_key,
        product_key,
        counterparty_key,
        quantity,
        amount,
        amount < 0 as is_return,
        is_migrated,
        _loaded_at as loaded_at

    from unioned

)

select * from renamed
