"""Loudness measurement (against pyloudnorm) and the true-peak limiter."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from audiodrama.mixing.loudness import LoudnessMeter, limit, measure, true_peak
from audiodrama.mixing.mastering import Levels, default_ceiling, master

RATE = 22050


def speechlike(seconds: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    envelope = np.clip(np.sin(2 * np.pi * 3 * t), 0, None) ** 2
    return (rng.normal(0, 0.1, len(t)) * envelope).astype(np.float32)


@pytest.mark.parametrize("block", [1, 999, 4096, 100_000])
def test_streamed_loudness_equals_pyloudnorm_whatever_the_block_size(block: int) -> None:
    audio = np.concatenate([speechlike(4), np.zeros(RATE, dtype=np.float32), 0.2 * speechlike(3, seed=2)])
    if block == 1:
        audio = audio[:RATE]  # feeding one sample at a time is slow; a second is enough
    meter = LoudnessMeter(RATE)
    for start in range(0, len(audio), block):
        meter.feed(audio[start: start + block])
    expected = pyloudnorm.Meter(RATE).integrated_loudness(audio.astype(np.float64))
    assert meter.result().integrated == pytest.approx(expected, abs=0.01)


def test_silence_is_minus_infinity() -> None:
    assert measure(np.zeros(RATE, dtype=np.float32), RATE).integrated == float("-inf")


def test_limiter_keeps_true_peak_under_ceiling_and_leaves_quiet_audio_alone() -> None:
    loud = speechlike(3) * 8
    limited = limit(loud, -1.5, RATE)
    assert 20 * np.log10(true_peak(limited)) <= -1.4
    quiet = speechlike(3) * 0.5
    assert limit(quiet, -1.5, RATE) is quiet
    # most of the signal, below the ceiling, is untouched
    small = np.abs(loud) < 0.05
    assert np.mean(np.isclose(limited[small], loud[small], rtol=0.05)) > 0.8


def test_mastering_levels_every_clip_and_keeps_peaks_under_the_ceiling() -> None:
    levels = Levels()
    ceiling = default_ceiling(levels)
    for scale in (0.05, 1.0, 8.0):
        mastered = master(speechlike(3) * scale, levels, RATE, False, ceiling)
        assert measure(mastered, RATE).integrated == pytest.approx(levels.speech_lufs, abs=0.1)
        assert 20 * np.log10(true_peak(mastered)) <= ceiling + 0.1


def test_a_thought_is_quieter_and_echoes() -> None:
    levels = Levels()
    speech = speechlike(2)
    spoken = master(speech, levels, RATE, False, default_ceiling(levels))
    thought = master(speech, levels, RATE, True, default_ceiling(levels))
    tail = round(levels.thought_echo_ms * RATE / 1000) * levels.thought_echo_repeats
    assert len(thought) == len(spoken) + tail
    difference = measure(spoken, RATE).integrated - measure(thought, RATE).integrated
    assert difference == pytest.approx(-levels.thought_gain_db, abs=0.2)
    assert np.abs(thought[-tail:]).max() > 0.01  # the echo rings on after the words


def test_upsampled_peaks_are_those_of_scipys_fourfold_resampling() -> None:
    from scipy.signal import resample_poly

    from audiodrama.mixing.loudness import OVERSAMPLING, interpolator, upsampled_peaks

    audio = speechlike(2).astype(np.float64)
    upsampled = np.abs(resample_poly(audio, OVERSAMPLING, 1, window=interpolator()))
    reference = upsampled.reshape(-1, OVERSAMPLING).max(axis=1)
    assert np.allclose(upsampled_peaks(audio), np.maximum(reference, np.abs(audio)), rtol=0, atol=1e-12)


def test_limiter_leaves_everything_farther_than_its_reach_from_a_peak_alone() -> None:
    quiet = speechlike(3) * 0.2
    loud = quiet.copy()
    loud[RATE: RATE + 50] = 0.95  # one burst over the ceiling
    limited = limit(loud, -6.0, RATE)
    reach = 2 * round(0.005 * RATE) + 1
    assert np.array_equal(limited[: RATE - reach], loud[: RATE - reach])
    assert np.array_equal(limited[RATE + 50 + reach:], loud[RATE + 50 + reach:])
    assert 20 * np.log10(true_peak(limited)) <= -5.9
