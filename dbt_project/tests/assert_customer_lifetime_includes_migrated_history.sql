-- Customers' lifetime revenue adds up to their purchase lines: card sales + orders with a customer +
-- migrated history (lines of counterparties missing from the catalog are left to the relationships test).
with

profile as (

    select coalesce(sum(lifetime_revenue), 0) as total from {{ ref('customer_profile') }}

),

lines as (

    select coalesce(sum(amount), 0) as total
    from {{ ref('customer_purchases') }}
    where customer_key in (select customer_key from {{ ref('customer_profile') }})

)

select profile.total as profile_total, lines.total as lines_total
from profile, lines
where profile.total <> lines.total
