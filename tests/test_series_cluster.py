"""`audiodrama batch --scheduler`: the fixture series built on Dask clusters of real processes on
127.0.0.1 (a LocalCluster; `dask scheduler` and `dask worker` commands, one worker killed while it holds
an episode), byte for byte as a local build; an unreachable scheduler; an episode failing every try."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from audiodrama.series.cluster import ATTEMPTS
from tests.conftest import REPO, run_cli
from tests.series_helpers import NAMES, SUFFIXES, copy_series, live_processes, out_of

distributed = pytest.importorskip("distributed")
DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cluster_series(folder: Path) -> Path:
    """The fixture series with intro music (a second of a tone, a file every worker must be sent); the
    manifest."""
    manifest = copy_series(folder)
    tone = (np.sin(np.arange(22050) * 2 * np.pi * 440 / 22050) * 8000).astype("<i2")
    with wave.open(str(folder / "sting.wav"), "wb") as sting:
        sting.setnchannels(1)
        sting.setsampwidth(2)
        sting.setframerate(22050)
        sting.writeframes(tone.tobytes())
    manifest.write_text(manifest.read_text() + "production:\n  intro: sting.wav\n")
    return manifest


def cached(folder: Path) -> dict[str, str]:
    """The environment giving a build its own, empty, clip cache."""
    return {"AUDIODRAMA_CACHE": str(folder / "cache")}


def assert_same_episodes(out: Path, reference: Path) -> None:
    for name, suffix in itertools.product(NAMES, SUFFIXES):
        assert (out / f"{name}{suffix}").read_bytes() == (reference / f"{name}{suffix}").read_bytes(), name + suffix


def statuses(out: Path) -> list[tuple[str, str]]:
    return [(e["name"], e["status"]) for e in json.loads((out / "report.json").read_text())["episodes"]]


@pytest.fixture(scope="module")
def local_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture series built here, one job, from an empty clip cache: its output folder."""
    folder = tmp_path_factory.mktemp("local")
    manifest = cluster_series(folder)
    result = run_cli("batch", manifest, "--jobs", "1", env=cached(folder))
    assert result.returncode == 0, result.stderr
    return out_of(manifest)


