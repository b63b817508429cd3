"""Small audio helpers over pydub and ffmpeg: reading clips, decoding any file to samples."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np

from audiodrama import runtime
from audiodrama.errors import ToolError

with warnings.catch_warnings():  # pydub warns at import when ffmpeg is not on PATH (we give it ours)
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", DeprecationWarning)  # audioop, on Python 3.11-3.12
    from pydub import AudioSegment


def load_clip(path: Path, sample_rate: int, volume: float = 1.0) -> np.ndarray:
    """A mono 16-bit WAV clip as int16 samples at `sample_rate`, scaled by `volume` (0-1)."""
    segment = AudioSegment.from_wav(path).set_channels(1).set_sample_width(2)
    if segment.frame_rate != sample_rate:
        segment = segment.set_frame_rate(sample_rate)
    if volume < 1.0:
        segment = segment.apply_gain(20 * np.log10(max(volume, 1e-4)))
    return np.frombuffer(segment.raw_data, dtype=np.int16)


def decode(path: Path, sample_rate: int = 22050) -> np.ndarray:
    """Decode any audio file ffmpeg reads into mono float32 samples in [-1, 1] at `sample_rate`."""
    command = [runtime.ffmpeg().executable, "-nostdin", "-v", "error", "-i", str(path),
               "-f", "f32le", "-ac", "1", "-ar", str(sample_rate), "pipe:1"]
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise ToolError(f"ffmpeg cannot decode {path}: {message[-1] if message else 'unknown error'}")
    return np.frombuffer(result.stdout, dtype=np.float32)
