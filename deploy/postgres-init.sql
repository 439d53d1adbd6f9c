-- The Dagster instance lives in its own database beside the warehouse.
create database dagster owner glame;
