with

source as (

    select * from {{ source('onec', 'customers') }}

),

renamed as (

    select
        ref_key as customer_key,
        code as customer_code,
        description as customer_name,
        payload ->> 'ОсновныеСведения' as contact_info,
        {{ phone_e164(info_line("payload ->> 'ОсновныеСведения'", 'Телефон')) }} as phone,
        {{ info_line("payload ->> 'ОсновныеСведения'", 'Город') }} as city,
        coalesce((payload ->> 'IsFolder')::boolean, false) as is_folder,
        deletion_mark as is_deleted

    from source

)

select * from renamed
