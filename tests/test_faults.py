"""Faults during a production, for real: the engine's worker segfaults or hangs, ffmpeg is missing or
fails, the disk fills (a file size limit), Ctrl-C and kill -9 mid-run. Each is contained and reported,
the episode made before survives byte for byte, and nothing half-written is left."""

from __future__ import annotations

import dataclasses
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audiodrama.casting.cast import Cast
from audiodrama.episode import produce
from audiodrama.errors import EngineError
from audiodrama.settings import Settings
from tests.conftest import REPO, run_cli
from tests.series_helpers import live_processes
from tests.test_hostile_input import assert_refused, older, out, snapshot  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
"""Every test here renders seconds of real audio or more."""

FAULTY = "engines_for_tests.faulty:FaultyEngine"
LINES = "\n\n".join(f"Line {n} of the long night, and the rain kept falling on the village roofs." for n in range(16))


def test_engine_segfault_on_a_line_names_the_line(tmp_path: Path, out: Path) -> None:  # noqa: F811
    chapter = tmp_path / "chapter.txt"
    chapter.write_text("The storm came.\n\n[segv] The ground shook under them all.\n")
    settings = dataclasses.replace(Settings(), engine=FAULTY, jobs=1, cache_dir=tmp_path / "cache")
    with pytest.raises(EngineError, match=r"chapter\.txt offset 17 \(narrator\).*failed 3 times: worker crashed "
                                          r"\(signal 11, SIGSEGV\)"):
        produce(chapter, Cast(), out, settings)


def test_engine_hanging_once_is_killed_and_the_episode_finishes(tmp_path: Path) -> None:
    flag = tmp_path / "hung-once"
    chapter = tmp_path / "chapter.txt"
    chapter.write_text(f"The storm came.\n\n[hang once={flag}] The ground shook under their feet as the storm "
                       "rolled over the hills and the village.\n")
    settings = dataclasses.replace(Settings(), engine=FAULTY, jobs=1, timeout=3.0, cache_dir=tmp_path / "cache")
    episode = produce(chapter, Cast(), tmp_path / "out", settings)
    assert flag.exists() and episode.mp3.stat().st_size > 10_000 and episode.lines == 2


def failing_ffmpeg(folder: Path) -> dict[str, str]:
    """An environment whose first `ffmpeg` on PATH says why it fails and exits 1."""
    fake = folder / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'simulated: encoder exploded' >&2\nexit 1\n")
    fake.chmod(0o755)
    return {"PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}", "AUDIODRAMA_BUNDLED": "0"}


def test_ffmpeg_failing(tmp_path: Path, out: Path, older: Path) -> None:  # noqa: F811
    (tmp_path / "settings.yaml").write_text("bitrate: 128k\n")  # the episode must be encoded again
    result = run_cli("produce", older.parent / "chapter.txt", "--settings", tmp_path / "settings.yaml", "-o", out,
                     "-q", env=failing_ffmpeg(tmp_path))
    assert_refused(result, "chapter.mp3: ffmpeg failed to encode the MP3: simulated: encoder exploded")


def test_ffmpeg_missing_is_reported_before_any_work(tmp_path: Path, out: Path, older: Path) -> None:  # noqa: F811
    missing = tmp_path / "no-ffmpeg-here"
    result = run_cli("produce", older.parent / "chapter.txt", "-o", out, "-q",
                     env={"AUDIODRAMA_BUNDLED": "1", "IMAGEIO_FFMPEG_EXE": str(missing),
                          "AUDIODRAMA_CACHE": str(tmp_path / "cache")})
    assert_refused(result, f"{missing}: ffmpeg not found")
    assert not (tmp_path / "cache").exists(), "nothing synthesised"


