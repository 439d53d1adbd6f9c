with

source as (

    select * from {{ source('onec', 'receipts') }}

),

renamed as (

    select
        ref as receipt_ref,
        replace(document_type, 'StandardODATA.', '') as document_type,
        document_date as receipt_at,
        document_date::date as receipt_date,
        customer_key,
        store_key,
        amount,
        coalesce((payload ->> 'Posted')::boolean, true) as is_posted,
        coalesce((payload ->> 'DeletionMark')::boolean, false) as is_deleted

    from source

)

select * from renamed
