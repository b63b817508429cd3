"""The default engine: pyttsx3 over libespeak-ng, used so that its known faults cannot bite.

pyttsx3 2.99's espeak driver, measured with libespeak-ng 1.51 and 1.52: its first `runAndWait()`
returns before the file is written; several saves before one `runAndWait()` write only the last;
a `runAndWait()` with nothing queued hangs; an unwritable path hangs; texts over about 14,000
characters segfault (it tells espeak the text is ten times its length); `[[...]]` phonemes are
read out symbol by symbol; `getProperty('rate')` is stale (it calls `espeak_GetParameter` without
its second argument) and property sets queued behind a cancelled utterance are lost; every save
prints "Audio saved to" on stdout. So this engine makes one save per `runAndWait()` and waits for
the driver's own end-of-utterance event, gives espeak the true length and the phoneme flag, sets
the voice and parameters straight through the library before every line and reads them back
correctly, and leaves the rest to the worker processes of `audiodrama.synthesis.clips` (short pieces,
timeouts, stdout to /dev/null, checked clips).
"""

from __future__ import annotations

import ctypes
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import ClassVar

from audiodrama import runtime
from audiodrama.synthesis.engine import Engine, VoiceInfo
from audiodrama.synthesis.voices import Voice

REVISION = 2
"""Bumped whenever this wrapper changes what a clip sounds like; part of the cache key."""

SET_ATTEMPTS = 3
"""How many times voice settings are applied before a line is given up on."""

IDLE_WAIT = 5.0
"""Seconds to wait for espeak to finish queued commands before a line is given up on."""


class Pyttsx3Engine(Engine):
    """pyttsx3's espeak driver, driven one utterance at a time."""

    name: ClassVar[str] = "pyttsx3"
    max_chars: ClassVar[int] = 1000  # far below the ~14,000-character segfault; quadratic cost stays small

    @classmethod
    def info(cls) -> dict[str, str]:
        espeak = runtime.espeak()
        return {
            "name": cls.name,
            "version": f"pyttsx3 {metadata.version('pyttsx3')}, espeak-ng {espeak.version}, wrapper {REVISION}",
            "library": espeak.library,
            "data": espeak.data_dir,
            "source": espeak.source,
        }

    def __init__(self) -> None:
        runtime.load_espeak_for_pyttsx3()
        import pyttsx3
        from pyttsx3.drivers import _espeak

        self._espeak = _espeak
        # pyttsx3 hands espeak_Synth ten times the text's length as its size (espeak copies that
        # much: the segfault past ~14,000 characters) and no espeakPHONEMES flag (so `[[...]]`
        # phonemes are read out symbol by symbol). The driver looks `Synth` up at each call.
        def synth(text: bytes, flags: int = 0, **_: object) -> int:
            phonemes = flags | _espeak.PHONEMES
            return _espeak.cSynth(text, len(text) + 1, 0, _espeak.POS_CHARACTER, 0, phonemes, None, None)

        _espeak.Synth = synth
        # pyttsx3 declares espeak_GetParameter with one argument; the real one takes `current`.
        self._get_parameter = _espeak.dll.espeak_GetParameter
        self._get_parameter.argtypes = (ctypes.c_int, ctypes.c_int)
        self._get_parameter.restype = ctypes.c_int
        self._engine = pyttsx3.init("espeak")
        self._driver = self._engine.proxy._driver
        self._finished = threading.Event()
        self._completed = False
        self._engine.connect("finished-utterance", self._on_finished)
        self._voice_names: dict[str, str] = {}

    def _on_finished(self, name: str | None, completed: bool) -> None:
        self._completed = completed
        self._finished.set()

    def synthesize(self, text: str, voice: Voice, wav_path: Path) -> None:
        """One save, one `runAndWait()`, then wait for the driver's end-of-utterance event."""
        wanted = self._apply(voice)
        self._finished.clear()
        self._engine.save_to_file(text, str(wav_path))
        self._engine.runAndWait()
        self._finished.wait()  # the first runAndWait returns early; the pool's timeout guards a hang
        self._wait_idle()
        if not self._completed:
            raise RuntimeError("the utterance was cancelled")
        if self._current() != wanted:
            raise RuntimeError(f"engine settings changed during the line: {self._current()} != {wanted}")

    def voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo(v.id, v.name, tuple(v.languages), v.gender.lower() if v.gender else None)
            for v in self._driver.getProperty("voices")
        ]

    def _apply(self, voice: Voice) -> tuple[str, int, int, int]:
        """Set voice, rate, pitch and volume through the library, re-setting until they read back."""
        self._wait_idle()
        self._select_voice(voice.voice)
        wanted = (self._current()[0], voice.rate, voice.pitch, round(voice.volume * 100))
        parameters = (self._espeak.RATE, self._espeak.PITCH, self._espeak.VOLUME)
        for _ in range(SET_ATTEMPTS):
            for value, parameter in zip(wanted[1:], parameters, strict=True):
                self._espeak.SetParameter(parameter, value, 0)
            self._wait_idle()  # parameter sets are queued in espeak; a Cancel would drop them
            if self._current() == wanted:
                return wanted
        raise RuntimeError(f"engine ignored settings: {self._current()} != {wanted}")

    def _current(self) -> tuple[str, int, int, int]:
        """The library's own current voice, rate, pitch and volume (not pyttsx3's stale view)."""
        voice = self._espeak.GetCurrentVoice()
        identifier = voice.contents.identifier.decode() if voice and voice.contents.identifier else ""
        return (
            identifier,
            *(self._get_parameter(p, 1) for p in (self._espeak.RATE, self._espeak.PITCH, self._espeak.VOLUME)),
        )

    def _select_voice(self, wanted: str) -> None:
        """Select a voice by name or identifier, or by language code (`en-gb+f3` -> `gmw/en+f3`)."""
        if wanted not in self._voice_names:
            base, plus, variant = wanted.partition("+")
            by_language = [v.id for v in self.voices() if base.lower() in (x.lower() for x in v.languages)]
            for candidate in (wanted, *(f"{found}{plus}{variant}" for found in by_language)):
                if self._espeak.SetVoiceByName(candidate.encode()) == 0:
                    self._voice_names[wanted] = candidate
                    break
            else:
                raise ValueError(f"unknown voice {wanted!r}")
        if self._espeak.SetVoiceByName(self._voice_names[wanted].encode()) != 0:
            raise RuntimeError(f"espeak refused voice {wanted!r}")

    def _wait_idle(self) -> None:
        deadline = time.monotonic() + IDLE_WAIT
        while self._espeak.IsPlaying():
            if time.monotonic() > deadline:
                raise RuntimeError(f"espeak still busy after {IDLE_WAIT:g} s")
            time.sleep(0.002)
