"""The morning digest: yesterday's figures from the marts, a weekday baseline, Telegram delivery (no Dagster)."""
