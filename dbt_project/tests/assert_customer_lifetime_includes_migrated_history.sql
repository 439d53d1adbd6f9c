-- Customers' lifetime revenue adds up to card sales + orders with a customer + migrated history.
select
    (select sum(lifetime_revenue) from {{ ref('customer_profile') }}) as profile_total,
    (select sum(amount) from {{ ref('customer_purchases') }}) as lines_total
where (select sum(lifetime_revenue) from {{ ref('customer_profile') }})
    is distinct from (select coalesce(sum(amount), 0) from {{ ref('customer_purchases') }})
