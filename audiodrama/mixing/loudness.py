"""Loudness after ITU-R BS.1770 (K-weighting and gating as pyloudnorm defines them), measured as a
stream so an episode of any length is measured in constant memory, and a true-peak limiter.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy  # submodules load when first used: a re-run with nothing to master never pays for scipy.signal

ABSOLUTE_GATE = -70.0
"""Blocks quieter than this (LUFS) never count."""
RELATIVE_GATE = 10.0
"""Blocks more than this many LU below the ungated mean do not count."""
BINS_PER_STEP = 5
"""Energy bins per gating step of 100 ms, where the step's length in samples allows (`bin_length`)."""
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


@dataclass(frozen=True)
class Dip:
    """A stretch of the episode where the limiter's ceiling sits lower: where the encoder overshot it."""

    start: int
    """First sample of the stretch."""
    end: int
    """Sample just past it."""
    db: float
    """How far under the usual ceiling the limiter keeps true peaks there (dB)."""


class LoudnessMeter:
    """BS.1770 integrated loudness and peak of mono audio fed in blocks of any size."""

    def __init__(self, sample_rate: int, true_peaks: bool = True, limit_db: float | None = None) -> None:
        """`true_peaks=False` measures sample peaks only, which is much cheaper than oversampling; with
        `limit_db` (and true peaks) every sample whose true peak exceeds it is noted in `overs`."""
        self.sample_rate = sample_rate
        self._true_peaks = true_peaks
        self._limit = db_to_gain(limit_db) if limit_db is not None and true_peaks else None
        self._fed = 0
        self.overs: list[tuple[int, float]] = []
        """(sample, dB over `limit_db`) of every true peak over it."""
        self._sections, self._gain = k_weighting(sample_rate)
        self._state = np.zeros((len(self._sections), 2))
        self.bin = bin_length(sample_rate)
        self._pending = np.zeros(0)
        self._bin_energies: list[float] = []
        self._peak = 0.0

    def feed(self, samples: np.ndarray) -> None:
        """Measure the next stretch of audio."""
        if not len(samples):
            return
        if self._true_peaks:
            peaks = upsampled_peaks(samples)
            if self._limit is not None:
                over = np.flatnonzero(peaks > self._limit)
                self.overs += zip((over + self._fed).tolist(), (20 * np.log10(peaks[over] / self._limit)).tolist(),
                                  strict=True)
            peak = float(peaks.max())
        else:
            peak = float(np.abs(samples).max())
        self._peak = max(self._peak, peak)
        self._fed += len(samples)
        weighted, self._state = scipy.signal.sosfilt(self._sections, samples.astype(np.float64), zi=self._state)
        weighted = weighted * self._gain
        pending = np.concatenate([self._pending, weighted**2])
        bins = len(pending) // self.bin
        if bins:
            self._bin_energies.extend(pending[: bins * self.bin].reshape(bins, self.bin).sum(axis=1).tolist())
        self._pending = pending[bins * self.bin:]

    def bins(self) -> np.ndarray:
        """K-weighted energy (sum of squares) of every `bin` samples fed so far, the last bin partial
        when the stream ended inside one."""
        tail = [self._pending.sum()] if len(self._pending) else []
        return np.asarray(self._bin_energies + tail)

    def result(self) -> Loudness:
        """Loudness of everything fed so far."""
        complete = np.asarray(self._bin_energies)
        return Loudness(gated_loudness(complete, self._pending.sum(), self.sample_rate), _to_db(self._peak))


def bin_length(sample_rate: int) -> int:
    """Samples per energy bin: a fifth of the gating step of 100 ms (the step itself where it does not
    divide), fine enough to place a clip's energies anywhere on an episode's step grid."""
    step = round(0.1 * sample_rate)
    return step // BINS_PER_STEP if step % BINS_PER_STEP == 0 else step


