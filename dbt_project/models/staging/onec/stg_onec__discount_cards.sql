with

source as (

    select * from {{ source('onec', 'discount_cards') }}

),

renamed as (

    select
        ref_key as card_key,
        code as card_code,
        payload ->> 'КодКартыШтрихкод' as card_number,
        {{ phone_e164("payload ->> 'КодКартыШтрихкод'") }} as phone,
        nullif(payload ->> 'ВладелецКарты_Key', '00000000-0000-0000-0000-000000000000') as customer_key,
        deletion_mark as is_deleted

    from source

)

select * from renamed
