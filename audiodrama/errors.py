"""The product's own errors: one line for the user saying what, where and what to do."""

from __future__ import annotations

import signal
from pathlib import Path


class AudiodramaError(Exception):
    """An error the user can fix; the CLI prints `str(error)` on one line and exits with status 2."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        self.hint = hint

    @property
    def where(self) -> str:
        """`file:line:column` as far as it is known, or an empty string."""
        parts = [p for p in (self.path, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts)

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return " ".join(text.split())


class InputError(AudiodramaError):
    """A chapter, cast, script or manifest the product cannot use as given."""


class EngineError(AudiodramaError):
    """The speech engine failed on a line even after retries."""


class ToolError(AudiodramaError):
    """An external tool (ffmpeg, the engine library) is missing or failed."""


def exit_reason(code: int | None) -> str:
    """How a process ended, from its return code: `exit status 1`, `killed by signal 25 (SIGXFSZ)`."""
    if code is None:
        return "no exit status"
    if code >= 0:
        return f"exit status {code}"
    try:
        return f"killed by signal {-code} ({signal.Signals(-code).name})"
    except ValueError:
        return f"killed by signal {-code}"
