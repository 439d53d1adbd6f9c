with

source as (

    select * from {{ source('instagram', 'media') }}

),

renamed as (

    select
        media_id,
        account_id,
        posted_at,
        (posted_at at time zone 'Europe/Moscow')::date as posted_date,
        media_type,
        media_product_type,
        like_count,
        comments_count,
        permalink,
        payload ->> 'caption' as caption

    from source

)

select * from renamed
