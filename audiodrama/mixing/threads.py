"""Stages of an audio stream run side by side: numpy, scipy and the ffmpeg pipes let go of the GIL, so a
stage in a thread of its own keeps a second core busy while the next stage works on earlier blocks."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

Item = TypeVar("Item")

DEPTH = 4
"""Blocks a stage may run ahead of the one reading it."""
_END = object()


class _Failure:
    """An error raised in a stage's thread, carried to the reader."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def ahead(items: Iterable[Item], depth: int = DEPTH) -> Iterator[Item]:
    """`items`, made by a thread of their own up to `depth` ahead of the reader; an error there is raised
    here, and a reader that stops early (or fails) stops the thread and closes `items`."""
    handoff: queue.Queue[object] = queue.Queue(depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        source = iter(items)
        try:
            for item in source:
                if not put(item):
                    return
            put(_END)
        except BaseException as error:
            put(_Failure(error))
        finally:
            close = getattr(source, "close", None)
            if close:
                close()

    thread = threading.Thread(target=make, name="audio-stage", daemon=True)
    thread.start()
    try:
        while (item := handoff.get()) is not _END:
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
