"""Knowing an episode's loudness before rendering it.

BS.1770's integrated loudness needs only the K-weighted energy of every 100 ms step of the mix. Each
mastered clip keeps its K-weighted energy in bins of a fifth of a step (`loudness.bin_length`) beside
it in the cache, measured when it was mastered; the bed's come from its loops' K-weighted power and
the gain the bed track gives them. The episode's bins are the clips' bins placed where the timeline
puts them (split between the two episode bins a clip's bin straddles) plus the bed's: signals that
do not correlate add their energies, which holds for speech over a noise bed and for a cross-fade
between two beds. What it leaves out: the K-weighting filter's ringing across clip edges and the
correlation of a bed with itself inside a bin, both small; the bed's part is estimated (its gain
sampled eight times a bin), so where the bed moves the loudness by more than `BED_TRUSTED_LU` the
episode is measured by rendering instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy  # scipy.signal loads when first used (see mixing.loudness)

from audiodrama.files import atomic_path
from audiodrama.mixing.ambience import BedTrack
from audiodrama.mixing.audio import load_clip
from audiodrama.mixing.loudness import bin_length, gated_loudness, k_weighting, metered
from audiodrama.mixing.timeline import Timeline

ENERGY_SUFFIX = ".energy.npy"
"""A mastered clip `<key>.wav` keeps its K-weighted energy bins in `<key>.energy.npy` beside it."""
BED_TRUSTED_LU = 0.5
"""Largest change (LU) the bed may make to the predicted loudness for the prediction to be used."""
GAIN_SAMPLES = 8
"""Points per bin at which the bed's gain is sampled."""
CHUNK_BINS = 4096
"""Bins whose bed energy is worked out at once (about 80 s of audio): bounds the memory it takes."""


def energy_path(clip: Path) -> Path:
    """Where a mastered clip's energy bins are kept."""
    return clip.with_suffix(ENERGY_SUFFIX)


def save_energies(clip: Path, energies: np.ndarray) -> None:
    """Keep `energies` (K-weighted energy bins) beside the mastered clip `clip`, atomically."""
    with atomic_path(energy_path(clip)) as temporary, temporary.open("wb") as out:
        np.save(out, np.asarray(energies, dtype=np.float64))


def clip_energies(clip: Path, sample_rate: int) -> np.ndarray:
    """A mastered clip's K-weighted energy bins at `sample_rate`: kept beside it, else measured (a clip
    mastered before they were kept) and kept."""
    try:
        return np.load(energy_path(clip))
    except (OSError, ValueError):
        samples = load_clip(clip, sample_rate).astype(np.float32) / 32768
        energies = metered(samples, sample_rate, true_peaks=False).bins()
        save_energies(clip, energies)
        return energies


def speech_energies(timeline: Timeline, count: int) -> np.ndarray | None:
    """The `count` energy bins of the timeline's clips in place (None when a clip's bins do not fit its
    cue: a clip at another rate than the episode's)."""
    rate = timeline.sample_rate
    size = bin_length(rate)
    total = np.zeros(count + 2)
    for cue in timeline.cues:
        energies = clip_energies(cue.clip_path, rate)
        if len(energies) != -(-cue.frames // size):
            return None
        energies = energies * max(min(cue.volume, 1.0), 1e-4) ** 2  # as `load_clip` scales it
        first, offset = divmod(cue.start, size)
        share = offset / size
        total[first: first + len(energies)] += energies * (1 - share)
        total[first + 1: first + 1 + len(energies)] += energies * share
    return total[:count]


def loop_power(loop: np.ndarray, sample_rate: int) -> np.ndarray:
    """Cumulative K-weighted energy of a loop played over and over (the filter's steady state), from 0:
    entry i is the energy of the loop's first i samples."""
    sections, gain = k_weighting(sample_rate)
    twice = np.tile(loop.astype(np.float64), 2)
    weighted = scipy.signal.sosfilt(sections, twice)[len(loop):] * gain
    return np.concatenate([[0.0], np.cumsum(weighted**2)])


def _looped_energy(power: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Energy of the looped loop over each [start, end) of the episode, from its `loop_power`."""
    length = len(power) - 1

    def upto(position: np.ndarray) -> np.ndarray:
        return position // length * power[-1] + power[position % length]

    return upto(ends) - upto(starts)


def bed_energies(bed: BedTrack, count: int) -> np.ndarray:
    """The bed's energy in each of the episode's `count` bins: per bed, its loop's energy there times
    its mean squared gain over the bin. Worked through `CHUNK_BINS` bins at a time, so memory stays
    the same however long the episode."""
    size = bin_length(bed.sample_rate)
    total = np.zeros(count)
    powers: dict[str, np.ndarray] = {}
    for first in range(0, count, CHUNK_BINS):
        starts = np.arange(first, min(first + CHUNK_BINS, count)) * size
        ends = np.minimum(starts + size, bed.frames)
        points = (starts[:, None] + (np.arange(GAIN_SAMPLES) + 0.5) * size / GAIN_SAMPLES).ravel()
        for name, gain in bed.gains(points):
            if name not in powers:
                powers[name] = loop_power(bed.loops[name], bed.sample_rate)
            squared = (gain**2).reshape(len(starts), GAIN_SAMPLES).mean(axis=1)
            total[first : first + len(starts)] += squared * _looped_energy(powers[name], starts, ends)
    return total


def predict_loudness(timeline: Timeline, bed: object) -> float | None:
    """The integrated loudness (LUFS) the timeline would measure rendered at 0 dB over `bed`, or None
    where the prediction cannot be trusted: a clip not at the episode's rate, a bed other than a
    `BedTrack`, or a bed that moves the loudness by more than `BED_TRUSTED_LU`."""
    rate = timeline.sample_rate
    size = bin_length(rate)
    count = -(-timeline.frames // size)
    speech = speech_energies(timeline, count)
    if speech is None or not (bed is None or isinstance(bed, BedTrack)):
        return None
    mixed = speech + bed_energies(bed, count) if bed is not None else speech
    loudness = _loudness(mixed, timeline.frames, size, rate)
    if not np.isfinite(loudness) or abs(loudness - _loudness(speech, timeline.frames, size, rate)) > BED_TRUSTED_LU:
        return None
    return loudness


def _loudness(bins: np.ndarray, frames: int, size: int, sample_rate: int) -> float:
    """Integrated loudness of an episode of `frames` samples from its energy bins (the last maybe partial)."""
    whole = frames // size
    return gated_loudness(bins[:whole], float(bins[whole]) if whole < len(bins) else 0.0, sample_rate)

