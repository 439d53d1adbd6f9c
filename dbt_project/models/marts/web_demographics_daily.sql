-- Site audience per Moscow day × gender × age interval (Yandex.Metrika), with Russian display labels for
-- the dashboards: the labels are data for people, the column names stay English.
with

demographics as (

    select * from {{ ref('stg_yandex_metrika__demographics') }}

),

final as (

    select
        visit_date,
        gender,
        age_interval,
        case gender when 'male' then 'мужчины' when 'female' then 'женщины' else 'не определён' end as gender_label,
        case
            when age_interval is null or age_interval in ('', '(not set)') then 'не определён'
            when age_interval = 'under 18' then '0–17'  -- sorts before 18-24, as the axis should
            when age_interval = '55 and over' then '55+'
            else age_interval
        end as age_label,
        sum(visits) as visits,
        sum(users) as users,
        bool_or(is_sampled) as sampled

    from demographics
    group by 1, 2, 3

)

select * from final
