with

source as (

    select * from {{ source('onec', 'bonus_balances') }}

),

renamed as (

    select
        card_key,
        accrued_balance as bonus_balance,
        to_write_off_balance

    from source

)

select * from renamed
