"""Piper neural voices (VITS models run by onnxruntime on the CPU, offline) as an engine.

Installed with the `neural` extra. A worker loads each model the first time a line needs it and keeps
it for every later line. Rate maps to Piper's length scale; pitch is shifted afterwards by resampling
(the length scale compensates, so the duration stays the rate's); volume scales the samples.
"""

from __future__ import annotations

import ctypes
import re
import tempfile
import wave
from importlib import metadata
from pathlib import Path
from typing import ClassVar

import numpy as np

from audiodrama import runtime
from audiodrama.errors import EngineError
from audiodrama.synthesis import piper_voices
from audiodrama.synthesis.engine import Engine, VoiceInfo
from audiodrama.synthesis.voices import Voice

REVISION = 1
"""Bumped whenever this wrapper changes what a clip sounds like; part of the cache key."""
NATURAL_RATE = 165
"""Words per minute a Piper voice speaks at length scale 1 (near enough; `Voice`'s default rate)."""
PHONEME_SPAN = re.compile(r"\[\[([^\[\]]+)\]\]")
"""espeak phoneme input in a line, `[[kj'u:bi]]` (from the cast's pronunciations)."""
AUDIO_OUTPUT_RETRIEVAL, POS_CHARACTER, CHARS_UTF8, PHONEMES, PHONEMES_IPA = 1, 1, 1, 0x100, 0x02
"""Constants of espeak-ng's speak_lib.h."""
SEMITONES = 6.0
"""Pitch 0 and 100 lie this many semitones below and above the voice's own (50)."""


def pitch_factor(pitch: int) -> float:
    """How much higher than the voice's own a pitch of 0-100 sounds (1.0 at 50)."""
    return float(2 ** ((pitch - 50) / 50 * SEMITONES / 12))


class EspeakIpa:
    """espeak-ng's own phoneme mnemonics (`[[kj'u:bi]]`, as the cast's pronunciations write them) in
    the IPA Piper's raw phoneme input takes (`[[kjˈuːbi]]`): espeak-ng speaks them silently with an
    IPA phoneme trace, as `espeak-ng --ipa` does."""

    def __init__(self) -> None:
        found = runtime.espeak()
        self._lib = ctypes.CDLL(found.library)
        self._libc = ctypes.CDLL(None)
        self._libc.fopen.restype = ctypes.c_void_p
        self._libc.fopen.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
        self._libc.fclose.argtypes = (ctypes.c_void_p,)
        self._lib.espeak_SetPhonemeTrace.argtypes = (ctypes.c_int, ctypes.c_void_p)
        self._lib.espeak_Synth.argtypes = (ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                           ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p)
        if self._lib.espeak_Initialize(AUDIO_OUTPUT_RETRIEVAL, 0, str(found.data_dir).encode(), 0) <= 0:
            raise RuntimeError("espeak-ng did not start")

    def ipa(self, phonemes: str, language: str) -> str:
        """The IPA of espeak phoneme mnemonics, spoken as `language`'s phonemes."""
        self._lib.espeak_SetVoiceByName(language.encode())
        with tempfile.NamedTemporaryFile("r", encoding="utf-8", suffix=".txt") as trace:
            handle = self._libc.fopen(trace.name.encode(), b"w")
            self._lib.espeak_SetPhonemeTrace(PHONEMES_IPA, handle)
            text = f"[[{phonemes}]]".encode()
            self._lib.espeak_Synth(text, len(text) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8 | PHONEMES, None, None)
            self._lib.espeak_Synchronize()
            self._lib.espeak_SetPhonemeTrace(0, None)
            self._libc.fclose(handle)
            return " ".join(trace.read().split())


class PiperEngine(Engine):
    """`piper.PiperVoice`, one loaded model per model file per worker."""

    name: ClassVar[str] = "piper"
    max_chars: ClassVar[int] = 1000
    warm_up_voice: ClassVar[Voice | None] = None  # models load on their first line; nothing to warm

    @classmethod
    def info(cls) -> dict[str, str]:
        try:
            version = metadata.version("piper-tts")
        except metadata.PackageNotFoundError:
            raise EngineError("Piper voices need the piper-tts package",
                              hint="pip install 'audiodrama[neural]'") from None
        return {"name": cls.name, "version": f"piper-tts {version}, wrapper {REVISION}", "source": "piper-tts"}

    @classmethod
    def voice_key(cls, voice: Voice) -> str:
        """The model and config files' hashes: replacing a voice file re-synthesises its lines."""
        model = piper_voices.resolve(voice.voice).model
        return f"{piper_voices.model_hash(model.path)}:{piper_voices.model_hash(model.config)}"

    def __init__(self) -> None:
        self._loaded: dict[Path, object] = {}
        self._ipa: EspeakIpa | None = None

    def _phonemes(self, text: str, language: str) -> str:
        """`text` with its espeak `[[...]]` phonemes in IPA."""
        if not PHONEME_SPAN.search(text):
            return text
        self._ipa = self._ipa or EspeakIpa()
        ipa = self._ipa
        return PHONEME_SPAN.sub(lambda found: f"[[{ipa.ipa(found.group(1), language)}]]", text)

    def _model(self, path: Path) -> object:
        if path not in self._loaded:
            from piper import PiperVoice

            try:
                self._loaded[path] = PiperVoice.load(path, download_dir=path.parent)
            except Exception as error:
                raise ValueError(f"cannot load Piper model {path}: {type(error).__name__}: {error}") from error
        return self._loaded[path]

    def synthesize(self, text: str, voice: Voice, wav_path: Path) -> None:
        from piper import SynthesisConfig

        chosen = piper_voices.resolve(voice.voice)
        factor = pitch_factor(voice.pitch)
        config = SynthesisConfig(speaker_id=chosen.speaker, length_scale=NATURAL_RATE / voice.rate * factor,
                                 volume=voice.volume, normalize_audio=True)
        model = self._model(chosen.model.path)
        spoken = self._phonemes(text, chosen.model.language)
        samples = np.concatenate([chunk.audio_int16_array for chunk in model.synthesize(spoken, config)])
        if factor != 1.0:  # played `factor` times faster: higher by that much, as long as the rate says
            positions = np.arange(0, len(samples) - 1, factor)
            samples = np.interp(positions, np.arange(len(samples)), samples).round().astype(np.int16)
        with wave.open(str(wav_path), "wb") as clip:
            clip.setnchannels(1)
            clip.setsampwidth(2)
            clip.setframerate(chosen.model.sample_rate)
            clip.writeframes(samples.astype("<i2").tobytes())

    def voices(self) -> list[VoiceInfo]:
        return list_piper_voices()


def list_piper_voices() -> list[VoiceInfo]:
    """Every installed Piper voice and speaker, as cast specs."""
    found = []
    for model in piper_voices.installed():
        speakers = model.speakers or ("",)
        for number, speaker in enumerate(speakers):
            voice = piper_voices.PiperVoice(model, number if model.speakers else None)
            label = f"{model.name} ({speaker})" if speaker else model.name
            found.append(VoiceInfo(voice.spec, label, (), model.gender))
    return found
