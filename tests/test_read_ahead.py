"""read_ahead: the page pipeline under the 1C client. Order, errors, bounded look-ahead, early stop."""

from __future__ import annotations

import threading
import time

import pytest

from glame_pipelines.clients.http import read_ahead


def test_items_arrive_in_order_and_the_error_that_ends_them_last():
    def pages():
        yield from range(5)
        raise ConnectionError("dropped after five pages")

    got = []
    with pytest.raises(ConnectionError, match="five pages"):
        for item in read_ahead(pages()):
            got.append(item)
    assert got == [0, 1, 2, 3, 4]


def test_the_producer_never_runs_more_than_depth_plus_two_ahead():
    produced = []

    def pages():
        for n in range(100):
            produced.append(n)
            yield n

    consumer = read_ahead(pages(), depth=1)
    assert next(consumer) == 0
    time.sleep(0.3)  # give the producer every chance to run away
    assert len(produced) <= 3  # the one consumed, one queued, one in the producer's hand
    assert list(consumer) == list(range(1, 100))


def test_closing_early_stops_the_producer():
    started = threading.Event()

    def endless():
        n = 0
        while True:
            started.set()
            yield n
            n += 1

    consumer = read_ahead(endless())
    assert next(consumer) == 0
    consumer.close()
    assert not any(t.name == "read-ahead" and t.is_alive() for t in threading.enumerate())
