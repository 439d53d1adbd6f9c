with

source as (

    select * from {{ source('telegram', 'channel_posts') }}

),

renamed as (

    select
        chat_id || '_' || message_id as post_key,
        chat_id,
        message_id,
        posted_at,
        (posted_at at time zone 'Europe/Moscow')::date as posted_date,
        edited as is_edited,
        text as post_text

    from source

)

select * from renamed
