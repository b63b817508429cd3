"""Mixing: place every clip on the episode's timeline with pauses that follow the drama's rhythm.

The audio is rendered as a stream of blocks, so an episode never has to sit whole in memory;
clips are joined from raw samples, never by repeated concatenation.
"""

from __future__ import annotations

import hashlib
import wave
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
from scipy.signal import butter, sosfilt, sosfilt_zi

from audiodrama.errors import InputError, ToolError
from audiodrama.files import atomic_path
from audiodrama.mixing.audio import decode, load_clip
from audiodrama.mixing.loudness import Loudness, LoudnessMeter, db_to_gain, limit, measure, upsampled_peaks
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


@dataclass(frozen=True)
class Levels:
    """Loudness targets: every voice levelled, the episode normalised, peaks limited."""

    speech_lufs: float = bounded(-18.0, -40, -6)
    """Each clip's loudness before the episode gain (all voices equally loud)."""
    target_lufs: float = bounded(-16.0, -36, -6)
    """Integrated loudness of the finished episode (podcast standard)."""
    true_peak_db: float = bounded(-1.0, -12, 0)
    """Highest true peak allowed in the finished episode, dBTP."""
    limiter_margin_db: float = bounded(2.5, 0, 6)
    """Headroom the clips' limiter keeps under the ceiling at the predicted gain (room for the MP3
    encoder's loudness shift and overshoot), so the final limiter seldom has work."""
    encoder_headroom_db: float = bounded(2.0, 0, 6)
    """The final limiter, on the mix as it goes to the encoder, keeps true peaks this far under
    `true_peak_db`: the MP3 encoder's overshoot."""
    thought_gain_db: float = bounded(-5.0, -30, 6)
    """Thoughts are this much quieter than speech."""
    thought_echo_ms: int = bounded(110, 0, 1000)
    """Delay of the echo that marks a thought."""
    thought_echo_decay: float = bounded(0.35, 0, 0.95)
    """Amplitude of each echo repeat relative to the previous one."""
    thought_echo_repeats: int = bounded(2, 0, 8)
    """How many echo repeats a thought gets."""


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


MASTERING_REVISION = 1
"""Bump when mastering changes, so cached mastered clips are made anew."""
MUSIC_DB = -3.0
"""Intro and outro music sit this much under the speech level."""
MASTERING_PASSES = 4
"""Level-then-limit rounds per clip at most; each brings its loudness closer to `speech_lufs`."""


def echo(samples: np.ndarray, levels: Levels, sample_rate: int) -> np.ndarray:
    """The clip followed by its fading repeats: how a thought sounds."""
    delay = round(levels.thought_echo_ms * sample_rate / 1000)
    echoed = np.zeros(len(samples) + delay * levels.thought_echo_repeats, dtype=np.float32)
    for repeat in range(levels.thought_echo_repeats + 1):
        echoed[repeat * delay: repeat * delay + len(samples)] += samples * levels.thought_echo_decay**repeat
    return echoed


def default_ceiling(levels: Levels) -> float:
    """The clip ceiling (dBTP) that the predicted episode gain (target minus speech level) carries to
    `true_peak_db - limiter_margin_db`."""
    return levels.true_peak_db - levels.limiter_margin_db - (levels.target_lufs - levels.speech_lufs)


def master(samples: np.ndarray, levels: Levels, sample_rate: int, thought: bool, ceiling: float) -> np.ndarray:
    """Level a clip to `speech_lufs` with its true peaks limited under `ceiling` (dBTP); thoughts
    echoed and `thought_gain_db` quieter."""
    if thought:
        samples = echo(samples, levels, sample_rate)
    wanted = levels.speech_lufs + (levels.thought_gain_db if thought else 0.0)
    peaks = upsampled_peaks(samples)
    gain, mastered, slope = 0.0, samples, 1.0
    loudness = measure(samples, sample_rate, true_peaks=False).integrated
    for _ in range(MASTERING_PASSES):  # limiting eats loudness: aim again by the slope last observed
        if not np.isfinite(loudness) or abs(wanted - loudness) < 0.05:
            break
        step = (wanted - loudness) / slope
        factor = np.float32(db_to_gain(gain + step))
        mastered = limit(samples * factor, ceiling, sample_rate, peaks=peaks * factor)
        new_loudness = measure(mastered, sample_rate, true_peaks=False).integrated
        slope = min(1.0, max(0.2, (new_loudness - loudness) / step)) if step else 1.0
        gain, loudness = gain + step, new_loudness
    return mastered


