with

source as (

    select * from {{ source('ftp_counters', 'visits') }}

),

renamed as (

    select
        store_folder || ':' || file_path || ':' || line_no as counter_row_id,
        store_folder as counter_folder,
        file_path,
        visit_date,
        period_start,
        period_end,
        entries,
        exits,
        counter_format,
        device

    from source

)

select * from renamed
