"""What a worker does with one line: cut the text into pieces the engine takes, speak each, check
every piece is a usable clip (a 16-bit mono WAV whose duration fits its text, not silent) and write
the joined clip into the cache whole."""

from __future__ import annotations

import os
import re
import wave
from pathlib import Path

import numpy as np

from audiodrama.synthesis.engine import Engine
from audiodrama.synthesis.voices import Voice

SILENCE_PEAK = 64
"""A clip whose samples all stay within this amplitude (of 32767) counts as silent."""

_OUTSIDE_PHONEMES = r"(?![^\[]*\]\])"  # never inside espeak's `[[...]]` phoneme input
_BREAKS = (
    re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+" + _OUTSIDE_PHONEMES),  # after a sentence
    re.compile(r"(?<=[,;:—–])\s+" + _OUTSIDE_PHONEMES),  # after a clause
    re.compile(r"\s+" + _OUTSIDE_PHONEMES),  # between words
)


def split_text(text: str, limit: int) -> list[str]:
    """`text` cut into pieces of at most `limit` characters, at sentence ends where possible."""
    return _pack(" ".join(text.split()), limit, 0)


def _pack(text: str, limit: int, level: int) -> list[str]:
    if len(text) <= limit:
        return [text] if text else []
    if level == len(_BREAKS):
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    pieces: list[str] = []
    for part in _BREAKS[level].split(text):
        for small in _pack(part, limit, level + 1):
            if pieces and len(pieces[-1]) + 1 + len(small) <= limit:
                pieces[-1] = f"{pieces[-1]} {small}"
            else:
                pieces.append(small)
    return pieces


def _words(text: str) -> tuple[int, int]:
    """(fewest, most) words `text` may take to say: digits may each become a word ("1999")."""
    fewest = len(re.findall(r"\w+", text))
    return fewest, fewest + len(re.findall(r"\d", text))


def read_clip(path: Path, text: str, voice: Voice) -> tuple[np.ndarray, int]:
    """The samples and rate of a freshly synthesised clip, or ValueError saying why it is unusable."""
    if not path.exists():
        raise ValueError("no file written")
    try:
        with wave.open(str(path), "rb") as clip:
            channels, width, rate, frames = (
                clip.getnchannels(),
                clip.getsampwidth(),
                clip.getframerate(),
                clip.getnframes(),
            )
            data = clip.readframes(frames)
    except (wave.Error, EOFError) as error:
        raise ValueError(f"not a valid WAV file: {error}") from error
    if channels != 1 or width != 2:
        raise ValueError(f"expected 16-bit mono, got {8 * width}-bit with {channels} channels")
    if len(data) != 2 * frames:
        raise ValueError(f"truncated: header says {frames} frames, file holds {len(data) // 2}")
    samples = np.frombuffer(data, dtype="<i2")
    fewest, most = _words(text)
    seconds = frames / rate
    minutes_per_word = 1 / max(voice.rate, 1)
    low, high = 0.25 * fewest * 60 * minutes_per_word, 4 * most * 60 * minutes_per_word + 2.0
    if not low <= seconds <= high:
        raise ValueError(f"{seconds:.2f} s of audio for {fewest} words at {voice.rate} wpm")
    if fewest and voice.volume > 0 and (not samples.size or np.abs(samples).max() <= SILENCE_PEAK):
        raise ValueError("silent")
    return samples, rate


def render_clip(engine: Engine, text: str, voice: Voice, dest: Path, scratch: Path) -> tuple[int, int]:
    """Synthesise `text` piece by piece, check every piece, and write the joined clip to `dest`."""
    parts, rates = [], set()
    for number, piece in enumerate(split_text(text, engine.max_chars)):
        path = scratch / f"{os.getpid()}-{number}.wav"
        path.unlink(missing_ok=True)
        engine.synthesize(piece, voice, path)
        try:
            samples, rate = read_clip(path, piece, voice)
        except ValueError as error:
            raise ValueError(f"bad clip for {piece[:40]!r}: {error}") from error
        parts.append(samples)
        rates.add(rate)
    if len(rates) != 1:
        raise ValueError(f"pieces came at different sample rates {sorted(rates)}")
    joined = np.concatenate(parts)
    rate = rates.pop()
    partial = scratch / f"{os.getpid()}-{dest.name}"
    with wave.open(str(partial), "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(joined.astype("<i2").tobytes())
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial, dest)  # the cache only ever holds whole clips
    return len(joined), rate
