"""`audiodrama batch`: a three-episode series built with the real engine and ffmpeg, rebuilt after an edit,
killed and resumed; a failed episode, the feed, and what the plan said against what was built."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from audiodrama.casting.autocast import DISTINCT, distance
from audiodrama.errors import InputError
from audiodrama.series.build import build_series
from audiodrama.series.feed import ITUNES, duration, guid
from audiodrama.series.manifest import load_series
from audiodrama.series.plan import preview
from audiodrama.series.report import BatchReport
from audiodrama.series.state import read_state
from tests.conftest import REPO, run_cli
from tests.series_helpers import FIXTURE, NAMES, SUFFIXES, copy_series, live_processes, out_of

pytestmark = pytest.mark.slow
"""Every test here renders seconds of real audio or more."""


def wavs(cache: Path) -> int:
    return len(list(cache.glob("??/*.wav")))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BatchReport]:
    """The fixture series built once (two episodes at a time)."""
    manifest = copy_series(tmp_path_factory.mktemp("series"))
    return manifest, build_series(load_series(manifest), jobs=2)


def test_three_episodes_are_built_with_tags_report_and_feed(built: tuple[Path, BatchReport]) -> None:
    manifest, report = built
    out = out_of(manifest)
    assert [(e.name, e.status) for e in report.episodes] == [(n, "built") for n in NAMES]
    assert all(e.synthesized > 0 and e.lines > 0 and e.seconds > 5 for e in report.episodes)
    for name, suffix in itertools.product(NAMES, SUFFIXES):
        assert (out / f"{name}{suffix}").stat().st_size > 0
    tags = ID3(out / "ch10.mp3")
    assert (str(tags["TIT2"]), str(tags["TALB"]), str(tags["TPE1"]), str(tags["TRCK"])) == (
        "The Road", "Series Test", "Test Author", "3")
    assert tags.getall("APIC")[0].data == (FIXTURE / "cover.png").read_bytes()
    saved = json.loads((out / "report.json").read_text())
    assert [(e["name"], e["status"]) for e in saved["episodes"]] == [(n, "built") for n in NAMES]
    assert saved["episodes"][2]["new_speakers"] == ["Jiraiya"]
    for episode in saved["episodes"]:
        lines = Path(episode["file"]).read_text().splitlines()
        for review in episode["review"]:
            assert review["confidence"] < 0.9 and review["text"] in lines[review["line"] - 1]
    markdown = (out / "report.md").read_text()
    assert "| 3 | The Road | built |" in markdown and "## Lines to review" in markdown
    assert not list(out.glob(".*.part")), "no temporary file left behind"


def test_feed_is_parsed_back_item_by_item(built: tuple[Path, BatchReport]) -> None:
    manifest, report = built
    out = out_of(manifest)
    series = load_series(manifest)
    channel = ET.parse(out / "feed.xml").getroot().find("channel")
    assert channel is not None
    itunes = f"{{{ITUNES}}}"
    assert channel.findtext("title") == "Series Test"
    assert channel.findtext("link") == "https://example.com/test/"
    assert channel.findtext("description") == "Three short episodes."
    assert channel.findtext("language") == "en-us"
    assert channel.findtext(f"{itunes}author") == "Test Author"
    assert channel.findtext(f"{itunes}explicit") == "true"
    assert channel.find(f"{itunes}image").attrib == {"href": "https://example.com/test/cover.png"}  # type: ignore[union-attr]
    assert channel.findtext("image/url") == "https://example.com/test/cover.png"
    assert (out / "cover.png").read_bytes() == (FIXTURE / "cover.png").read_bytes()
    items = channel.findall("item")
    assert len(items) == 3
    state = read_state(out)
    dates = []
    for item, spec, episode in zip(items, series.episodes, report.episodes, strict=True):
        assert item.findtext("title") == state.episodes[spec.name].title
        enclosure = item.find("enclosure")
        assert enclosure is not None
        assert enclosure.attrib == {"url": f"https://example.com/test/{spec.name}.mp3",
                                    "length": str((out / f"{spec.name}.mp3").stat().st_size), "type": "audio/mpeg"}
        assert item.findtext(f"{itunes}duration") == duration(episode.seconds)
        assert item.findtext(f"{itunes}episode") == str(spec.number)
        assert item.findtext("guid") == guid(series, spec)
        assert item.find("guid").attrib["isPermaLink"] == "false"  # type: ignore[union-attr]
        dates.append(parsedate_to_datetime(item.findtext("pubDate") or ""))
    assert [i.findtext("title") for i in items] == ["At Valley of The End", "The Hospital", "The Road"]
    assert dates == sorted(dates), "pubDate follows the episode order"
    assert len({i.findtext("guid") for i in items}) == 3


def test_no_change_rebuild_skips_everything(built: tuple[Path, BatchReport]) -> None:
    manifest, _ = built
    out = out_of(manifest)
    times = {p: p.stat().st_mtime_ns for p in out.glob("ch*")}
    feed = (out / "feed.xml").read_bytes()
    report = build_series(load_series(manifest))
    assert [e.status for e in report.episodes] == ["skipped"] * 3
    assert sum(e.synthesized for e in report.episodes) == 0
    assert {p: p.stat().st_mtime_ns for p in out.glob("ch*")} == times
    assert (out / "feed.xml").read_bytes() == feed, "same guids and dates on a rebuild"


def test_edited_chapter_rebuilds_only_that_episode_and_its_changed_line(
        built: tuple[Path, BatchReport], tmp_path: Path) -> None:
    source, _ = built
    shutil.copytree(source.parent, tmp_path, dirs_exist_ok=True)
    manifest = tmp_path / "series.yaml"
    out = out_of(manifest)
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("ch*.mp3")}
    chapter = tmp_path / "ch2.txt"
    chapter.write_text(chapter.read_text().replace("He will live.", "He will be fine."))
    report = build_series(load_series(manifest), jobs=1)
    assert [(e.name, e.status, e.synthesized) for e in report.episodes] == [
        ("ch1", "skipped", 0), ("ch2", "built", 1), ("ch10", "skipped", 0)]
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("ch*.mp3")}
    assert [name for name in before if before[name] != after[name]] == ["ch2.mp3"]
    assert "He will be fine." in (out / "ch2.srt").read_text()


def audio_and_tags(mp3: Path) -> tuple[bytes, dict[str, str]]:
    """The MP3 stream after the ID3 tag, and every tag but the build fingerprint (it hashes the clips)."""
    tags = ID3(mp3)
    return mp3.read_bytes()[tags.size:], {k: v.pprint() for k, v in tags.items() if not k.startswith("TXXX")}


def test_batch_killed_mid_episode_resumes_to_identical_outputs(built: tuple[Path, BatchReport],
                                                               tmp_path: Path) -> None:
    reference = out_of(built[0])
    manifest = copy_series(tmp_path / "series")
    out = out_of(manifest)
    cache = tmp_path / "cache"
    env = {**os.environ, "AUDIODRAMA_CACHE": str(cache)}
    batch = subprocess.Popen([sys.executable, "-m", "audiodrama", "batch", str(manifest), "--jobs", "2", "-q"],
                             cwd=REPO, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (out.is_dir() and any(out.glob(".*.mp3.*.part"))):  # an episode is being encoded
        assert batch.poll() is None, "the batch ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(batch.pid, signal.SIGKILL)
    batch.wait()
    while live_processes(batch.pid):  # its workers notice and exit
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert not (out / "feed.xml").exists(), "killed before the end"
    finished = set(read_state(out).episodes)
    clips_at_kill = wavs(cache)

    result = run_cli("batch", manifest, "--jobs", "2", env={"AUDIODRAMA_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr
    episodes = json.loads((out / "report.json").read_text())["episodes"]
    assert all(e["status"] == "skipped" for e in episodes if e["name"] in finished)
    assert sum(e["synthesized"] for e in episodes) == wavs(cache) - clips_at_kill, "no clip made twice"
    assert clips_at_kill > 0 and finished != set(NAMES)
    assert not list(out.glob(".*.part")) and not list(cache.glob("??/*.part"))
    # A clip depends only on its request, whatever order it is made in: the resumed build must equal an
    # uninterrupted build, byte for byte.
    uninterrupted = copy_series(tmp_path / "uninterrupted")
    result = run_cli("batch", uninterrupted, "--jobs", "2", env={"AUDIODRAMA_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr
    assert wavs(cache) == clips_at_kill + sum(e["synthesized"] for e in episodes)
    for name in NAMES:
        for suffix in SUFFIXES:
            resumed, whole = out / f"{name}{suffix}", out_of(uninterrupted) / f"{name}{suffix}"
            assert resumed.read_bytes() == whole.read_bytes(), resumed.name
    for name in NAMES:  # and it sounds like the build made earlier from other clips
        assert len(audio_and_tags(out / f"{name}.mp3")[0]) == pytest.approx(
            len(audio_and_tags(reference / f"{name}.mp3")[0]), rel=0.05)
        assert audio_and_tags(out / f"{name}.mp3")[1] == audio_and_tags(reference / f"{name}.mp3")[1]


def test_a_failed_episode_does_not_stop_the_others(built: tuple[Path, BatchReport], tmp_path: Path) -> None:
    copy_series(tmp_path)
    (tmp_path / "empty.txt").write_text("\n\n")
    manifest = tmp_path / "failing.yaml"
    manifest.write_text("title: Failing\ncast: cast.yaml\nepisodes: [empty.txt, ch2.txt]\n")
    result = run_cli("batch", manifest)
    assert result.returncode == 1
    assert "1. empty: failed: " in result.stderr and "the chapter is empty" in result.stderr
    assert "1 built, 0 skipped, 1 failed" in result.stderr
    assert (tmp_path / "output" / "failing" / "ch2.mp3").exists()


def test_estimated_duration_is_close_to_the_real_one(built: tuple[Path, BatchReport]) -> None:
    manifest, report = built
    previews = preview(load_series(manifest))
    assert [p.up_to_date for p in previews] == [True] * 3
    for estimate, episode in zip(previews, report.episodes, strict=True):
        assert 0.7 < estimate.seconds / episode.seconds < 1.4, (estimate.seconds, episode.seconds)


def test_only_selects_episodes(built: tuple[Path, BatchReport]) -> None:
    manifest, _ = built
    assert [p.spec.name for p in preview(load_series(manifest), "2-3")] == ["ch2", "ch10"]
    assert [p.spec.name for p in preview(load_series(manifest), "1,3")] == ["ch1", "ch10"]
    for bad in ("0", "2-4", "x", "3-1"):
        with pytest.raises(InputError, match="--only"):
            preview(load_series(manifest), bad)


def test_voices_are_recorded_across_the_built_series(built: tuple[Path, BatchReport]) -> None:
    state = read_state(out_of(built[0]))
    assert set(state.voices) == {"Yamato", "Jiraiya"}
    assert distance(state.voices["Yamato"], state.voices["Jiraiya"]) >= DISTINCT  # they share a scene
