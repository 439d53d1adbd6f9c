with

source as (

    select * from {{ source('instagram', 'stories') }}

),

renamed as (

    select
        story_id,
        account_id,
        posted_at,
        (posted_at at time zone 'Europe/Moscow')::date as posted_date,
        reach,
        views,
        replies,
        shares,
        total_interactions

    from source

)

select * from renamed
