"""The speech engine interface: what an engine must do, and finding one by name.

Engines implement the small `Engine` interface; one module in `audiodrama/synthesis/engines/` adds one.
They run only inside worker processes (`synthesis.pool`); the main process asks them only `info()`.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from audiodrama.errors import EngineError
from audiodrama.synthesis.piper_voices import is_piper
from audiodrama.synthesis.voices import Voice

ENGINES = {
    "pyttsx3": "audiodrama.synthesis.engines.pyttsx3_engine:Pyttsx3Engine",
    "espeak-ng": "audiodrama.synthesis.engines.espeak_cli:EspeakCliEngine",
    "piper": "audiodrama.synthesis.engines.piper:PiperEngine",
}
"""Engine name -> `module:class`. An engine argument may also be a `module:class` path itself."""


@dataclass(frozen=True)
class VoiceInfo:
    """A voice an engine offers."""

    id: str
    """What `Voice.voice` takes, e.g. `gmw/en-us`."""
    name: str
    """Human-readable name, e.g. `English (America)`."""
    languages: tuple[str, ...] = ()
    """Language codes the voice speaks, e.g. `("en-us",)`."""
    gender: str | None = None
    """`male`, `female`, or None when the engine does not say."""


class Engine(ABC):
    """A speech synthesiser; one instance lives in each worker process and is reused for many lines."""

    name: ClassVar[str]
    """Short name, as the `engine:` production setting takes it."""
    max_chars: ClassVar[int] = 1000
    """Longest text handed to `synthesize` at once; longer lines are split at sentence boundaries."""
    warm_up_voice: ClassVar[Voice | None] = Voice()
    """The voice a new worker's engine speaks a first line with before real ones; None for no warm-up."""

    @classmethod
    @abstractmethod
    def info(cls) -> dict[str, str]:
        """`name`, `version` (part of every clip's cache key) and where the engine comes from.

        Cheap and safe to call in the main process: it must not load or start the synthesiser.
        """

    @abstractmethod
    def synthesize(self, text: str, voice: Voice, wav_path: Path) -> None:
        """Write `text` spoken with `voice` to `wav_path` as a mono 16-bit WAV; raise on failure."""

    def voices(self) -> list[VoiceInfo]:
        """The voices this engine offers (none known unless the engine says)."""
        return []

    @classmethod
    def voice_key(cls, voice: Voice) -> str:
        """What else decides the sound of `voice` (a model file's hash), for the cache key; cheap, in the
        main process. Empty for engines whose `info()` version says it all."""
        return ""


def engine_class(engine: str) -> type[Engine]:
    """The `Engine` subclass an engine name (or `module:class` path) names."""
    target = ENGINES.get(engine, engine)
    module_name, _, attribute = target.partition(":")
    if not attribute:
        raise EngineError(f"unknown speech engine {engine!r}", hint=f"choose one of {', '.join(ENGINES)}")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise EngineError(f"cannot load speech engine {engine!r}: {error}") from error
    if not (isinstance(found, type) and issubclass(found, Engine)):
        raise EngineError(f"{target} is not a speech engine")
    return found


def engine_for(voice: Voice, default: str) -> str:
    """The engine that speaks `voice`: Piper for a `piper:` spec, else `default`."""
    return "piper" if is_piper(voice.voice) else default


def engine_info(engine: str = "pyttsx3") -> dict[str, str]:
    """Name, version and origin (library path, `system` or `bundled`) of an engine, for `doctor`."""
    return engine_class(engine).info()
