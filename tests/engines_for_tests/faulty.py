"""The pyttsx3 engine plus faults on demand, for testing how synthesis survives them.

A text starting with a marker triggers a real fault in the worker process before the rest is
spoken: `[segv]` (SIGSEGV), `[kill]` (SIGKILL), `[hang]` (sleeps for an hour), `[fail]` (raises),
`[silent]` (writes a silent clip), `[unwritable]` (has pyttsx3 save to a path it cannot write,
which hangs it) or `[exit]` (says why on stderr and exits with status 1). `[segv once=/a/path]`
faults only while the path does not exist, creating it, so the first attempt fails and the retry
succeeds. Every call is logged, one line of text per call, to the file `$FAULTY_ENGINE_LOG` when
that is set.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
import wave
from pathlib import Path
from typing import ClassVar

from audiodrama.synthesis.engines.pyttsx3_engine import Pyttsx3Engine
from audiodrama.synthesis.voices import Voice

LOG_ENV = "FAULTY_ENGINE_LOG"
MARKER = re.compile(r"\[(segv|kill|hang|fail|silent|unwritable|exit)(?: once=(\S+))?\]\s*(.*)", re.DOTALL)


class FaultyEngine(Pyttsx3Engine):
    """pyttsx3 that crashes, hangs, fails or goes silent when a line asks it to."""

    name: ClassVar[str] = "faulty-pyttsx3"

    @classmethod
    def info(cls) -> dict[str, str]:
        return {**super().info(), "name": cls.name}

    def synthesize(self, text: str, voice: Voice, wav_path: Path) -> None:
        if os.environ.get(LOG_ENV):
            with open(os.environ[LOG_ENV], "a", encoding="utf-8") as log:
                log.write(" ".join(text.split()) + "\n")
        match = MARKER.match(text)
        if not match:
            super().synthesize(text, voice, wav_path)
            return
        fault, once, rest = match.groups()
        if once is None or not Path(once).exists():
            if once:
                Path(once).touch()
            if fault == "silent":
                with wave.open(str(wav_path), "wb") as clip:
                    clip.setnchannels(1)
                    clip.setsampwidth(2)
                    clip.setframerate(22050)
                    clip.writeframes(bytes(2 * 22050 * max(1, len(rest.split()) // 3)))
                return
            if fault == "unwritable":
                super().synthesize(rest, voice, Path("/nonexistent") / wav_path.name)
            {
                "segv": lambda: os.kill(os.getpid(), signal.SIGSEGV),
                "kill": lambda: os.kill(os.getpid(), signal.SIGKILL),
                "hang": lambda: time.sleep(3600),
                "exit": lambda: print("espeak: cannot read phontab", file=sys.stderr, flush=True) or os._exit(1),
            }.get(fault, lambda: None)()
            raise RuntimeError(f"asked to fail on {rest[:20]!r}")
        super().synthesize(rest, voice, wav_path)


class BrokenEngine(FaultyEngine):
    """An engine that never starts."""

    def __init__(self) -> None:
        raise RuntimeError("no voice data")
