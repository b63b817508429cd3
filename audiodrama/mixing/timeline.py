"""Mixing: place every clip on the episode's timeline with pauses that follow the drama's rhythm.

The audio is rendered as a stream of blocks, so an episode never has to sit whole in memory;
clips are joined from raw samples, never by repeated concatenation.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from audiodrama.mixing.audio import load_clip
from audiodrama.mixing.loudness import db_to_gain
from audiodrama.script import Segment
from audiodrama.yamlfile import bounded


@dataclass(frozen=True)
class Pauses:
    """Silence, in milliseconds, inserted before a line according to what precedes it."""

    start: int = bounded(700, 0, 30_000)
    """Before the first line of the episode."""
    within_paragraph: int = bounded(220, 0, 10_000)
    """Between two lines of the same paragraph read by the same voice."""
    speaker_change: int = bounded(380, 0, 10_000)
    """Between two lines of the same paragraph read by different voices."""
    paragraph: int = bounded(650, 0, 10_000)
    """Before the first line of a new paragraph."""
    scene_break: int = bounded(2000, 0, 30_000)
    """Before the first line of a new scene."""
    end: int = bounded(1500, 0, 30_000)
    """After the last line of the episode."""


@dataclass(frozen=True)
class Cue:
    """One clip placed on the timeline."""

    segment: Segment
    """The script segment it voices."""
    clip_path: Path
    """The WAV clip."""
    volume: float
    """Gain applied to the clip, 0-1."""
    start: int
    """First sample of the clip in the episode."""
    frames: int
    """Length of the clip in samples at the episode's rate."""
    source: Path | None = None
    """The synthesised clip the placed one was mastered from, when it was."""

    @property
    def end(self) -> int:
        """Sample just past the clip."""
        return self.start + self.frames


@dataclass(frozen=True)
class Timeline:
    """Where every clip sits in the episode."""

    cues: tuple[Cue, ...]
    """Placed clips, in order."""
    sample_rate: int
    """Samples per second of the episode."""
    frames: int
    """Total length in samples, trailing pause included."""

    @property
    def seconds(self) -> float:
        """Total length in seconds."""
        return self.frames / self.sample_rate


def pause_before(previous: Segment | None, segment: Segment, voice_changed: bool, pauses: Pauses) -> int:
    """Milliseconds of silence before `segment`, given the segment read before it."""
    if previous is None:
        return pauses.start
    if segment.scene != previous.scene:
        return pauses.scene_break
    if segment.paragraph != previous.paragraph:
        return pauses.paragraph
    return pauses.speaker_change if voice_changed else pauses.within_paragraph


@dataclass(frozen=True)
class Placement:
    """What the mixer needs to know about one line before placing it."""

    segment: Segment
    """The script segment."""
    clip_path: Path
    """Its synthesised clip."""
    clip_frames: int
    """The clip's length in samples at its own rate."""
    clip_rate: int
    """The clip's sample rate."""
    voice_key: str
    """Identifies the voice reading it (pauses lengthen when the voice changes)."""
    volume: float
    """Gain for the clip, 0-1."""
    source: Path | None = None
    """The synthesised clip `clip_path` was mastered from, when it was."""


def build_timeline(lines: Sequence[Placement], pauses: Pauses, sample_rate: int) -> Timeline:
    """Lay the lines out one after another with context-dependent pauses."""
    cues = []
    position = 0
    previous: Placement | None = None
    for line in lines:
        voice_changed = previous is not None and previous.voice_key != line.voice_key
        gap = pause_before(previous.segment if previous else None, line.segment, voice_changed, pauses)
        position += round(gap * sample_rate / 1000)
        frames = round(line.clip_frames * sample_rate / line.clip_rate)
        cues.append(Cue(line.segment, line.clip_path, line.volume, position, frames, line.source))
        position += frames
        previous = line
    position += round(pauses.end * sample_rate / 1000)
    return Timeline(tuple(cues), sample_rate, position)


class BedSource(Protocol):
    """Anything that gives the ambience under the episode, block by block."""

    def block(self, start: int, length: int) -> np.ndarray:
        """float32 samples of the bed from sample `start` for `length` samples."""
        ...


def clip_frames(path: Path) -> tuple[int, int]:
    """(frames, sample rate) of a WAV clip, from its header."""
    with wave.open(str(path), "rb") as clip:
        return clip.getnframes(), clip.getframerate()


RENDER_BLOCK = 1 << 16
"""Samples per block of a rendered episode."""


def render(timeline: Timeline, gain_db: float = 0.0, bed: BedSource | None = None,
           block: int = RENDER_BLOCK) -> Iterator[np.ndarray]:
    """The episode as consecutive float32 blocks of `block` samples (the last may be shorter), every
    clip and the bed scaled by `gain_db`. Only the clips sounding in the current block are in memory."""
    gain = np.float32(db_to_gain(gain_db))
    cues = iter(timeline.cues)
    upcoming = next(cues, None)
    sounding: list[tuple[Cue, np.ndarray]] = []
    for start in range(0, timeline.frames, block):
        end = min(start + block, timeline.frames)
        out = bed.block(start, end - start) if bed else np.zeros(end - start, dtype=np.float32)
        while upcoming is not None and upcoming.start < end:
            samples = load_clip(upcoming.clip_path, timeline.sample_rate, upcoming.volume)[: upcoming.frames]
            sounding.append((upcoming, samples.astype(np.float32) / 32768))
            upcoming = next(cues, None)
        for cue, samples in sounding:
            first, last = max(cue.start, start), min(cue.start + len(samples), end)
            if first < last:
                out[first - start: last - start] += samples[first - cue.start: last - cue.start]
        sounding = [(cue, samples) for cue, samples in sounding if cue.end > end]
        yield out * gain