def gated_loudness(bins: np.ndarray, leftover: float, sample_rate: int) -> float:
    """BS.1770 integrated loudness (LUFS, -inf for silence) from the K-weighted energies of consecutive
    bins (`bin_length(sample_rate)` samples each) and the energy of the partial bin after them: gating
    blocks of 400 ms advancing by 100 ms."""
    step = round(0.1 * sample_rate)
    per_step = step // bin_length(sample_rate)
    whole = len(bins) // per_step * per_step
    energies = bins[:whole].reshape(-1, per_step).sum(axis=1)
    if len(energies) < 4:
        energies = np.append(energies, bins[whole:].sum() + leftover)
        blocks = np.array([energies.sum() / max(1, len(energies) * step)])
    else:
        blocks = np.convolve(energies, np.ones(4), mode="valid") / (4 * step)
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(blocks)
    gated = blocks[levels >= ABSOLUTE_GATE]
    if not len(gated):
        return float("-inf")
    relative = -0.691 + 10 * np.log10(gated.mean()) - RELATIVE_GATE
    kept = blocks[(levels >= ABSOLUTE_GATE) & (levels > relative)]
    return float(-0.691 + 10 * np.log10(kept.mean()))


def _to_db(amplitude: float) -> float:
    return float(20 * np.log10(amplitude)) if amplitude > 0 else float("-inf")


def metered(samples: np.ndarray, sample_rate: int, true_peaks: bool = True) -> LoudnessMeter:
    """A meter fed a whole signal held in memory (a clip): its `result`, and its `bins` for prediction."""
    meter = LoudnessMeter(sample_rate, true_peaks)
    meter.feed(samples)
    return meter


def measure(samples: np.ndarray, sample_rate: int, true_peaks: bool = True) -> Loudness:
    """Loudness of a whole signal held in memory (a clip)."""
    return metered(samples, sample_rate, true_peaks).result()


@functools.cache
def interpolator() -> np.ndarray:
    """The low-pass that upsampling interpolates with: `resample_poly`'s own default, designed once."""
    return scipy.signal.firwin(20 * OVERSAMPLING + 1, 1 / OVERSAMPLING, window=("kaiser", 5.0))


