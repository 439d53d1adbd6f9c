-- Which store each sales document belongs to: receipts carry their store in the journal; orders and
-- shift reports carry it on their register lines. Card sales find their store through it.
with

receipts as (

    select receipt_ref as document_ref, store_key
    from {{ ref('stg_onec__receipts') }}
    where store_key is not null

),

register_documents as (

    select distinct on (document_ref) document_ref, store_key
    from {{ ref('stg_onec__sales') }}
    where store_key is not null
    order by document_ref, line_number

),

final as (

    select * from receipts
    union
    select * from register_documents where document_ref not in (select document_ref from receipts)

)

select * from final
