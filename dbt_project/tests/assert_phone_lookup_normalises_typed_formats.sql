-- An asset check of customer_profile, whose lookup uses the function.
{{ config(meta={'dagster': {'ref': {'name': 'customer_profile'}}}) }}
-- A phone typed as people write it finds the customer stored as E.164 (the Покупатели dashboard's lookup).
select typed, marts.phone_e164(typed) as got, expected
from (
    values
    ('8 (978) 123-45-67', '+79781234567'),
    ('+7 978 123 45 67', '+79781234567'),
    ('+79781234567', '+79781234567'),
    ('79781234567', '+79781234567'),
    ('978-123-45-67', '+79781234567'),
    ('12345', null)
) as cases (typed, expected)
where marts.phone_e164(typed) is distinct from expected
