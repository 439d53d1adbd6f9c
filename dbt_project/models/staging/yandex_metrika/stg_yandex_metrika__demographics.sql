with

source as (

    select * from {{ source('yandex_metrika', 'demographics') }}

),

renamed as (

    select
        counter_id,
        date as visit_date,
        gender,
        age_interval,
        visits::bigint as visits,
        users::bigint as users,
        sampled as is_sampled

    from source

)

select * from renamed
