"""Mixing: place every clip on the episode's timeline with pauses that follow the drama's rhythm.

The audio is rendered as a stream of blocks, so an episode never has to sit whole in memory;
clips are joined from raw samples, never by repeated concatenation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiodrama.audio import load_clip
from audiodrama.script import Segment


@dataclass(frozen=True)
class Pauses:
    """Silence, in milliseconds, inserted before a line according to what precedes it."""

    start: int = 700
    """Before the first line of the episode."""
    within_paragraph: int = 220
    """Between two lines of the same paragraph read by the same voice."""
    speaker_change: int = 380
    """Between two lines of the same paragraph read by different voices."""
    paragraph: int = 650
    """Before the first line of a new paragraph."""
    scene_break: int = 2000
    """Before the first line of a new scene."""
    end: int = 1500
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
        cues.append(Cue(line.segment, line.clip_path, line.volume, position, frames))
        position += frames
        previous = line
    position += round(pauses.end * sample_rate / 1000)
    return Timeline(tuple(cues), sample_rate, position)


def render(timeline: Timeline) -> Iterator[np.ndarray]:
    """The episode as consecutive int16 blocks: silence, then a clip, and so on."""
    position = 0
    for cue in timeline.cues:
        if cue.start > position:
            yield np.zeros(cue.start - position, dtype=np.int16)
        samples = load_clip(cue.clip_path, timeline.sample_rate, cue.volume)[: cue.frames]
        if len(samples) < cue.frames:  # resampling may round a sample short
            samples = np.concatenate([samples, np.zeros(cue.frames - len(samples), dtype=np.int16)])
        yield samples
        position = cue.end
    if timeline.frames > position:
        yield np.zeros(timeline.frames - position, dtype=np.int16)
