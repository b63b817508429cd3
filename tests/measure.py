"""Measurements the tests make on real audio: levels, silences, pitch; and test tones to mix."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def wav_samples(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit mono WAV as float samples in [-1, 1], and its rate."""
    with wave.open(str(path)) as clip:
        frames = clip.readframes(clip.getnframes())
        return np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768, clip.getframerate()


def write_tone(path: Path, seconds: float, frequency: float, rate: int = 22050, amplitude: float = 0.5) -> Path:
    """Write a sine tone as a 16-bit mono WAV."""
    t = np.arange(int(seconds * rate)) / rate
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((amplitude * 32767 * np.sin(2 * np.pi * frequency * t)).astype("<i2").tobytes())
    return path


def rms_db(samples: np.ndarray) -> float:
    """RMS level in dB relative to full scale."""
    return float(10 * np.log10(np.mean(np.square(samples, dtype=np.float64)) + 1e-20))


def silences(samples: np.ndarray, rate: int, floor_db: float = -45, minimum: float = 0.1) -> list[tuple[float, float]]:
    """(start, length) in seconds of every stretch quieter than `floor_db` for at least `minimum` s."""
    window = rate // 100
    frames = len(samples) // window
    rms = np.sqrt(np.mean(samples[: frames * window].reshape(frames, window) ** 2, axis=1) + 1e-12)
    quiet = 20 * np.log10(rms) < floor_db
    found, start = [], None
    for index, is_quiet in enumerate([*quiet, False]):
        if is_quiet and start is None:
            start = index
        elif not is_quiet and start is not None:
            if (index - start) / 100 >= minimum:
                found.append((start / 100, (index - start) / 100))
            start = None
    return found


def fundamental_hz(samples: np.ndarray, rate: int) -> float:
    """Median fundamental frequency (Hz) of the voiced 40 ms frames, by autocorrelation.

    Frames quieter than a tenth of the loudest frame's RMS are left out as unvoiced or silent.
    """
    size, shortest, longest = int(0.04 * rate), rate // 400, rate // 60
    starts = range(0, len(samples) - size, size // 2)
    frames = [samples[start: start + size] - samples[start: start + size].mean() for start in starts]
    loudest = max(np.sqrt(np.mean(frame**2)) for frame in frames)
    found = []
    for frame in frames:
        if np.sqrt(np.mean(frame**2)) < 0.1 * loudest:
            continue
        correlation = np.correlate(frame, frame, "full")[size - 1:]
        lag = shortest + int(np.argmax(correlation[shortest:longest]))
        if correlation[lag] > 0.3 * correlation[0]:
            found.append(rate / lag)
    return float(np.median(found))
