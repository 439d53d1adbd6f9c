with

source as (

    select * from {{ source('instagram', 'media_insights') }}

),

renamed as (

    select
        media_id,
        date as snapshot_date,
        reach,
        views,
        likes,
        comments,
        shares,
        saved as saves,
        total_interactions,
        unavailable_reason

    from source

)

select * from renamed
