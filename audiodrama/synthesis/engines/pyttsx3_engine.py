"""The default engine: libespeak-ng through pyttsx3's bindings, one line per forked process, so that a
clip depends on its request alone.

espeak-ng keeps synthesis state in static variables no call resets: the pitch flutter's position,
the breath resonators, and the noise generator of breath and Klatt voices (the C library's `rand()`
before 1.52; since, its own, seeded from the clock). The same line said after different lines, or in
another process, came out a few samples longer or shorter, never byte-identical. Here the library
runs synchronously (no threads of its own), is initialised once and its noise seeded with a constant;
every line is then said by a forked child of that pristine process, which starts from the state as it
was after initialisation and takes whatever it changes with it when it exits. Every process on the
same library makes the same bytes for the same request. A fork costs a few milliseconds a line,
about what the driver loop's polling cost before.

pyttsx3 2.99's own driver loop is not used: measured with libespeak-ng 1.51 and 1.52, its first
`runAndWait()` returns before the file is written, several saves before one `runAndWait()` write only
the last, a `runAndWait()` with nothing queued hangs, an unwritable path hangs, texts over about 14,000
characters segfault (it tells espeak the text is ten times its length), `[[...]]` phonemes are read out
symbol by symbol, `getProperty('rate')` is stale and every save prints on stdout; and it needs the
asynchronous mode. The child calls `espeak_Synth` itself with the text's true length and the phoneme
flag, sets the voice and parameters straight through the library, reads them back, and writes the
samples its callback collected. The worker processes of `audiodrama.synthesis.clips` still bound
each line's time and check every clip.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import warnings
import wave
from importlib import metadata
from pathlib import Path
from typing import ClassVar

from audiodrama import runtime
from audiodrama.synthesis.engine import Engine, VoiceInfo
from audiodrama.synthesis.voices import Voice

REVISION = 3
"""Bumped whenever this wrapper changes what a clip sounds like; part of the cache key."""

BUFFER_MS = 1000
"""Length of espeak's output buffer: the callback receives samples in pieces this long."""

RANDOM_SEED = 1
"""Seed of espeak-ng's noise generator (its own since 1.52, seeded from the clock; the C library's
`rand()` before)."""

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a process receives when its parent dies."""


class Pyttsx3Engine(Engine):
    """libespeak-ng driven synchronously, each line in a fresh fork of the initialised library."""

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
        from pyttsx3.drivers import _espeak
        from pyttsx3.drivers.espeak import EspeakDriver

        self._espeak = _espeak
        self._list_voices = EspeakDriver.getProperty
        self.sample_rate = _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, BUFFER_MS)
        if self.sample_rate <= 0:
            raise RuntimeError("espeak-ng did not initialise")
        # pyttsx3 declares espeak_GetParameter with one argument; the real one takes `current`.
        self._get_parameter = _espeak.dll.espeak_GetParameter
        self._get_parameter.argtypes = (ctypes.c_int, ctypes.c_int)
        self._get_parameter.restype = ctypes.c_int
        self._samples: list[bytes] = []
        _espeak.SetSynthCallback(self._collect)
        _espeak.SetVoiceByName(Voice().voice.encode())  # loads the default dictionary here, not in every child
        seed = getattr(_espeak.dll, "espeak_ng_SetRandSeed", None) or ctypes.CDLL(None).srand
        seed(RANDOM_SEED)
        self._voice_names: dict[str, str] = {}

    def _collect(self, wav: int, count: int, _events: object) -> int:
        if count > 0:
            self._samples.append(ctypes.string_at(wav, 2 * count))
        return 0  # go on

    def synthesize(self, text: str, voice: Voice, wav_path: Path) -> None:
        """Say `text` in a forked child of this process, which is left as it was."""
        reader, writer = os.pipe()
        parent = os.getpid()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # threads of numpy's BLAS; the child uses none
            child = os.fork()
        if child == 0:
            os.close(reader)
            try:
                ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the pool may kill this process
                if os.getppid() != parent:
                    os._exit(1)
                answer: str | BaseException = self._say(text, voice, wav_path)
            except BaseException as error:  # it goes back to the parent, which raises it
                answer = error
            with contextlib.suppress(Exception), open(writer, "wb") as pipe:
                try:
                    pickle.dump(answer, pipe)
                except Exception:  # an exception that does not pickle goes back as its text
                    pickle.dump(RuntimeError(f"{type(answer).__name__}: {answer}"), pipe)
            os._exit(0)
        os.close(writer)
        with open(reader, "rb") as pipe:
            said = pipe.read()
        _, status = os.waitpid(child, 0)
        if not said:
            raise RuntimeError(f"espeak-ng {_ending(status)} while saying {text[:40]!r}")
        answer = pickle.loads(said)  # from our own child
        if isinstance(answer, BaseException):
            raise answer
        self._voice_names[voice.voice] = answer

    def _say(self, text: str, voice: Voice, wav_path: Path) -> str:
        """In the child: set the voice, synthesise, write the WAV; the voice name espeak took."""
        name = self._select_voice(voice.voice)
        wanted = (self._current()[0], voice.rate, voice.pitch, round(voice.volume * 100))
        for value, parameter in zip(wanted[1:], (self._espeak.RATE, self._espeak.PITCH, self._espeak.VOLUME),
                                    strict=True):
            self._espeak.SetParameter(parameter, value, 0)
        if self._current() != wanted:
            raise RuntimeError(f"engine ignored settings: {self._current()} != {wanted}")
        data = text.encode("utf-8")
        flags = self._espeak.ENDPAUSE | self._espeak.CHARS_UTF8 | self._espeak.PHONEMES
        status = self._espeak.cSynth(data, len(data) + 1, 0, self._espeak.POS_CHARACTER, 0, flags, None, None)
        if status != 0:
            raise RuntimeError(f"espeak_Synth failed with status {status}")
        with wave.open(str(wav_path), "wb") as clip:
            clip.setnchannels(1)
            clip.setsampwidth(2)
            clip.setframerate(self.sample_rate)
            clip.writeframes(b"".join(self._samples))
        return name

    def voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo(v.id, v.name, tuple(v.languages), v.gender.lower() if v.gender else None)
            for v in self._list_voices("voices")
        ]

    def _current(self) -> tuple[str, int, int, int]:
        """The library's own current voice, rate, pitch and volume (not pyttsx3's stale view)."""
        voice = self._espeak.GetCurrentVoice()
        identifier = voice.contents.identifier.decode() if voice and voice.contents.identifier else ""
        return (
            identifier,
            *(self._get_parameter(p, 1) for p in (self._espeak.RATE, self._espeak.PITCH, self._espeak.VOLUME)),
        )

    def _select_voice(self, wanted: str) -> str:
        """Select a voice by name or identifier, or by language code (`en-gb+f3` -> `gmw/en+f3`); the
        name that worked."""
        first = self._voice_names.get(wanted, wanted)
        if self._espeak.SetVoiceByName(first.encode()) == 0:
            return first
        base, plus, variant = wanted.partition("+")
        for found in (v.id for v in self.voices() if base.lower() in (x.lower() for x in v.languages)):
            if self._espeak.SetVoiceByName(f"{found}{plus}{variant}".encode()) == 0:
                return f"{found}{plus}{variant}"
        raise ValueError(f"unknown voice {wanted!r}")


def _ending(status: int) -> str:
    """How a child ended, from its wait status."""
    if os.WIFSIGNALED(status):
        return f"crashed ({signal.Signals(os.WTERMSIG(status)).name})"
    return f"exited with status {os.WEXITSTATUS(status)}"