@pytest.mark.slow
@pytest.mark.parametrize("where", [["--jobs", "2"], ["--scheduler", "local:2"]], ids=["two-jobs", "local-cluster"])
def test_two_jobs_and_a_local_cluster_build_the_series_byte_for_byte_as_one_job(
        local_build: Path, tmp_path: Path, where: list[str]) -> None:
    manifest = cluster_series(tmp_path)
    result = run_cli("batch", manifest, *where, env=cached(tmp_path))
    assert result.returncode == 0, result.stderr
    out = out_of(manifest)
    assert statuses(out) == [(name, "built") for name in NAMES]
    assert_same_episodes(out, local_build)
    if "--scheduler" in where:
        assert "cluster: 2 workers (2 episodes at a time) at tcp://127.0.0.1:" in result.stderr
        assert "dashboard http://127.0.0.1:" in result.stderr
        assert "Traceback" not in result.stderr and "distributed." not in result.stderr
        assert result.stdout == ""


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[tuple[str, dict[str, subprocess.Popen]]]:
    """`dask scheduler` and two `dask worker` processes (one thread each, no nanny, each with its own
    clip cache) on 127.0.0.1: the scheduler's address and the workers by name."""
    if DASK is None:
        pytest.skip("the `dask` command is not installed")
    address = f"tcp://127.0.0.1:{free_port()}"
    started: list[subprocess.Popen] = []

    def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(tmp_path / f"{'-'.join(args[:3]).replace('/', '')}.log", "wb")  # noqa: SIM115 (closed below)
        started.append(subprocess.Popen([DASK, *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                        env={**os.environ, **(env or {})}))
        log.close()
        return started[-1]

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard")
        workers = {name: start("worker", address, "--name", name, "--host", "127.0.0.1", "--nthreads", "1",
                               "--no-nanny", "--no-dashboard", "--local-directory", str(tmp_path / name),
                               env=cached(tmp_path / name))
                   for name in ("one", "two")}
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address, workers
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.slow
def test_a_worker_killed_while_it_holds_an_episode_leaves_it_to_another(
        local_build: Path, dask_cluster: tuple[str, dict[str, subprocess.Popen]], tmp_path: Path) -> None:
    address, workers = dask_cluster
    manifest = cluster_series(tmp_path / "series")
    batch = subprocess.Popen([sys.executable, "-m", "audiodrama", "batch", str(manifest), "--scheduler", address],
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with distributed.Client(address, timeout=60) as watcher:
        deadline, seen = time.monotonic() + 300, {}
        victim = None
        while victim is None:  # an episode a worker has been running for a second
            assert batch.poll() is None and time.monotonic() < deadline, "no episode was seen running"
            time.sleep(0.1)
            now = time.monotonic()
            held = {(w, k) for w, keys in watcher.processing().items() for k in keys if k.startswith("episode-")}
            seen = {pair: seen.get(pair, now) for pair in held}
            victim = next((w for (w, k), since in seen.items() if now - since > 1 and watcher.call_stack(keys=[k])),
                          None)
        name = watcher.scheduler_info()["workers"][victim]["name"]
        os.kill(workers[name].pid, signal.SIGKILL)
        workers[name].wait()
    stdout, stderr = batch.communicate(timeout=300)
    assert batch.returncode == 0, stderr
    out = out_of(manifest)
    assert statuses(out) == [(n, "built") for n in NAMES]
    assert_same_episodes(out, local_build)
    assert "cluster: 2 workers (2 episodes at a time)" in stderr and stdout == ""
    assert all(worker.poll() is None for n, worker in workers.items() if n != name)
    while live_processes(workers[name].pid):  # the killed worker's synthesis processes notice and exit
        assert time.monotonic() < deadline
        time.sleep(0.1)


@pytest.mark.slow
def test_an_episode_failing_on_every_try_is_reported_and_the_others_finish(tmp_path: Path) -> None:
    copy_series(tmp_path)
    (tmp_path / "empty.txt").write_text("\n\n")
    manifest = tmp_path / "failing.yaml"
    manifest.write_text("title: Failing\ncast: cast.yaml\nepisodes: [empty.txt, ch2.txt]\n")
    result = run_cli("batch", manifest, "--scheduler", "local:2", env=cached(tmp_path))
    assert result.returncode == 1, result.stderr
    assert "1. empty: failed: " in result.stderr and "the chapter is empty" in result.stderr
    assert f"(tried {ATTEMPTS} times)" in result.stderr and "Traceback" not in result.stderr
    assert "1 built, 0 skipped, 1 failed" in result.stderr
    assert (tmp_path / "output" / "failing" / "ch2.mp3").exists()
    assert not (tmp_path / "output" / "failing" / "empty.mp3").exists()


def answer_with_nonsense(listener: socket.socket) -> None:
    """Answer every connection to `listener` as a web server would, until it is closed."""
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>not dask</html>\n")


def test_an_unreachable_scheduler_is_one_line_naming_it_exit_2_within_seconds(tmp_path: Path) -> None:
    manifest = copy_series(tmp_path)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        threading.Thread(target=answer_with_nonsense, args=(listener,), daemon=True).start()
        web = f"127.0.0.1:{listener.getsockname()[1]}"
        for option, environment, address in (
                (["--scheduler", f"tcp://127.0.0.1:{free_port()}"], {}, ""),  # nothing listens: refused
                ([], {"DASK_SCHEDULER_ADDRESS": web}, web),  # something else answers
                (["--scheduler", "nonsense://somewhere"], {}, "nonsense://somewhere")):
            started = time.monotonic()
            result = run_cli("batch", manifest, *option, env=environment)
            address = address or option[1]
            assert result.returncode == 2, result.stderr
            assert time.monotonic() - started < 20
            assert result.stderr.startswith(f"audiodrama: error: cannot reach the Dask scheduler at {address}: ")
            assert result.stderr.count("\n") == 1, result.stderr
    assert not list(out_of(manifest).glob("*.mp3"))
