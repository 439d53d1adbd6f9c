"""Gunicorn settings for Superset's workers (`glame bi` passes this file with `-c`).

A worker holds millions of long-lived objects once Superset's app is built (Flask-AppBuilder's views,
SQLAlchemy's models, pandas). CPython's oldest-generation collection walks all of them: every few hundred
chart requests one request paid a 300–400 ms pause, a worst case far above the chart's own ~60 ms.
Freezing what the app built moves it out of the collector's reach, so a collection only walks what
requests allocate."""

import gc


def post_worker_init(worker):
    gc.freeze()
