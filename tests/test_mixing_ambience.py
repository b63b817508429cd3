"""Ambient beds measured for real: loops, spectra, rules, the streamed bed track, ducking, user files."""

from __future__ import annotations

import itertools
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from audiodrama import runtime
from audiodrama.errors import InputError
from audiodrama.mixing.ambience import AmbienceSettings, BedRule, BedTrack, SceneBed, choose_bed
from audiodrama.mixing.beds import GENERATED, generate_bed, load_file_bed, make_loop
from audiodrama.mixing.timeline import Cue, Timeline
from audiodrama.script import Segment
from tests.measure import rms_db

RATE = 16000
LOOP_S = 4.0


def window_rms(x: np.ndarray, width: int) -> np.ndarray:
    w = x[: len(x) // width * width].reshape(-1, width).astype(np.float64)
    return np.sqrt(np.mean(w**2, axis=1))


def centroid(x: np.ndarray, rate: int) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    return float(np.sum(power * np.fft.rfftfreq(len(x), 1 / rate)) / np.sum(power))


def band_share(x: np.ndarray, rate: int, low: float, high: float) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / rate)
    return float(power[(f >= low) & (f < high)].sum() / power.sum())


def highpassed(x: np.ndarray, rate: int, cutoff: float) -> np.ndarray:
    spectrum = np.fft.rfft(x)
    spectrum[np.fft.rfftfreq(len(x), 1 / rate) < cutoff] = 0
    return np.fft.irfft(spectrum, len(x))


def kurtosis(x: np.ndarray) -> float:
    x = x - x.mean()
    return float(np.mean(x**4) / np.mean(x**2) ** 2)


