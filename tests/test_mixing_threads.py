"""A stream stage in a thread of its own gives the same items, raises its errors to the reader, and stops
when the reader stops."""

from __future__ import annotations

import threading

import pytest

from audiodrama.mixing.threads import ahead


def test_items_come_through_in_order() -> None:
    assert list(ahead(iter(range(1000)), depth=3)) == list(range(1000))


def test_an_error_in_the_stage_is_raised_to_the_reader() -> None:
    def failing():
        yield 1
        raise ValueError("broken stage")

    with pytest.raises(ValueError, match="broken stage"):
        list(ahead(failing()))


def test_a_reader_that_stops_early_stops_the_stage_and_closes_its_source() -> None:
    closed = threading.Event()

    def endless():
        try:
            number = 0
            while True:
                yield number
                number += 1
        finally:
            closed.set()

    stage = ahead(endless(), depth=2)
    assert [next(stage) for _ in range(5)] == [0, 1, 2, 3, 4]
    stage.close()
    assert closed.is_set()
    assert not any(thread.name == "audio-stage" for thread in threading.enumerate())
