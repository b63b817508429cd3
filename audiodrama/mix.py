"""Mixing: place every clip on the episode's timeline with pauses that follow the drama's rhythm.

The audio is rendered as a stream of blocks, so an episode never has to sit whole in memory;
clips are joined from raw samples, never by repeated concatenation.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from audiodrama.audio import load_clip
from audiodrama.loudness import Loudness, LoudnessMeter, db_to_gain, limit, measure
from audiodrama.script import THOUGHT, Segment


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


@dataclass(frozen=True)
class Levels:
    """Loudness targets: every voice levelled, the episode normalised, peaks limited."""

    speech_lufs: float = -18.0
    """Each clip's loudness before the episode gain (all voices equally loud)."""
    target_lufs: float = -16.0
    """Integrated loudness of the finished episode (podcast standard)."""
    true_peak_db: float = -1.0
    """Highest true peak allowed in the finished episode, dBTP."""
    limiter_margin_db: float = 0.5
    """Extra headroom under the ceiling for the limiter's estimate and the MP3 encoder's overshoot."""
    thought_gain_db: float = -5.0
    """Thoughts are this much quieter than speech."""
    thought_echo_ms: int = 110
    """Delay of the echo that marks a thought."""
    thought_echo_decay: float = 0.35
    """Amplitude of each echo repeat relative to the previous one."""
    thought_echo_repeats: int = 2
    """How many echo repeats a thought gets."""


def echo_tail(levels: Levels, sample_rate: int) -> int:
    """Samples a thought's echo adds after its clip."""
    return round(levels.thought_echo_ms * levels.thought_echo_repeats * sample_rate / 1000)


def build_timeline(lines: Sequence[Placement], pauses: Pauses, sample_rate: int,
                   levels: Levels | None = None) -> Timeline:
    """Lay the lines out one after another with context-dependent pauses (thoughts keep their echo)."""
    tail = echo_tail(levels or Levels(), sample_rate)
    cues = []
    position = 0
    previous: Placement | None = None
    for line in lines:
        voice_changed = previous is not None and previous.voice_key != line.voice_key
        gap = pause_before(previous.segment if previous else None, line.segment, voice_changed, pauses)
        position += round(gap * sample_rate / 1000)
        frames = round(line.clip_frames * sample_rate / line.clip_rate) + (tail if line.segment.kind == THOUGHT else 0)
        cues.append(Cue(line.segment, line.clip_path, line.volume, position, frames))
        position += frames
        previous = line
    position += round(pauses.end * sample_rate / 1000)
    return Timeline(tuple(cues), sample_rate, position)


class BedSource(Protocol):
    """Anything that gives the ambience under the episode, block by block."""

    def block(self, start: int, length: int) -> np.ndarray:
        """float32 samples of the bed from sample `start` for `length` samples."""
        ...


@functools.lru_cache(maxsize=4096)
def clip_loudness(path: Path, sample_rate: int) -> float:
    """Integrated loudness of a clip (LUFS); -inf when silent."""
    return measure(load_clip(path, sample_rate).astype(np.float32) / 32768, sample_rate).integrated


def prepare_clip(cue: Cue, sample_rate: int, levels: Levels, gain_db: float) -> np.ndarray:
    """The cue's clip as float32, levelled, its volume and the episode gain applied, thoughts echoed,
    and peaks limited under the ceiling."""
    samples = load_clip(cue.clip_path, sample_rate).astype(np.float32) / 32768
    loudness = clip_loudness(cue.clip_path, sample_rate)
    level = levels.speech_lufs - loudness if np.isfinite(loudness) else 0.0
    level += 20 * np.log10(max(cue.volume, 1e-4)) + gain_db
    if cue.segment.kind == THOUGHT:
        level += levels.thought_gain_db
        delay = round(levels.thought_echo_ms * sample_rate / 1000)
        echoed = np.zeros(len(samples) + delay * levels.thought_echo_repeats, dtype=np.float32)
        for repeat in range(levels.thought_echo_repeats + 1):
            echoed[repeat * delay: repeat * delay + len(samples)] += samples * levels.thought_echo_decay**repeat
        samples = echoed
    samples = samples * np.float32(db_to_gain(level))
    samples = limit(samples, levels.true_peak_db - levels.limiter_margin_db, sample_rate)
    return _fit(samples, cue.frames)


def _fit(samples: np.ndarray, frames: int) -> np.ndarray:
    if len(samples) >= frames:
        return samples[:frames]
    return np.concatenate([samples, np.zeros(frames - len(samples), dtype=np.float32)])


def render(timeline: Timeline, levels: Levels | None = None, gain_db: float = 0.0,
           bed: BedSource | None = None, block: int = 1 << 16) -> Iterator[np.ndarray]:
    """The episode as consecutive float32 blocks of `block` samples (the last may be shorter).

    Only the clips sounding in the current block are held in memory.
    """
    levels = levels or Levels()
    bed_gain = np.float32(db_to_gain(gain_db))
    cues = iter(timeline.cues)
    upcoming = next(cues, None)
    sounding: list[tuple[Cue, np.ndarray]] = []
    for start in range(0, timeline.frames, block):
        end = min(start + block, timeline.frames)
        out = bed.block(start, end - start) * bed_gain if bed else np.zeros(end - start, dtype=np.float32)
        while upcoming is not None and upcoming.start < end:
            sounding.append((upcoming, prepare_clip(upcoming, timeline.sample_rate, levels, gain_db)))
            upcoming = next(cues, None)
        for cue, samples in sounding:
            first, last = max(cue.start, start), min(cue.end, end)
            if first < last:
                out[first - start: last - start] += samples[first - cue.start: last - cue.start]
        sounding = [(cue, samples) for cue, samples in sounding if cue.end > end]
        yield out


def measure_episode(blocks: Iterable[np.ndarray], sample_rate: int) -> Loudness:
    """Loudness of a rendered episode, measured block by block."""
    meter = LoudnessMeter(sample_rate)
    for samples in blocks:
        meter.feed(samples)
    return meter.result()
