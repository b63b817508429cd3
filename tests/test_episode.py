"""`audiodrama produce` end to end with the real engine and ffmpeg: the MP3 is decoded and measured."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
from mutagen.id3 import ID3
from scipy.signal import correlate

from audiodrama.casting.cast import Cast, load_cast
from audiodrama.episode import Episode, produce
from audiodrama.mixing.ambience import BedTrack
from audiodrama.mixing.audio import decode, load_clip
from audiodrama.mixing.loudness import true_peak
from audiodrama.mixing.timeline import render
from audiodrama.settings import Settings
from tests.conftest import CASTS, REPO, SAMPLES, run_cli
from tests.measure import fundamental_hz, rms_db, silences

pytestmark = pytest.mark.slow
"""Every test here renders seconds of real audio or more."""

FIXTURES = Path(__file__).parent / "fixtures"
SHORT = FIXTURES / "short-chapter.txt"


@pytest.fixture(scope="module")
def short_episode(tmp_path_factory: pytest.TempPathFactory) -> Episode:
    return produce(SHORT, load_cast(CASTS / "seeds.yaml"), tmp_path_factory.mktemp("short"))


def best_match(audio: np.ndarray, clip: np.ndarray, start: int, search: int) -> float:
    """Highest normalised correlation of `clip` with `audio` around `start` (+/- `search` samples)."""
    first = max(0, start - search)
    window = audio[first: start + search + len(clip)].astype(np.float64)
    clip = clip.astype(np.float64)
    if len(window) < len(clip):
        return 0.0
    products = correlate(window, clip, mode="valid", method="fft")
    cumulative = np.concatenate([[0.0], np.cumsum(window**2)])
    energy = cumulative[len(clip):] - cumulative[: -len(clip)]
    return float(np.max(products / np.sqrt(np.maximum(energy, 1e-12) * (clip @ clip))))


def test_episode_files_are_written(short_episode: Episode) -> None:
    out = short_episode.mp3.parent
    assert sorted(p.name for p in out.iterdir()) == [
        "short-chapter.mp3", "short-chapter.script.jsonl", "short-chapter.srt", "short-chapter.vtt"]
    assert str(ID3(short_episode.mp3)["TIT2"]) == "At Valley of The End"
    rows = [json.loads(line) for line in short_episode.files.script.read_text().splitlines()]
    assert [r["speaker"] for r in rows if r["kind"] == "dialogue"] == [
        "Naruto Uzumaki", "Sasuke Uchiha", "Sakura Haruno", "Naruto Uzumaki"]


def srt_starts(srt: Path) -> list[float]:
    """Start times (seconds) of an SRT file's cues, in order."""
    starts = re.findall(r"^(\d\d):(\d\d):(\d\d),(\d{3}) -->", srt.read_text(encoding="utf-8"), re.MULTILINE)
    return [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms in starts]


