"""Plain-Python clients of the source APIs: no Dagster, no database."""
