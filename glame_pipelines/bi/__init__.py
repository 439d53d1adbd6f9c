"""Apache Superset over the marts: the dashboards kept in bi/assets, served by `glame bi`."""