def test_every_line_is_heard_in_order_at_its_transcript_time(short_episode: Episode) -> None:
    timeline = short_episode.timeline
    rate = timeline.sample_rate
    audio = decode(short_episode.mp3, rate)
    assert len(audio) / rate == pytest.approx(timeline.seconds, abs=0.1)
    starts = srt_starts(short_episode.files.srt)
    assert len(starts) == len(timeline.cues)
    clips = {cue.clip_path: load_clip(cue.clip_path, rate)[: cue.frames].astype(np.float32) for cue in timeline.cues}
    for cue, start in zip(timeline.cues, starts, strict=True):
        # each line is found in the MP3 within 50 ms of where the transcript says it starts
        at = round(start * rate)
        scores = {path: best_match(audio, clip, at, search=rate // 20) for path, clip in clips.items()}
        assert scores[cue.clip_path] > 0.8, cue.segment.text  # the limiter bends the waveform a little
        assert max(scores, key=scores.get) == cue.clip_path, cue.segment.text


def test_no_long_silences_and_scene_break_is_the_longest(short_episode: Episode) -> None:
    timeline = short_episode.timeline
    rate = timeline.sample_rate
    speech = np.concatenate(list(render(timeline)))  # the voices alone: the bed fills every pause
    gaps = silences(speech, rate, minimum=0.15)
    assert max(length for _, length in gaps) < 2.6
    inner = [(start, length) for start, length in gaps if 1.0 < start < len(speech) / rate - 2.0]
    longest_start, longest = max(inner, key=lambda gap: gap[1])
    scene_cue = next(c for c in timeline.cues if c.segment.scene == 1)
    assert longest_start < scene_cue.start / rate <= longest_start + longest + 0.02
    last_word = timeline.cues[-1].end / rate  # after it the bed fades out
    assert not [gap for gap in silences(decode(short_episode.mp3, rate), rate, minimum=1.0)
                if 0.5 < gap[0] < last_word]  # no dead air: the bed fills the pauses


def test_duration_fits_the_words(short_episode: Episode) -> None:
    words = sum(len(c.segment.text.split()) for c in short_episode.timeline.cues)
    speech = sum(c.frames for c in short_episode.timeline.cues) / short_episode.timeline.sample_rate
    assert 100 < words / (speech / 60) < 260  # words per minute across casts of 140-180 wpm


def test_a_line_in_two_cast_voices_sounds_different(tmp_path: Path) -> None:
    cast_text = (CASTS / "seeds.yaml").read_text()
    low = tmp_path / "low.yaml"
    high = tmp_path / "high.yaml"
    low.write_text(cast_text.replace("voice: en-us+m3\n    rate: 180\n    pitch: 58",
                                     "voice: en-us+m3\n    rate: 180\n    pitch: 10"))
    high.write_text(cast_text.replace("voice: en-us+m3\n    rate: 180\n    pitch: 58",
                                      "voice: en-us+f2\n    rate: 180\n    pitch: 90"))
    pitches = []
    for cast in (low, high):
        episode = produce(SHORT, load_cast(cast), tmp_path / cast.stem)
        cue = next(c for c in episode.timeline.cues if c.segment.speaker == "Naruto Uzumaki")
        rate = episode.timeline.sample_rate
        audio = decode(episode.mp3, rate)[cue.start: cue.end]
        pitches.append(fundamental_hz(audio, rate))
    assert pitches[1] > 1.5 * pitches[0]


def test_edited_script_is_rendered_as_edited(tmp_path: Path, short_episode: Episode) -> None:
    script_file = tmp_path / "short-chapter.script.jsonl"
    rows = [json.loads(line) for line in short_episode.files.script.read_text().splitlines()]
    target = next(r for r in rows if r["speaker"] == "Sasuke Uchiha")
    target["speaker"] = "Sakura Haruno"
    script_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    episode = produce(script_file, load_cast(CASTS / "seeds.yaml"), tmp_path / "out")
    cue = next(c for c in episode.timeline.cues if c.segment.start == target["start"])
    assert cue.segment.speaker == "Sakura Haruno"
    assert episode.mp3.name == "short-chapter.mp3"


def test_cli_produce_with_bundled_tools(tmp_path: Path) -> None:
    result = run_cli("produce", SHORT, "--cast", CASTS / "seeds.yaml", "-o", tmp_path, "-q",
                     env={"AUDIODRAMA_BUNDLED": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    audio = decode(tmp_path / "short-chapter.mp3")
    assert len(audio) / 22050 > 10


@pytest.mark.parametrize("bundled", ["0", "1"])
def test_doctor_names_engine_and_ffmpeg(bundled: str) -> None:
    if bundled == "0" and not (shutil.which("ffmpeg") and shutil.which("espeak-ng")):
        pytest.skip("the system has no espeak-ng/ffmpeg of its own")
    result = run_cli("doctor", env={"AUDIODRAMA_BUNDLED": bundled})
    assert result.returncode == 0
    source = "bundled" if bundled == "1" else "system"
    lines = {line.partition(":")[0]: line for line in result.stdout.splitlines()}
    assert f"({source})" in lines["engine"]
    assert f"({source})" in lines["ffmpeg"]
    assert "espeak-ng 1." in result.stdout


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "chapter.txt: cannot read the chapter: No such file or directory"),
        ("empty", "chapter.txt: the chapter is empty"),
        ("yaml", "cast.yaml:3:1: YAML syntax error"),
        ("key", "cast.yaml:2:12: unknown key 'pich'"),
        ("voice", "cast.yaml:2:19: voice 'en-zz' is not installed"),
    ],
)
def test_bad_input_one_line_status_2_nothing_written(tmp_path: Path, setup: str, message: str) -> None:
    chapter = tmp_path / "chapter.txt"
    cast = tmp_path / "cast.yaml"
    chapter.write_text("" if setup == "empty" else '"Hi," said Naruto.\n')
    cast.write_text({
        "yaml": "characters:\n  Naruto: [unclosed\n",
        "key": "characters:\n  Naruto: {pich: 3}\n",
        "voice": "characters:\n  Naruto: {voice: en-zz}\n",
    }.get(setup, "characters:\n  Naruto: {gender: male}\n"))
    if setup == "missing":
        chapter.unlink()
    out = tmp_path / "out"
    result = run_cli("produce", chapter, "--cast", cast, "-o", out, "-q")
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_module_entry_point_and_help() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("produce", "script", "voices", "doctor"):
        assert command in result.stdout


def test_seed_chapter_produces_a_full_episode(tmp_path: Path) -> None:
    episode = produce(SAMPLES / "chapter-000.txt", load_cast(CASTS / "seeds.yaml"), tmp_path)
    audio = decode(episode.mp3, episode.timeline.sample_rate)
    assert len(audio) / episode.timeline.sample_rate == pytest.approx(episode.timeline.seconds, abs=0.15)
    assert episode.lines > 200
    assert len({c.segment.speaker for c in episode.timeline.cues}) >= 6
    assert (REPO / "casts" / "seeds.yaml").exists()


def test_bed_is_heard_between_lines_and_ducked_under_speech(short_episode: Episode) -> None:
    timeline = short_episode.timeline
    rate = timeline.sample_rate
    ambience = Settings().ambience
    attack, release = (round(ms * rate / 1000) for ms in (ambience.attack_ms, ambience.release_ms))
    gaps = [(a.end + release, b.start - attack) for a, b in itertools.pairwise(timeline.cues)]
    gaps = [(start, end) for start, end in gaps if end - start > rate // 20]
    assert gaps
    audio = decode(short_episode.mp3, rate)
    for start, end in gaps:  # the MP3 is not silent between lines: the bed is there
        assert rms_db(audio[start:end]) > -50
    bed = BedTrack.for_timeline(timeline, ambience)
    only_bed = np.concatenate(list(render(timeline, gain_db=2.0, bed=bed))) - np.concatenate(
        list(render(timeline, gain_db=2.0)))
    between = max(rms_db(only_bed[start:end]) for start, end in gaps)
    for cue in timeline.cues:
        under = only_bed[cue.start + attack: cue.end - release]
        assert rms_db(under) < between - 10, cue.segment.text


def test_episode_loudness_and_true_peak_on_the_mp3(short_episode: Episode) -> None:
    rate = short_episode.timeline.sample_rate
    audio = decode(short_episode.mp3, rate).astype(np.float64)
    assert pyloudnorm.Meter(rate).integrated_loudness(audio) == pytest.approx(-16.0, abs=0.5)
    assert 20 * np.log10(true_peak(audio)) <= -1.0


def test_rerun_with_nothing_changed_writes_nothing(tmp_path: Path) -> None:
    cast = load_cast(CASTS / "seeds.yaml")
    first = produce(SHORT, cast, tmp_path)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    again = produce(SHORT, cast, tmp_path)
    assert again.synthesized == 0 and again.loudness is None
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()} == before
    assert first.timeline == again.timeline


def test_produce_reads_and_parses_the_chapter_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The genders auto-casting needs travel with the parse: a speaker the cast lacks ("Group" in the seed
    chapter) no longer makes produce read the chapter a second time and discover its characters again."""
    chapter = tmp_path / "chapter.txt"
    chapter.write_text((SAMPLES / "chapter-000.txt").read_text(encoding="utf-8")[:6000], encoding="utf-8")
    reads: list[Path] = []
    real_read_bytes = Path.read_bytes

    def counting_read_bytes(path: Path) -> bytes:
        if path.resolve() == chapter.resolve():
            reads.append(path)
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", counting_read_bytes)
    episode = produce(chapter, Cast(), tmp_path / "out", Settings(announce_title=False))
    assert episode.lines > 0
    assert len(reads) == 1