def master_clip(clip_path: Path, thought: bool, levels: Levels, sample_rate: int, cache_dir: Path,
                ceiling: float) -> Path:
    """The mastered clip for a synthesised clip, made once and kept in `cache_dir/mastered`."""
    target = _mastered_path(cache_dir, (clip_path.stem, thought, levels, sample_rate, round(ceiling, 2)))
    if not target.exists():
        samples = load_clip(clip_path, sample_rate).astype(np.float32) / 32768
        write_clip(target, master(samples, levels, sample_rate, thought, round(ceiling, 2)), sample_rate)
    return target


def master_music(path: Path, levels: Levels, sample_rate: int, cache_dir: Path, fade_ms: float = 1500) -> Path:
    """Intro or outro music, levelled a little under speech, limited and faded out; cached by content."""
    if not path.is_file():
        raise InputError("music file not found", path=path, hint="check the intro/outro path in the settings")
    target = _mastered_path(cache_dir, (path.read_bytes(), levels, sample_rate, fade_ms))
    if not target.exists():
        try:
            samples = decode(path, sample_rate)
        except ToolError as error:
            raise InputError(f"cannot read this music file: {error.message}", path=path,
                             hint="give a WAV, MP3, OGG or FLAC file that plays") from None
        fade = min(len(samples), round(fade_ms * sample_rate / 1000))
        samples = samples.copy()
        samples[len(samples) - fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        music = replace(levels, speech_lufs=levels.speech_lufs + MUSIC_DB)
        write_clip(target, master(samples, music, sample_rate, False, default_ceiling(levels)), sample_rate)
    return target


def _mastered_path(cache_dir: Path, recipe: tuple) -> Path:
    """Where the mastered clip made by `recipe` is kept in `cache_dir` (keyed with `MASTERING_REVISION`)."""
    key = hashlib.sha256(repr((MASTERING_REVISION, *recipe)).encode("utf-8")).hexdigest()
    return cache_dir / "mastered" / key[:2] / f"{key}.wav"


def write_clip(target: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write float samples as a 16-bit mono WAV, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as temporary, wave.open(str(temporary), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(np.round(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def clip_frames(path: Path) -> tuple[int, int]:
    """(frames, sample rate) of a WAV clip, from its header."""
    with wave.open(str(path), "rb") as clip:
        return clip.getnframes(), clip.getframerate()


def render(timeline: Timeline, gain_db: float = 0.0, bed: BedSource | None = None,
           block: int = 1 << 16) -> Iterator[np.ndarray]:
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


def measure_episode(blocks: Iterable[np.ndarray], sample_rate: int, true_peaks: bool = False) -> Loudness:
    """Loudness of a rendered episode, measured block by block (true peaks only when asked)."""
    meter = LoudnessMeter(sample_rate, true_peaks)
    for samples in blocks:
        meter.feed(samples)
    return meter.result()


def lowpass_stream(blocks: Iterable[np.ndarray], cutoff_hz: float, sample_rate: int) -> Iterator[np.ndarray]:
    """A steep low-pass over a stream of blocks (state carried across them).

    Run before the final limiter, it removes what the MP3 encoder would cut anyway: content the
    encoder removes after the limiter is what makes its peaks overshoot.
    """
    sections = butter(8, min(cutoff_hz, 0.45 * sample_rate), fs=sample_rate, output="sos")
    state = sosfilt_zi(sections) * 0.0
    for block in blocks:
        filtered, state = sosfilt(sections, block, zi=state)
        yield filtered.astype(np.float32)


def encoder_cutoff(sample_rate: int) -> float:
    """Where the MP3 encoder's own low-pass sits, about: 40% of the sample rate, at most 16 kHz."""
    return min(0.4 * sample_rate, 16_000.0)
