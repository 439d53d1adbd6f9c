with

source as (

    select * from {{ source('onec', 'bonus_points') }}

),

renamed as (

    select
        recorder || ':' || line_number as bonus_movement_id,
        recorder as document_ref,
        period as moved_at,
        active as is_active,
        record_type,
        card_key,
        case when record_type = 'Expense' then -accrued else accrued end as points_change,
        to_write_off

    from source

)

select * from renamed