@functools.cache
def _phases() -> tuple[float, tuple[np.ndarray, ...]]:
    """The interpolator split into its phases, scaled as `resample_poly` scales it: (the gain of phase 0,
    whose only tap above rounding error is the centre one: the interpolator is a quarter-band filter;
    the other phases' taps)."""
    taps = interpolator() * OVERSAMPLING
    return float(taps[len(taps) // 2]), tuple(taps[phase::OVERSAMPLING] for phase in range(1, OVERSAMPLING))


def upsampled_peaks(samples: np.ndarray) -> np.ndarray:
    """Per input sample, the largest magnitude among its oversampled neighbours: what
    `resample_poly(samples, OVERSAMPLING, 1)` gives, computed as one short convolution per phase."""
    samples = samples.astype(np.float64)
    gain, phases = _phases()
    delay = len(phases[0]) // 2  # every phase has 2 * delay + 1 taps, centred
    peaks = np.abs(samples) * max(gain, 1.0)
    for taps in phases:
        np.maximum(peaks, np.abs(np.convolve(samples, taps)[delay: delay + len(samples)]), out=peaks)
    return peaks


def true_peak(samples: np.ndarray) -> float:
    """Largest magnitude of the signal upsampled four times (linear)."""
    return float(upsampled_peaks(samples).max()) if len(samples) else 0.0


def dips_around(overs: Sequence[tuple[int, float]], reach: int, safety_db: float) -> tuple[Dip, ...]:
    """The dips that bring the noted overshoots (sample, dB over) under their limit: each run of them
    (gaps under `reach` joined) widened by `reach` samples either side, lowered by its largest
    overshoot and `safety_db` more."""
    dips: list[Dip] = []
    for sample, over in overs:
        if dips and sample - reach <= dips[-1].end:
            last = dips[-1]
            dips[-1] = Dip(last.start, sample + reach, max(last.db, over + safety_db))
        else:
            dips.append(Dip(max(0, sample - reach), sample + reach, over + safety_db))
    return tuple(dips)


def ceiling_curve(ceiling_db: float, dips: Sequence[Dip], start: int, length: int) -> float | np.ndarray:
    """The limiter's ceiling (dB) over samples `start` to `start + length`: `ceiling_db`, lower in the dips
    (one number when no dip touches the stretch)."""
    touching = [dip for dip in dips if dip.start < start + length and dip.end > start]
    if not touching:
        return ceiling_db
    curve = np.full(length, ceiling_db)
    for dip in touching:
        first, last = max(dip.start, start) - start, min(dip.end, start + length) - start
        curve[first:last] = np.minimum(curve[first:last], ceiling_db - dip.db)
    return curve


def limit(samples: np.ndarray, ceiling_db: float | np.ndarray, sample_rate: int, lookahead_ms: float = 5.0,
          peaks: np.ndarray | None = None) -> np.ndarray:
    """Keep true peaks at or under `ceiling_db` (one level, or one per sample) with a smooth look-ahead
    gain, leaving quieter audio alone.

    `peaks` may give `upsampled_peaks(samples)` when already known (it scales with the samples).
    """
    ceiling = np.power(10.0, np.asarray(ceiling_db) / 20)
    peaks = upsampled_peaks(samples) if peaks is None else peaks
    over = np.flatnonzero(peaks > ceiling)
    if not len(over):
        return samples
    width = max(1, round(lookahead_ms * sample_rate / 1000))
    # The minimum over twice the width, then averaged over the width, never exceeds the need at a peak;
    # the gain is 1 farther than 2 * width from every peak over the ceiling, so only those stretches are worked.
    gain = np.ones(len(samples))
    reach = 2 * width + 1
    starts = over[np.r_[True, np.diff(over) > 2 * reach]]
    ends = over[np.r_[np.diff(over) > 2 * reach, True]]
    for first, last in zip(np.maximum(starts - 2 * reach, 0), np.minimum(ends + 2 * reach + 1, len(samples)),
                           strict=True):
        local = ceiling if ceiling.ndim == 0 else ceiling[first:last]
        needed = np.minimum(1.0, local / np.maximum(peaks[first:last], 1e-12))
        smooth = scipy.ndimage.uniform_filter1d(scipy.ndimage.minimum_filter1d(needed, 2 * width + 1), 2 * width + 1)
        inner = slice(0 if first == 0 else reach, None if last == len(samples) else -reach)
        gain[first:last][inner] = smooth[inner]
    return (samples * gain).astype(samples.dtype)


def limit_stream(blocks: Iterable[np.ndarray], ceiling_db: float, sample_rate: int, lookahead_ms: float = 5.0,
                 dips: Sequence[Dip] = ()) -> Iterator[np.ndarray]:
    """`limit` over a stream of blocks, block sizes and timing kept, the ceiling lowered in `dips`: each
    block is limited with its neighbours' edges as context, so it is given out one block later."""
    context = 4 * max(1, round(lookahead_ms * sample_rate / 1000)) + 64
    previous: np.ndarray | None = None
    before = np.zeros(0, dtype=np.float32)
    position = 0  # first sample of `previous`

    def limited(after: np.ndarray) -> np.ndarray:
        joined = np.concatenate([before, previous, after])
        ceiling = ceiling_curve(ceiling_db, dips, position - len(before), len(joined))
        return limit(joined, ceiling, sample_rate, lookahead_ms)[len(before): len(before) + len(previous)]

    for block in blocks:
        if previous is not None:
            yield limited(block[:context])
            before = np.concatenate([before, previous])[-context:]
            position += len(previous)
        previous = block
    if previous is not None:
        yield limited(np.zeros(0, dtype=np.float32))