def assert_seamless(x: np.ndarray, rate: int) -> None:
    """Playing `x` again after its end is like any other moment of it: no jump, no level step."""
    jumps = np.abs(np.diff(x.astype(np.float64)))
    assert abs(float(x[0]) - float(x[-1])) <= np.percentile(jumps, 99.9)
    width = rate // 50  # 20 ms windows
    across = np.concatenate([x[-width // 2:], x[: width // 2]])
    levels = window_rms(x, width)
    assert levels.min() * 0.9 <= np.sqrt(np.mean(across.astype(np.float64) ** 2)) <= levels.max() * 1.1


@pytest.mark.parametrize("name", GENERATED)
def test_generated_bed_is_deterministic_and_loops_without_a_seam(name: str) -> None:
    first = generate_bed(name, RATE, LOOP_S)
    generate_bed.cache_clear()
    again = generate_bed(name, RATE, LOOP_S)
    assert first.dtype == np.float32 and len(first) == RATE * LOOP_S
    assert np.array_equal(first, again)
    assert -8 < rms_db(first) < 1
    assert_seamless(first, RATE)


def test_beds_have_their_own_spectral_character() -> None:
    beds = {name: generate_bed(name, RATE, LOOP_S) for name in GENERATED}
    centroids = {name: centroid(x, RATE) for name, x in beds.items()}
    assert centroids["room"] < centroids["wind"] < centroids["crowd"] < centroids["rain"]
    assert band_share(beds["room"], RATE, 0, 500) > 0.9  # quiet and low-passed
    assert rms_db(beds["room"]) < rms_db(beds["rain"]) - 4
    assert band_share(beds["crowd"], RATE, 150, 3500) > 0.85  # speech band
    assert band_share(beds["forest"], RATE, 2000, 7000) > band_share(beds["wind"], RATE, 2000, 7000) * 5  # birds
    # fire crackles: its high band is impulsive, rain's is steady
    assert kurtosis(highpassed(beds["fire"], RATE, 1500)) > 3 * kurtosis(highpassed(beds["rain"], RATE, 1500))
    # wind swells slowly: its level over quarter seconds wanders more than rain's
    def swing(x: np.ndarray) -> float:
        return float(np.std(20 * np.log10(window_rms(x, RATE // 4))))
    assert swing(beds["wind"]) > 2 * swing(beds["rain"])


@pytest.mark.parametrize(("heading", "text", "bed"), [
    ("In the woods", "", "forest"),
    ("In the Hospital", "Sakura woke up with enormous pain.", "room"),
    ("", "Rain hammered on the roof as the storm rolled in.", "rain"),
    ("", "They sat around the campfire, talking.", "fire"),
    ("At Valley of The End.", "Standing on top of the river are two boys.", "water"),
    ("The Market", "", "crowd"),
    ("", "The festival crowd pushed past the stalls.", "crowd"),
    ("", "A gale howled over the cliffs.", "wind"),
    ("Hospital", "Outside, rain and more rain.", "room"),  # the heading outweighs the body
    ("", "The rainbow over the treetops.", "room"),  # whole words only: no rain, no trees
])
def test_rules_choose_the_expected_bed(heading: str, text: str, bed: str) -> None:
    assert choose_bed(heading, text) == bed


def test_user_rules_come_first_and_the_default_is_configurable() -> None:
    tavern = BedRule("tavern", ("tavern*", "ale"))
    assert choose_bed("", "Noise filled the tavern.", [tavern]) == "tavern"
    assert choose_bed("", "Noise filled the market.", [tavern]) == "crowd"
    assert choose_bed("", "Nothing to go on.", default=None) is None
    assert choose_bed("", "The storm broke.", builtin=False, default="wind") == "wind"


def tone_loops(n: int) -> dict[str, np.ndarray]:
    """Constant 'beds' so the track's output is its gain curve."""
    return {"one": np.ones(n, dtype=np.float32), "zero": np.zeros(n, dtype=np.float32)}


def test_blocks_are_the_same_whatever_their_size() -> None:
    rate, frames = 8000, 8000 * 20
    loops = {name: generate_bed(name, rate, 3.0) for name in ("rain", "forest", "room")}
    scenes = [SceneBed(0, 50000, "rain"), SceneBed(50000, 110000, "forest"), SceneBed(110000, frames, "room")]
    speech = [(6000, 20000), (24000, 40000), (60000, 90000), (100000, 150000)]
    track = BedTrack(scenes, speech, frames, rate, loops=loops)
    small = np.concatenate([track.block(s, min(1000, frames - s)) for s in range(0, frames, 1000)])
    large = np.concatenate([track.block(s, min(4096, frames - s)) for s in range(0, frames, 4096)])
    assert small.dtype == np.float32 and len(small) == frames
    assert np.array_equal(small, large)
    assert np.array_equal(track.block(54321, 777), small[54321:54321 + 777])


def test_bed_ducks_under_speech_and_returns_between_lines() -> None:
    rate = 8000
    settings = AmbienceSettings()
    lines = [(rate * (3 + 4 * k), rate * (5 + 4 * k)) for k in range(4)]  # 2 s lines, 2 s gaps
    frames = rate * 20
    track = BedTrack([SceneBed(0, frames, "rain")], lines, frames, rate, settings,
                     loops={"rain": generate_bed("rain", rate, 3.0)})
    bed = track.block(0, frames)
    release, attack = round(settings.release_ms * rate / 1000), round(settings.attack_ms * rate / 1000)
    under = np.concatenate([bed[s:e] for s, e in lines])
    between = np.concatenate([bed[e + release: s - attack] for (_, e), (s, _) in itertools.pairwise(lines)])
    assert rms_db(between) - rms_db(under) >= 12
    assert abs(rms_db(between) - settings.level_db) < 1.5  # audible between lines at the set level


def test_ducking_gain_moves_smoothly_with_the_set_attack_and_release() -> None:
    rate, frames = 8000, 8000 * 10
    settings = AmbienceSettings(fade_in_ms=0, fade_out_ms=0)
    start, end = 4 * rate, 6 * rate
    track = BedTrack([SceneBed(0, frames, "one")], [(start, end)], frames, rate, settings, loops=tone_loops(rate))
    gain_db = 20 * np.log10(track.block(0, frames).astype(np.float64)) - settings.level_db
    attack, release = round(settings.attack_ms * rate / 1000), round(settings.release_ms * rate / 1000)
    assert np.allclose(gain_db[: start - attack], 0, atol=1e-3)
    assert np.allclose(gain_db[start:end], -settings.duck_db, atol=1e-3)
    assert np.allclose(gain_db[end + release:], 0, atol=1e-3)
    assert np.abs(np.diff(gain_db)).max() < 2.5 * settings.duck_db / attack  # a raised-cosine ramp, no steps


def test_scene_change_cross_fades_without_a_discontinuity() -> None:
    rate, frames, change = 8000, 8000 * 12, 8000 * 6
    settings = AmbienceSettings()
    fade = round(settings.crossfade_ms * rate / 1000)
    track = BedTrack([SceneBed(0, change, "one"), SceneBed(change, frames, "zero")], [], frames, rate, settings,
                     loops=tone_loops(rate))
    outgoing = track.block(0, frames).astype(np.float64) / 10 ** (settings.level_db / 20)
    assert outgoing[change - fade // 2 - 1] == pytest.approx(1) and outgoing[change + fade // 2 + 1] == 0
    assert outgoing[change] == pytest.approx(np.sqrt(0.5), abs=1e-3)  # equal power at the change
    assert np.abs(np.diff(outgoing)).max() < 2 / fade
    # with real beds the level holds through the cross-fade and no sample jumps out
    frames, change = rate * 16, rate * 7
    loops = {name: generate_bed(name, rate, 3.0) for name in ("water", "crowd")}
    track = BedTrack([SceneBed(0, change, "water"), SceneBed(change, frames, "crowd")], [], frames, rate,
                     settings, loops=loops)
    bed = track.block(0, frames)
    levels = 20 * np.log10(window_rms(bed[change - fade: change + fade], rate // 4))
    assert levels.max() - levels.min() < 6
    jumps = np.abs(np.diff(bed.astype(np.float64)))
    steady = max(jumps[2 * rate: change - fade].max(), jumps[change + fade: 13 * rate].max())
    assert jumps[change - fade: change + fade].max() <= steady


def test_episode_fades_in_and_out() -> None:
    rate, frames = 8000, 8000 * 10
    settings = AmbienceSettings()
    track = BedTrack([SceneBed(0, frames, "one")], [], frames, rate, settings, loops=tone_loops(rate))
    gain = track.block(0, frames) / 10 ** (settings.level_db / 20)
    fade_in, fade_out = round(settings.fade_in_ms * rate / 1000), round(settings.fade_out_ms * rate / 1000)
    assert gain[0] < 1e-3 and gain[fade_in // 2] == pytest.approx(np.sqrt(0.5), abs=1e-3)
    assert gain[fade_in + 1] == pytest.approx(1) and gain[frames - fade_out - 1] == pytest.approx(1)
    assert gain[-1] < 0.01


def test_disabled_or_silent_scenes_give_silence() -> None:
    rate, frames = 8000, 8000 * 4
    quiet = BedTrack([SceneBed(0, frames, "one")], [], frames, rate, AmbienceSettings(enabled=False),
                     loops=tone_loops(rate))
    assert not quiet.block(0, frames).any()
    none = BedTrack([SceneBed(0, frames, None)], [], frames, rate)
    assert not none.block(0, frames).any()


def test_bed_track_from_a_timeline_reads_scenes_off_the_cues() -> None:
    rate = 8000

    def cue(kind: str, text: str, scene: int, start: float, seconds: float) -> Cue:
        return Cue(Segment(kind, None, 0, 1, text, scene=scene), Path("x.wav"), 1.0, round(start * rate),
                   round(seconds * rate))

    cues = (cue("heading", "In the woods", 0, 0.7, 1), cue("narration", "Birds sang.", 0, 2, 2),
            cue("heading", "In the Hospital", 1, 6, 1), cue("narration", "Quiet.", 1, 7.5, 2))
    timeline = Timeline(cues, rate, round(11 * rate))
    track = BedTrack.for_timeline(timeline, AmbienceSettings(loop_seconds=2.0))
    assert [(run.bed, run.start) for run in track.runs] == [("forest", 0), ("room", 5 * rate)]
    assert track.speech == [(c.start, c.end) for c in cues]


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


def test_user_files_decode_and_loop_without_a_seam(tmp_path: Path) -> None:
    t = np.arange(3 * 22050) / 22050
    wav = write_wav(tmp_path / "hum.wav", 0.3 * np.sin(2 * np.pi * 441.3 * t), 22050)
    flac = tmp_path / "hum.flac"
    subprocess.run([runtime.ffmpeg().executable, "-v", "error", "-i", str(wav), str(flac)], check=True)
    for path in (wav, flac):
        loop = load_file_bed(path, RATE)
        assert loop.dtype == np.float32 and abs(len(loop) - 2.25 * RATE) < 20
        assert rms_db(loop) == pytest.approx(0, abs=0.1)
        assert_seamless(loop, RATE)
    track = BedTrack([SceneBed(0, RATE * 5, "rain")], [], RATE * 5, RATE,
                     AmbienceSettings(files=(("rain", flac),)))
    assert len(track.loops["rain"]) < 3 * RATE  # the user's file, not the generated bed


def test_naive_loop_of_a_file_would_click_but_make_loop_does_not() -> None:
    x = np.sin(2 * np.pi * 441.3 * np.arange(RATE) / RATE).astype(np.float32)
    with pytest.raises(AssertionError):
        assert_seamless(x, RATE)
    assert_seamless(make_loop(x, RATE // 4), RATE)


def test_missing_or_corrupt_user_file_says_which_and_what_to_do(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.ogg"
    with pytest.raises(InputError, match=r"nowhere\.ogg.*not found.*check the path"):
        BedTrack([SceneBed(0, 100, "rain")], [], 100, RATE, AmbienceSettings(files=(("rain", missing),)))
    corrupt = tmp_path / "broken.mp3"
    corrupt.write_bytes(b"this is not audio" * 100)
    with pytest.raises(InputError, match=r"broken\.mp3.*cannot read.*WAV, MP3, OGG or FLAC"):
        load_file_bed(corrupt, RATE)
    with pytest.raises(InputError, match=r"no generated ambience bed called 'tavern'"):
        BedTrack([SceneBed(0, 100, "tavern")], [], 100, RATE)
