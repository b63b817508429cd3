"""The state file in a series' output folder (what every episode was last built from, and the voices
auto-cast so far), and the lock a batch holds on that folder."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from audiodrama.errors import AudiodramaError
from audiodrama.files import write_text_atomic
from audiodrama.series.report import Review
from audiodrama.synthesis.voices import Voice

STATE_FILE = ".audiodrama-series.json"
"""In the output folder: what every episode was last built from, and the series' auto-cast voices."""
LOCK_FILE = ".audiodrama-series.lock"
"""In the output folder: held (flock) by the batch building it."""
STATE_VERSION = 1


@dataclass(frozen=True)
class EpisodeRecord:
    """What the last successful build of an episode was made from, and what it made."""

    key: str
    """Hash of every input; the same on the next run means there is nothing to do."""
    reading_key: str
    """Hash of what the script depends on (chapter, cast names, code); `speakers` hold while it is the same."""
    speakers: tuple[str, ...]
    """Speakers of the script."""
    new_speakers: tuple[str, ...]
    """Speakers the series cast file does not list (auto-cast)."""
    title: str
    """Episode title as tagged."""
    seconds: float
    """Duration."""
    lines: int
    """Lines voiced."""
    bytes: int
    """Size of the MP3."""
    review: tuple[Review, ...]
    """Lowest-confidence lines."""
    published: str
    """When the episode was first built (ISO 8601, UTC): the feed's pubDate."""


@dataclass(frozen=True)
class State:
    """The state file's content."""

    voices: dict[str, Voice] = field(default_factory=dict)
    """Voices auto-cast so far, by character: kept for the life of the series."""
    episodes: dict[str, EpisodeRecord] = field(default_factory=dict)
    """Last successful build, by episode name."""


def read_state(out_dir: Path) -> State:
    """The state file of an output folder; an empty state when there is none (or it is unreadable)."""
    try:
        data = json.loads((out_dir / STATE_FILE).read_text(encoding="utf-8"))
        if data.get("version") != STATE_VERSION:
            return State()
        voices = {name: Voice(**voice) for name, voice in data["voices"].items()}
        episodes = {name: EpisodeRecord(**{**record, "speakers": tuple(record["speakers"]),
                                           "new_speakers": tuple(record["new_speakers"]),
                                           "review": tuple(Review(**r) for r in record["review"])})
                    for name, record in data["episodes"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return State()
    return State(voices, episodes)


def write_state(out_dir: Path, state: State) -> None:
    """Write the state file atomically."""
    data = {"version": STATE_VERSION, "voices": {k: dataclasses.asdict(v) for k, v in state.voices.items()},
            "episodes": {k: dataclasses.asdict(r) for k, r in state.episodes.items()}}
    write_text_atomic(out_dir / STATE_FILE, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


class SeriesBusy(AudiodramaError):
    """Another batch holds the series' lock."""


@contextmanager
def series_lock(out_dir: Path) -> Iterator[None]:
    """Hold the output folder's lock for the duration; SeriesBusy when another batch holds it.

    The lock is an flock on `LOCK_FILE`: the system releases it when its process dies, so a lock left
    by a killed batch never blocks the next one.
    """
    with open(out_dir / LOCK_FILE, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise SeriesBusy(f"another batch is building this series ({holder})", path=out_dir,
                             hint="wait for it to finish, or stop it and run again") from None
        handle.truncate(0)
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, since {_now()}\n")
        handle.flush()
        yield


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
