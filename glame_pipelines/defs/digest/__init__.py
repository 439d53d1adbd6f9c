"""The morning digest and its anomaly checks, downstream of the marts."""
