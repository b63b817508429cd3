"""Loudness after ITU-R BS.1770 (K-weighting and gating as pyloudnorm defines them), measured as a
stream so an episode of any length is measured in constant memory, and a true-peak limiter.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy  # submodules load when first used: a re-run with nothing to master never pays for scipy.signal

ABSOLUTE_GATE = -70.0
"""Blocks quieter than this (LUFS) never count."""
RELATIVE_GATE = 10.0
"""Blocks more than this many LU below the ungated mean do not count."""
OVERSAMPLING = 4
"""True peak is estimated on the signal upsampled this many times."""


def db_to_gain(db: float) -> float:
    """Linear amplitude factor for a level change in dB."""
    return float(10 ** (db / 20))


@dataclass(frozen=True)
class Loudness:
    """What a measurement found."""

    integrated: float
    """Integrated, gated loudness in LUFS (-inf for silence)."""
    true_peak: float
    """Highest true (oversampled) peak in dBTP; the sample peak (dBFS) where true peaks were not asked for."""


@functools.cache
def k_weighting(sample_rate: int) -> tuple[np.ndarray, float]:
    """BS.1770's K-weighting filter at `sample_rate` as pyloudnorm designs it: (second-order sections,
    passband gain)."""
    import pyloudnorm  # here, not at the top: it imports scipy.signal, about a second

    stages = list(pyloudnorm.Meter(sample_rate)._filters.values())
    sections = np.array([np.concatenate([stage.b, stage.a]) / stage.a[0] for stage in stages])
    return sections, float(np.prod([stage.passband_gain for stage in stages]))


class LoudnessMeter:
    """BS.1770 integrated loudness and peak of mono audio fed in blocks of any size."""

    def __init__(self, sample_rate: int, true_peaks: bool = True) -> None:
        """`true_peaks=False` measures sample peaks only, which is much cheaper than oversampling."""
        self.sample_rate = sample_rate
        self._true_peaks = true_peaks
        self._sections, self._gain = k_weighting(sample_rate)
        self._state = np.zeros((len(self._sections), 2))
        self._step = round(0.1 * sample_rate)  # gating blocks of 400 ms advance by 100 ms
        self._pending = np.zeros(0)
        self._step_energies: list[float] = []
        self._peak = 0.0

    def feed(self, samples: np.ndarray) -> None:
        """Measure the next stretch of audio."""
        if not len(samples):
            return
        peak = true_peak(samples) if self._true_peaks else float(np.abs(samples).max())
        self._peak = max(self._peak, peak)
        weighted, self._state = scipy.signal.sosfilt(self._sections, samples.astype(np.float64), zi=self._state)
        weighted = weighted * self._gain
        pending = np.concatenate([self._pending, weighted**2])
        steps = len(pending) // self._step
        if steps:
            sums = pending[: steps * self._step].reshape(steps, self._step).sum(axis=1)
            self._step_energies.extend(sums.tolist())
        self._pending = pending[steps * self._step:]

    def result(self) -> Loudness:
        """Loudness of everything fed so far."""
        energies = np.asarray(self._step_energies)
        if len(energies) < 4:
            energies = np.append(energies, self._pending.sum())
            blocks = np.array([energies.sum() / max(1, len(energies) * self._step)])
        else:
            window = np.convolve(energies, np.ones(4), mode="valid")
            blocks = window / (4 * self._step)
        with np.errstate(divide="ignore"):
            levels = -0.691 + 10 * np.log10(blocks)
        gated = blocks[levels >= ABSOLUTE_GATE]
        if not len(gated):
            return Loudness(float("-inf"), _to_db(self._peak))
        relative = -0.691 + 10 * np.log10(gated.mean()) - RELATIVE_GATE
        kept = blocks[(levels >= ABSOLUTE_GATE) & (levels > relative)]
        return Loudness(float(-0.691 + 10 * np.log10(kept.mean())), _to_db(self._peak))


def _to_db(amplitude: float) -> float:
    return float(20 * np.log10(amplitude)) if amplitude > 0 else float("-inf")


def measure(samples: np.ndarray, sample_rate: int, true_peaks: bool = True) -> Loudness:
    """Loudness of a whole signal held in memory (a clip)."""
    meter = LoudnessMeter(sample_rate, true_peaks)
    meter.feed(samples)
    return meter.result()


@functools.cache
def interpolator() -> np.ndarray:
    """The low-pass that upsampling interpolates with: `resample_poly`'s own default, designed once."""
    return scipy.signal.firwin(20 * OVERSAMPLING + 1, 1 / OVERSAMPLING, window=("kaiser", 5.0))


def upsampled_peaks(samples: np.ndarray) -> np.ndarray:
    """Per input sample, the largest magnitude among its oversampled neighbours."""
    upsampled = np.abs(scipy.signal.resample_poly(samples.astype(np.float64), OVERSAMPLING, 1, window=interpolator()))
    # the largest of each sample's OVERSAMPLING values, phase by phase: numpy reduces a short last axis slowly
    peaks = functools.reduce(np.maximum, [upsampled[phase::OVERSAMPLING] for phase in range(OVERSAMPLING)])
    return np.maximum(peaks, np.abs(samples))


def true_peak(samples: np.ndarray) -> float:
    """Largest magnitude of the signal upsampled four times (linear)."""
    return float(upsampled_peaks(samples).max()) if len(samples) else 0.0


def limit(samples: np.ndarray, ceiling_db: float, sample_rate: int, lookahead_ms: float = 5.0,
          peaks: np.ndarray | None = None) -> np.ndarray:
    """Keep true peaks at or under `ceiling_db` with a smooth look-ahead gain, leaving quieter audio alone.

    `peaks` may give `upsampled_peaks(samples)` when already known (it scales with the samples).
    """
    ceiling = db_to_gain(ceiling_db)
    peaks = upsampled_peaks(samples) if peaks is None else peaks
    if peaks.max() <= ceiling:
        return samples
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    width = max(1, round(lookahead_ms * sample_rate / 1000))
    # The minimum over twice the width, then averaged over the width, never exceeds the need at a peak.
    gain = scipy.ndimage.uniform_filter1d(scipy.ndimage.minimum_filter1d(needed, 2 * width + 1), 2 * width + 1)
    return (samples * gain).astype(samples.dtype)


def limit_stream(blocks: Iterable[np.ndarray], ceiling_db: float, sample_rate: int,
                 lookahead_ms: float = 5.0) -> Iterator[np.ndarray]:
    """`limit` over a stream of blocks, block sizes and timing kept: each block is limited with its
    neighbours' edges as context, so it is given out one block later."""
    context = 4 * max(1, round(lookahead_ms * sample_rate / 1000)) + 64
    previous: np.ndarray | None = None
    before = np.zeros(0, dtype=np.float32)
    for block in blocks:
        if previous is not None:
            yield _limited_middle(before, previous, block[:context], ceiling_db, sample_rate, lookahead_ms)
            before = np.concatenate([before, previous])[-context:]
        previous = block
    if previous is not None:
        yield _limited_middle(before, previous, np.zeros(0, dtype=np.float32), ceiling_db, sample_rate, lookahead_ms)


def _limited_middle(before: np.ndarray, middle: np.ndarray, after: np.ndarray, ceiling_db: float,
                    sample_rate: int, lookahead_ms: float) -> np.ndarray:
    joined = np.concatenate([before, middle, after])
    return limit(joined, ceiling_db, sample_rate, lookahead_ms)[len(before): len(before) + len(middle)]
