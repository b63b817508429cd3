"""Mastering, in one place: every clip levelled and limited, the episode's gain found, peaks kept under
the ceiling as the mix goes to the encoder, the encoder's loudness shift compensated, and the encoded
file verified against the target.

The loudness meter and limiter it uses are in `mixing.loudness`; the timeline it masters is
`mixing.timeline`'s; encoding and decoding are `mixing.audio`'s ffmpeg helpers.
"""

from __future__ import annotations

import hashlib
import wave
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import scipy  # scipy.signal loads when first used (see mixing.loudness)

from audiodrama.errors import InputError, ToolError
from audiodrama.files import atomic_path
from audiodrama.mixing.audio import decode, decode_blocks, encode_mp3, load_clip
from audiodrama.mixing.loudness import (
    Dip,
    Loudness,
    LoudnessMeter,
    db_to_gain,
    dips_around,
    limit,
    limit_stream,
    metered,
    upsampled_peaks,
)
from audiodrama.mixing.prediction import predict_loudness, save_energies
from audiodrama.mixing.threads import ahead
from audiodrama.mixing.timeline import RENDER_BLOCK, BedSource, Timeline, render
from audiodrama.yamlfile import bounded


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
    return master_measured(samples, levels, sample_rate, thought, ceiling)[0]


def master_measured(samples: np.ndarray, levels: Levels, sample_rate: int, thought: bool,
                    ceiling: float) -> tuple[np.ndarray, np.ndarray]:
    """`master`, with the mastered clip's K-weighted energy bins (`LoudnessMeter.bins`) that its last
    measurement left: what `mixing.prediction` adds up into the episode's loudness."""
    if thought:
        samples = echo(samples, levels, sample_rate)
    wanted = levels.speech_lufs + (levels.thought_gain_db if thought else 0.0)
    peaks = upsampled_peaks(samples)
    gain, mastered, slope = 0.0, samples, 1.0
    meter = metered(samples, sample_rate, true_peaks=False)
    loudness = meter.result().integrated
    for _ in range(MASTERING_PASSES):  # limiting eats loudness: aim again by the slope last observed
        if not np.isfinite(loudness) or abs(wanted - loudness) < 0.05:
            break
        step = (wanted - loudness) / slope
        factor = np.float32(db_to_gain(gain + step))
        mastered = limit(samples * factor, ceiling, sample_rate, peaks=peaks * factor)
        meter = metered(mastered, sample_rate, true_peaks=False)
        new_loudness = meter.result().integrated
        slope = min(1.0, max(0.2, (new_loudness - loudness) / step)) if step else 1.0
        gain, loudness = gain + step, new_loudness
    return mastered, meter.bins()


def master_clip(clip_path: Path, thought: bool, levels: Levels, sample_rate: int, cache_dir: Path,
                ceiling: float) -> Path:
    """The mastered clip for a synthesised clip, made once and kept in `cache_dir/mastered`."""
    target = _mastered_path(cache_dir, (clip_path.stem, thought, levels, sample_rate, round(ceiling, 2)))
    if not target.exists():
        samples = load_clip(clip_path, sample_rate).astype(np.float32) / 32768
        write_clip(target, *master_measured(samples, levels, sample_rate, thought, round(ceiling, 2)), sample_rate)
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
        write_clip(target, *master_measured(samples, music, sample_rate, False, default_ceiling(levels)), sample_rate)
    return target


def _mastered_path(cache_dir: Path, recipe: tuple) -> Path:
    """Where the mastered clip made by `recipe` is kept in `cache_dir` (keyed with `MASTERING_REVISION`)."""
    key = hashlib.sha256(repr((MASTERING_REVISION, *recipe)).encode("utf-8")).hexdigest()
    return cache_dir / "mastered" / key[:2] / f"{key}.wav"


