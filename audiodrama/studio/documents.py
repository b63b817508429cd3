"""The files the studio opened and writes: each episode's chapter and script file, and the cast file.
A write is atomic and never lands over a change made to the file outside the studio."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from audiodrama.errors import InputError
from audiodrama.files import atomic_path, write_text_atomic
from audiodrama.settings import Settings


class StaleVersion(InputError):
    """A change made against an older state than the studio's (another tab changed it since)."""


@dataclass(frozen=True)
class Source:
    """One episode the studio opened."""

    number: int
    """Its number, from 1."""
    chapter: Path
    """The chapter text (never written), or the script file it was given."""
    name: str
    """The episode's file name without extension: `<output>/<name>.mp3`."""
    title: str
    """The title a series manifest gives it, else empty."""
    script_file: Path
    """Where the edited script is saved: `<output>/<name>.script.yaml`, or the script file given."""
    settings: Settings
    """How it is produced."""


class Document:
    """A file the studio writes atomically, refusing to overwrite changes made to it by anyone else."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.digest = ""

    def read(self) -> str:
        """The file's text, remembered as the state the studio knows."""
        text = self.path.read_text(encoding="utf-8")
        self.digest = hashlib.sha256(text.encode()).hexdigest()
        return text

    def write(self, text: str, check: Callable[[Path], object] | None = None) -> None:
        """Replace the file by `text`, whole or not at all; `check(temporary path)` may refuse the text first.
        Refused when the file changed on disk since the studio last read or wrote it."""
        try:
            now = hashlib.sha256(self.path.read_bytes()).hexdigest() if self.path.exists() else ""
        except OSError as error:
            raise InputError(f"cannot read {error.strerror}", path=self.path) from None
        if now != self.digest:
            raise StaleVersion("changed outside the studio since it was opened; nothing was saved", path=self.path,
                               hint="press Reload to load the file as it is now")
        if check is None:
            write_text_atomic(self.path, text)
        else:
            with atomic_path(self.path) as temporary:
                temporary.write_text(text, encoding="utf-8")
                check(temporary)
        self.digest = hashlib.sha256(text.encode()).hexdigest()
