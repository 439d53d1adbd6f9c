with

source as (

    select * from {{ source('vk', 'wall_posts') }}

),

renamed as (

    select
        owner_id || '_' || post_id as post_key,
        ltrim(owner_id, '-') as group_id,
        post_id,
        posted_at,
        (posted_at at time zone 'Europe/Moscow')::date as posted_date,
        likes,
        comments,
        reposts,
        views,
        payload ->> 'text' as post_text

    from source

)

select * from renamed
