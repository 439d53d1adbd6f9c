{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='document_ref',
    pre_hook="{{ delete_window('document_date') }}",
    indexes=[{'columns': ['document_ref'], 'unique': True}],
    meta={'window_column': 'document_date'},
) }}

-- Which store each sales document belongs to: receipts carry their store in the journal; orders and
-- shift reports carry it on their register lines. Card sales find their store through it. A table,
-- incremental on the run's window like the marts, so a day's build looks documents up by index. The
-- window's days are deleted first (documents deleted in 1C go), then rows are replaced by document (one
-- re-dated in 1C moves to its new day).
with

receipts as (

    select receipt_ref as document_ref, receipt_date as document_date, store_key
    from {{ ref('stg_onec__receipts') }}
    where store_key is not null and {{ incremental_window('receipt_at', moment=true) }}

),

register_documents as (

    select distinct on (document_ref) document_ref, sale_date as document_date, store_key
    from {{ ref('stg_onec__sales') }} as sales
    where store_key is not null
        and {{ incremental_window('sold_at', moment=true) }}
        and not exists (
            select from receipts
            where receipts.document_ref = sales.document_ref
        )
    order by document_ref, line_number

),

final as (

    select * from receipts
    union all
    select * from register_documents

)

select * from final
