"""Gunicorn settings for Superset's workers (`glame bi` passes this file with `-c`).

A worker holds some 400,000 long-lived objects once Superset has built its app and served its first pages
(Flask-AppBuilder's views, SQLAlchemy's models, pandas, what the first requests initialise lazily).
CPython's oldest-generation collection walks all of them: now and then a chart request paid a 100 ms to
1.3 s pause, far above its own ~100 ms. Measured on the demo's data, 910 chart requests with `force` on two
workers: without this file 4 such collections and two requests over 300 ms (the worst 704 ms); freezing
only when the worker starts, still 415 ms collections (the first requests build much of the heap); frozen
again after the worker's 20th, 100th and 400th request, collections of 4–13 ms after the warm-up and no
request over 300 ms (the worst 259 ms). Each freeze first collects, so garbage is not kept: a pause of up
to ~0.6 s, paid after a response was sent, by the launcher's warm-up requests in the normal case."""

import gc
import itertools

FREEZE_AFTER_REQUESTS = frozenset({20, 100, 400})
_served = itertools.count(1)  # next() on a count is atomic under the GIL: the worker's threads share it


def freeze() -> None:
    gc.collect()
    gc.freeze()


def post_worker_init(worker):
    freeze()


def post_request(worker, req, environ, resp):
    if next(_served) in FREEZE_AFTER_REQUESTS:
        freeze()
