-- Customers' lifetime revenue adds up to their purchase lines: card sales + orders with a customer +
-- migrated history (lines of counterparties missing from the catalog are left to the relationships test).
-- With a run window, the customers who bought in it (each over their whole history), else everyone.
with

customers as (

    select customer_key, lifetime_revenue
    from {{ ref('customer_profile') }}
    {% if window_day('start_date') %}
    where customer_key in (
        select customer_key from {{ ref('customer_purchases') }}
        where {{ run_window('purchase_date') }}
    )
    {% endif %}

),

lines as (

    select purchases.customer_key, sum(purchases.amount) as revenue
    from {{ ref('customer_purchases') }} as purchases
    where purchases.customer_key in (select customers.customer_key from customers)
    group by purchases.customer_key

)

select customers.customer_key, customers.lifetime_revenue, lines.revenue as lines_revenue
from customers
left join lines using (customer_key)
where customers.lifetime_revenue <> coalesce(lines.revenue, 0)
