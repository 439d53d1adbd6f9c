"""How a source's step fails: one clear failure naming the source, retried only when retrying can help."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from glame_pipelines.clients.http import ApiError, TransientError
from glame_pipelines.sources import SourceNotConfigured
from glame_pipelines.warehouse.connection import WarehouseNotConfigured


def step_retry_policy() -> dg.RetryPolicy | None:
    """Steps of the scheduled and sensor runs are retried after transient failures (a vendor's 5xx storm,
    a dropped database connection): GLAME_STEP_RETRIES times (default 2), GLAME_STEP_RETRY_DELAY seconds
    apart (default 60, doubling). `glame run` sets 0: an operator at the terminal re-runs it."""
    retries = int(os.environ.get("GLAME_STEP_RETRIES", "2"))
    if retries <= 0:
        return None
    return dg.RetryPolicy(
        max_retries=retries, delay=float(os.environ.get("GLAME_STEP_RETRY_DELAY", "60")), backoff=dg.Backoff.EXPONENTIAL
    )


@contextmanager
def reported_as_failure(source_label: str) -> Iterator[None]:
    """A source's expected failures (not configured, auth, API errors) become one clear Dagster
    failure naming the source, instead of a stack trace."""
    try:
        yield
    except SourceNotConfigured as error:
        raise dg.Failure(description=f"{source_label} is {error}", allow_retries=False) from None
    except WarehouseNotConfigured as error:
        raise dg.Failure(description=str(error), allow_retries=False) from None
    except TransientError as error:  # a 5xx storm outlasting the client's own retries: the step is retried
        raise dg.Failure(description=f"{source_label}: {error}", allow_retries=True) from None
    except ApiError as error:  # auth, permissions, a bad request: retrying cannot help
        raise dg.Failure(description=f"{source_label}: {error}", allow_retries=False) from None