def write_clip(target: Path, samples: np.ndarray, energies: np.ndarray, sample_rate: int) -> None:
    """Write float samples as a 16-bit mono WAV, atomically, their K-weighted energy bins beside it first
    (`prediction.save_energies`): a mastered clip in the cache always has them."""
    target.parent.mkdir(parents=True, exist_ok=True)
    save_energies(target, energies)
    with atomic_path(target) as temporary, wave.open(str(temporary), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(np.round(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
CEILING_SLACK = 0.2
"""dB the measured gain may exceed its prediction before the clips are mastered again, lower."""
CEILING_ROUNDS = 3
"""At most this many mastering rounds, each lowering the clips' ceiling by what the gain overshot."""
SHIFT_EXCERPT_SECONDS = 90.0
"""Length of the start of the mix encoded to measure the encoder's loudness shift."""
ENCODE_ATTEMPTS = 3
"""Encodes at most, each correcting the last one's loudness and peaks."""
PEAK_SAFETY_DB = 0.2
"""Where the encoded peaks overshoot, the limiter's ceiling drops by the overshoot and this much more."""
OVERSHOOT_REACH_SECONDS = 0.05
"""How far either side of an encoded overshoot the limiter's ceiling drops: two MP3 granules, the
stretch whose quantisation noise made it."""
LOUDNESS_TOLERANCE = 0.2
"""Largest miss (LU) of the target loudness accepted on the encoded episode before re-encoding."""


def measure_episode(blocks: Iterable[np.ndarray], sample_rate: int) -> Loudness:
    """Loudness (and sample peak) of a rendered episode, measured block by block."""
    meter = LoudnessMeter(sample_rate, true_peaks=False)
    for samples in blocks:
        meter.feed(samples)
    return meter.result()


def lowpass_stream(blocks: Iterable[np.ndarray], cutoff_hz: float, sample_rate: int) -> Iterator[np.ndarray]:
    """A steep low-pass over a stream of blocks (state carried across them).

    Run before the final limiter, it removes what the MP3 encoder would cut anyway: content the
    encoder removes after the limiter is what makes its peaks overshoot.
    """
    sections = scipy.signal.butter(8, min(cutoff_hz, 0.45 * sample_rate), fs=sample_rate, output="sos")
    state = scipy.signal.sosfilt_zi(sections) * 0.0
    for block in blocks:
        filtered, state = scipy.signal.sosfilt(sections, block, zi=state)
        yield filtered.astype(np.float32)


def encoder_cutoff(sample_rate: int) -> float:
    """Where the MP3 encoder's own low-pass sits, about: 40% of the sample rate, at most 16 kHz."""
    return min(0.4 * sample_rate, 16_000.0)


def episode_gain(timeline: Timeline, levels: Levels, bed: BedSource, report: Callable[[int, int], None],
                 keep: Path) -> float:
    """The gain (dB) that brings the mix to the target loudness: the mix is linear in its gain, so
    one measuring render at 0 dB tells it. That render is kept in `keep` (see `replay`)."""
    measured = measure_episode(kept(tracked(timeline, bed, report, 0.0), keep), timeline.sample_rate).integrated
    target = levels.target_lufs
    return target - measured if np.isfinite(measured) else target - levels.speech_lufs


def kept(blocks: Iterable[np.ndarray], path: Path) -> Iterator[np.ndarray]:
    """The blocks, each also written to the raw float32 file `path`, so the mix is rendered only once."""
    with path.open("wb") as out:
        for block in blocks:
            block.astype("<f4", copy=False).tofile(out)
            yield block


def replay(path: Path, gain_db: float, block: int = RENDER_BLOCK) -> Iterator[np.ndarray]:
    """The mix `kept` in `path`, in the blocks `render` gives, scaled by `gain_db` as `render` scales it."""
    gain = np.float32(db_to_gain(gain_db))
    with path.open("rb") as source:
        while len(samples := np.fromfile(source, dtype="<f4", count=block)):
            yield samples * gain


def tracked(timeline: Timeline, bed: BedSource, report: Callable[[int, int], None], gain_db: float,
            ceiling_db: float | None = None, dips: tuple[Dip, ...] = (), rendered: Path | None = None,
            ) -> Iterator[np.ndarray]:
    """`render(timeline, gain_db, bed)` (or the same `replay`ed from `rendered`), reporting the samples done;
    with `ceiling_db`, as it goes to the encoder: low-passed where the encoder would cut, true peaks
    limited under the ceiling (lower in `dips`)."""
    done = 0
    blocks = replay(rendered, gain_db) if rendered else render(timeline, gain_db, bed)
    if ceiling_db is not None:  # low-pass, limiter and the caller (the encoder's feed) side by side
        rate = timeline.sample_rate
        blocks = limit_stream(ahead(lowpass_stream(blocks, encoder_cutoff(rate), rate)), ceiling_db, rate, dips=dips)
    for block in ahead(blocks):
        done += len(block)
        report(done, timeline.frames)
        yield block


@dataclass(frozen=True)
class Mix:
    """An episode's timeline with its clips mastered, its bed, and the gain that brings it to the target."""

    timeline: Timeline
    """Every line in place, its clip mastered under `ceiling`."""
    bed: BedSource
    """The ambience under it."""
    gain_db: float
    """The episode gain that brings the mix to the target loudness."""
    ceiling: float
    """The clips' true-peak ceiling (dBTP) they were mastered under."""
    rendered: Path | None
    """The mix at 0 dB as the measuring render made it (raw float32), for `replay`; None when its
    loudness was predicted (`prediction.predict_loudness`), so it is rendered only for the encoder."""


def fit_ceiling(timeline: Timeline, ceiling: float, levels: Levels, remaster: Callable[[float], Timeline],
                bed_for: Callable[[Timeline], BedSource], report: Callable[[str, int, int], None],
                scratch: Path) -> Mix:
    """Find the mix's gain (predicted from the clips' and the bed's energies, else measured by a render
    kept in `scratch`) and, while that gain would carry the clips' peaks over the limit (pauses and beds
    move it off the clips' assumption), `remaster` the clips under a ceiling lowered by the excess (at
    most `CEILING_ROUNDS` rounds)."""
    allowed = levels.true_peak_db - levels.limiter_margin_db
    for round_ in range(CEILING_ROUNDS):
        bed = bed_for(timeline)
        predicted = predict_loudness(timeline, bed)
        if predicted is None:
            rendered = scratch
            gain = episode_gain(timeline, levels, bed, partial(report, "Measuring loudness"), scratch)
        else:
            gain, rendered = levels.target_lufs - predicted, None
        excess = ceiling + gain - allowed
        if excess <= CEILING_SLACK or round_ == CEILING_ROUNDS - 1:
            break
        ceiling -= excess
        timeline = remaster(ceiling)
    return Mix(timeline, bed, gain, ceiling, rendered)


def loudness_target(levels: Levels) -> LoudnessTarget:
    """What the encoded episode must measure under these levels."""
    return LoudnessTarget(levels.target_lufs, levels.true_peak_db, levels.true_peak_db - levels.encoder_headroom_db)


@dataclass(frozen=True)
class LoudnessTarget:
    """What the encoded episode must measure."""

    lufs: float
    """Integrated loudness, LUFS."""
    true_peak_db: float
    """Highest true peak, dBTP."""
    ceiling_db: float
    """Where the final limiter starts (below `true_peak_db` by the encoder's expected overshoot)."""


@dataclass(frozen=True)
class Encoded:
    """What encoding an episode came to."""

    loudness: Loudness
    """Loudness and true peak measured on the written MP3."""
    encodes: int
    """Full encodes of the episode it took (the excerpt that measures the encoder's shift not counted)."""


def encode_to_target(render_at: Callable[[float, float, tuple[Dip, ...]], Iterable[np.ndarray]], gain_db: float,
                     aim: LoudnessTarget, sample_rate: int, target: Path, bitrate: str) -> Encoded:
    """Encode the mix into the MP3 file `target` so that the file itself meets `aim`, and say what it measures.

    `render_at(gain_db, ceiling_db, dips)` gives the mix at a gain, true peaks limited under a ceiling
    (lower in the dips); `gain_db` brings the mix to `aim.lufs`. The MP3 encoder shifts loudness (about
    -0.45 LU with LAME here) and overshoots peaks: the shift is measured on an excerpt and compensated,
    then the written file is decoded and measured, and encoded again (at most `ENCODE_ATTEMPTS` times in
    all) while it misses the loudness by more than `LOUDNESS_TOLERANCE` (the gain corrected) or the
    peak limit: then the ceiling drops only around each overshoot, so the rest keeps its loudness.
    """
    gain_db += encoder_shift(render_at(gain_db, aim.ceiling_db, ()), sample_rate, target, bitrate)
    dips: tuple[Dip, ...] = ()
    reach = round(OVERSHOOT_REACH_SECONDS * sample_rate)
    encodes = 0
    while encodes < ENCODE_ATTEMPTS:
        encodes += 1
        encode_mp3(render_at(gain_db, aim.ceiling_db, dips), sample_rate, target, bitrate)
        # near misses are noted too: the next encode's noise may carry them over
        meter = LoudnessMeter(sample_rate, true_peaks=True, limit_db=aim.true_peak_db - PEAK_SAFETY_DB)
        for block in decode_blocks(target, sample_rate):
            meter.feed(block)
        measured = meter.result()
        error = aim.lufs - measured.integrated if np.isfinite(measured.integrated) else 0.0
        loud_enough = abs(error) <= LOUDNESS_TOLERANCE
        if loud_enough and measured.true_peak <= aim.true_peak_db:
            break
        gain_db += 0.0 if loud_enough else error
        if measured.true_peak > aim.true_peak_db:
            dips = merge_dips(dips, dips_around(meter.overs, reach, PEAK_SAFETY_DB))
    return Encoded(measured, encodes)


def merge_dips(old: tuple[Dip, ...], new: tuple[Dip, ...]) -> tuple[Dip, ...]:
    """The dips of two passes together: where a new overshoot falls in an old dip, that dip goes deeper."""
    merged = [replace(dip, db=dip.db + max((n.db for n in new if n.start < dip.end and n.end > dip.start),
                                          default=0.0)) for dip in old]
    return tuple(sorted(merged + [n for n in new if not any(n.start < d.end and n.end > d.start for d in old)],
                        key=lambda dip: dip.start))


def encoder_shift(blocks: Iterable[np.ndarray], sample_rate: int, scratch: Path, bitrate: str,
                  seconds: float = SHIFT_EXCERPT_SECONDS) -> float:
    """How many dB the encoder takes off the loudness, measured by encoding the start of the mix."""
    excerpt = []
    frames = 0
    for block in blocks:
        excerpt.append(block)
        frames += len(block)
        if frames >= seconds * sample_rate:
            break
    encode_mp3(excerpt, sample_rate, scratch, bitrate)
    before = measure_episode(excerpt, sample_rate).integrated
    after = measure_episode(decode_blocks(scratch, sample_rate), sample_rate).integrated
    return before - after if np.isfinite(before) and np.isfinite(after) else 0.0