def file_size_limit(limit: int):
    """A preexec function: files the child writes may not grow beyond `limit` bytes (a full disk)."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_disk_full_while_encoding(tmp_path: Path, out: Path, older: Path) -> None:  # noqa: F811
    (tmp_path / "settings.yaml").write_text("bitrate: 128k\n")  # clips cached: only the MP3 grows big
    result = subprocess.run([sys.executable, "-m", "audiodrama", "produce", older.parent / "chapter.txt",
                             "--settings", tmp_path / "settings.yaml", "-o", out, "-q"],
                            capture_output=True, text=True, timeout=300, preexec_fn=file_size_limit(20_000))
    assert_refused(result, "chapter.mp3: ffmpeg failed to encode the MP3")


def test_disk_full_while_writing_a_script(tmp_path: Path, out: Path, older: Path) -> None:  # noqa: F811
    chapter = tmp_path / "chapter.txt"
    chapter.write_text(LINES * 20)
    result = subprocess.run([sys.executable, "-m", "audiodrama", "script", chapter, "-o", out / "chapter.yaml"],
                            capture_output=True, text=True, timeout=300, preexec_fn=file_size_limit(20_000))
    assert_refused(result, "chapter.yaml: File too large")


def start_produce(chapter: Path, out_dir: Path, cache: Path) -> subprocess.Popen[str]:
    """`produce` in a session of its own, as a terminal would run it."""
    return subprocess.Popen([sys.executable, "-m", "audiodrama", "produce", str(chapter), "-o", str(out_dir),
                             "-q", "--jobs", "2"], cwd=REPO, env={**os.environ, "AUDIODRAMA_CACHE": str(cache)},
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for(condition, process: subprocess.Popen[str]) -> None:
    """Poll until `condition()`, failing if the process ends first (hang guard: 5 minutes)."""
    deadline = time.monotonic() + 300
    while not condition():
        assert process.poll() is None, "the run ended before the fault"
        assert time.monotonic() < deadline
        time.sleep(0.02)


def wait_until_gone(group: int) -> None:
    """Until no process of the session is left (hang guard: 1 minute)."""
    deadline = time.monotonic() + 60
    while live_processes(group):
        assert time.monotonic() < deadline, "processes left behind"
        time.sleep(0.1)


def test_ctrl_c_mid_synthesis_stops_cleanly_and_says_how_to_resume(tmp_path: Path) -> None:
    chapter, out_dir, cache = tmp_path / "chapter.txt", tmp_path / "out", tmp_path / "cache"
    chapter.write_text(LINES)
    run = start_produce(chapter, out_dir, cache)
    wait_for(lambda: any(cache.glob("??/*.wav")), run)
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, (run.returncode, stderr)
    assert stderr.strip().splitlines()[-1] == "audiodrama: interrupted; run the same command again to resume"
    assert "Traceback" not in stderr
    wait_until_gone(run.pid)
    assert not list(out_dir.iterdir()), "no partial output"
    assert not list(cache.glob(".run-*")), "no scratch left"
    result = run_cli("produce", chapter, "-o", out_dir, "-q", env={"AUDIODRAMA_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["chapter.mp3", "chapter.script.jsonl", "chapter.srt",
                                                         "chapter.vtt"]


def test_kill_9_while_encoding_then_the_rerun_completes(tmp_path: Path) -> None:
    chapter, out_dir, cache = tmp_path / "chapter.txt", tmp_path / "out", tmp_path / "cache"
    chapter.write_text(LINES)
    run = start_produce(chapter, out_dir, cache)
    wait_for(lambda: out_dir.is_dir() and any(out_dir.glob(".chapter.mp3.*.part")), run)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    wait_until_gone(run.pid)  # its workers and ffmpeg notice and exit
    assert not (out_dir / "chapter.mp3").exists()
    result = run_cli("produce", chapter, "-o", out_dir, env={"AUDIODRAMA_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr
    assert "0 clips synthesised" in result.stderr, "the clips made before the kill are reused"
    assert sorted(snapshot(out_dir)) == ["chapter.mp3", "chapter.script.jsonl", "chapter.srt", "chapter.vtt"]


def night_series(folder: Path) -> Path:
    """Two chapters of 80 distinct lines each (seconds of synthesis to interrupt) and their manifest."""
    for number in (1, 2):
        (folder / f"ch{number}.txt").write_text("\n\n".join(
            f"Chapter {number}, line {n} of the long night, and the rain kept falling." for n in range(80)))
    manifest = folder / "series.yaml"
    manifest.write_text("title: Night\nepisodes: [ch1.txt, ch2.txt]\n")
    return manifest


def start_batch(manifest: Path, cache: Path, *flags: str) -> subprocess.Popen[str]:
    """`batch --jobs 2` in a session of its own, as a terminal would run it."""
    return subprocess.Popen([sys.executable, "-m", "audiodrama", "batch", str(manifest), "--jobs", "2", *flags],
                            cwd=REPO, env={**os.environ, "AUDIODRAMA_CACHE": str(cache)}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def episode_workers(batch: int) -> list[int]:
    """The batch's worker processes, one per episode under way."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == batch and b"multiprocessing.spawn" in command:
            found.append(int(stat.parent.name))
    return found


def test_an_episode_worker_killed_fails_only_its_episode(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    run = start_batch(night_series(tmp_path), cache)
    wait_for(lambda: any(cache.glob("??/*.wav")) and len(episode_workers(run.pid)) == 2, run)
    victim = min(episode_workers(run.pid))  # started first: episode 1
    os.kill(victim, signal.SIGKILL)
    _, stderr = run.communicate(timeout=300)
    assert run.returncode == 1, stderr
    assert "1. ch1: failed: worker failed: killed by signal 9 (SIGKILL)" in stderr
    assert "1 built, 0 skipped, 1 failed" in stderr and "Traceback" not in stderr
    assert sorted(p.name for p in (tmp_path / "output").rglob("*.mp3")) == ["ch2.mp3"]


@pytest.mark.parametrize("whole_group", [True, False], ids=["terminal-ctrl-c", "parent-only"])
def test_ctrl_c_mid_batch_stops_without_finishing_the_episodes(tmp_path: Path, whole_group: bool) -> None:
    cache, manifest = tmp_path / "cache", night_series(tmp_path)
    run = start_batch(manifest, cache, "-q")
    wait_for(lambda: any(cache.glob("??/*.wav")), run)
    if whole_group:
        os.killpg(run.pid, signal.SIGINT)
    else:
        os.kill(run.pid, signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, (run.returncode, stderr)
    assert stderr.strip().splitlines()[-1] == "audiodrama: interrupted; run the same command again to resume"
    assert "Traceback" not in stderr
    wait_until_gone(run.pid)  # episode workers notice the batch is gone and stop
    made = len(list(cache.glob("??/*.wav")))
    assert made < 2 * 80, "the episodes under way were not run to their end"
    result = run_cli("batch", manifest, "-q", env={"AUDIODRAMA_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "output").rglob("*.mp3")) == ["ch1.mp3", "ch2.mp3"]
