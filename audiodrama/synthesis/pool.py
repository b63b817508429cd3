"""Worker processes holding warm engines: a segfault, a hang or a stray `print` in the engine cannot take
the production down. A worker that crashes or exceeds its time is killed and replaced and the line
retried; after `ATTEMPTS` failures an `EngineError` names the line.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from audiodrama.errors import EngineError
from audiodrama.synthesis.engine import VoiceInfo, engine_class
from audiodrama.synthesis.render import render_clip
from audiodrama.synthesis.voices import Voice

ATTEMPTS = 3
"""How many times a line is tried (each time in a fresh worker) before synthesis gives up."""

WARM_UP_TEXT = "Ready."
"""Spoken once by every new engine before its first line; engines misbehave on their first call."""

_WORKER_CODE = "from audiodrama.synthesis.pool import _worker_entry; _worker_entry()"

STARTUP_TIMEOUT = 60.0
"""Seconds a new worker may take to load and warm up its engine (at least the per-line timeout)."""




def list_voices(engine: str = "pyttsx3") -> list[VoiceInfo]:
    """The voices an engine offers, asked of the engine in a worker process."""
    with _Worker.start(engine, warm_up=False) as worker:
        worker.conn.send(("voices",))
        for expected in ("ready", "voices"):
            reply = _receive(worker, timeout=60.0, doing="listing voices")
            if reply[0] != expected:
                raise EngineError(f"unexpected reply {reply[0]!r} while listing voices")
    return reply[1]


def _worker_entry() -> None:
    """Entry point of a worker process (see `_Worker.start`): serve the connection on fd `argv[1]`."""
    conn = Connection(int(sys.argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    engine_name, scratch, warm_up = conn.recv()
    folder = Path(scratch)
    try:
        engine = engine_class(engine_name)()
        if warm_up and engine.warm_up_voice is not None:
            render_clip(engine, WARM_UP_TEXT, engine.warm_up_voice, folder / f"warm-up-{os.getpid()}.wav", folder)
    except Exception as error:
        conn.send(("failed", f"engine did not start: {type(error).__name__}: {error}"))
        return
    conn.send(("ready",))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if message[0] == "voices":
                reply = ("voices", engine.voices())
            else:
                _, text, voice, dest = message
                reply = ("done", *render_clip(engine, text, voice, Path(dest), folder))
        except Exception as error:
            reply = ("failed", f"{type(error).__name__}: {error}")
        try:
            conn.send(reply)
        except OSError:  # the parent is gone
            return


@dataclass
class Job:
    """One clip to make, and how its attempts went."""

    key: str
    """The clip's content hash."""
    text: str
    """What to say."""
    voice: Voice
    """Who says it."""
    label: str
    """Names the line in errors (the first request that asked for it)."""
    path: Path
    """Where the finished clip goes in the cache."""
    pieces: int
    """How many pieces the text is split into (the timeout is per piece)."""
    failures: list[str] = field(default_factory=list)
    """Why each failed attempt failed."""


class _Worker:
    """One worker process and the connection to it.

    Workers are fresh interpreters (not `multiprocessing` children, which would re-run an unguarded
    `__main__`), with stdout on /dev/null: engines print (pyttsx3 prints "Audio saved to ..."),
    and nothing may reach the product's stdout. Replies travel only through the connection; stderr
    goes to a log whose last line explains a crash.
    """

    def __init__(self, process: subprocess.Popen, conn: Connection, scratch: Path, log: Path, owns: bool) -> None:
        self.process, self.conn, self.scratch, self.log, self.owns_scratch = process, conn, scratch, log, owns
        self.job: Job | None = None
        self.ready = False
        self.deadline = 0.0

    @classmethod
    def start(cls, engine: str, *, warm_up: bool = True, scratch: Path | None = None) -> _Worker:
        folder = scratch or Path(tempfile.mkdtemp(prefix="audiodrama-"))
        ours, theirs = socket.socketpair()
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p or os.getcwd() for p in sys.path)}
        handle, log = tempfile.mkstemp(prefix="worker-", suffix=".log", dir=folder)
        with theirs, open(handle, "wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_CODE, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=environment,
            )
        conn = Connection(ours.detach())
        conn.send((engine, str(folder), warm_up))
        return cls(process, conn, folder, Path(log), owns=scratch is None)

    def death(self) -> str:
        """Why the process ended (after its connection closed), with its last words on stderr."""
        try:
            code = self.process.wait(5)
        except subprocess.TimeoutExpired:
            return "worker closed its connection"
        if code < 0:
            name = next((s.name for s in signal.Signals if s.value == -code), "unknown")
            reason = f"worker crashed (signal {-code}, {name})"
        else:
            reason = f"worker exited with status {code}"
        said = [line.strip() for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        return f"{reason}: {said[-1][:200]}" if said else reason

    def stop(self) -> None:
        self.conn.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(5)
        if self.owns_scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def __enter__(self) -> _Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _receive(worker: _Worker, *, timeout: float, doing: str) -> tuple:
    """The worker's next reply, or EngineError when it dies, fails or stays silent for `timeout`."""
    if not worker.conn.poll(timeout):
        raise EngineError(f"worker hung while {doing}")
    try:
        reply = worker.conn.recv()
    except EOFError:
        raise EngineError(f"{worker.death()} while {doing}") from None
    if reply[0] == "failed":
        raise EngineError(f"{reply[1]} while {doing}")
    return reply


class Pool:
    """Worker processes running jobs, replacing any that crash, hang or fail."""

    def __init__(self, engine: str, size: int, timeout: float, scratch: Path) -> None:
        self.engine, self.size, self.timeout = engine, size, timeout
        self.scratch = scratch
        """Where the workers write pieces before a whole clip is moved into the cache."""
        self.workers: list[_Worker] = []
        self.start_failures: list[str] = []

    def run(self, jobs: list[Job], finished: Callable[[Job, int, int], None]) -> None:
        """Run every job; `finished(job, frames, rate)` as each clip lands in the cache."""
        pending = deque(jobs)
        try:
            while pending or any(w.job for w in self.workers):
                while len(self.workers) < min(self.size, len(pending) + sum(bool(w.job) for w in self.workers)):
                    self._spawn(self.scratch)
                for worker in self.workers:
                    if worker.ready and not worker.job and pending:
                        self._assign(worker, pending.popleft())
                self._wait(pending, finished)
        finally:
            for worker in self.workers:
                worker.stop()

    def _spawn(self, scratch: Path) -> None:
        worker = _Worker.start(self.engine, scratch=scratch)
        worker.deadline = time.monotonic() + max(self.timeout, STARTUP_TIMEOUT)
        self.workers.append(worker)

    def _assign(self, worker: _Worker, job: Job) -> None:
        worker.job = job
        worker.deadline = time.monotonic() + self.timeout * job.pieces
        worker.conn.send(("line", job.text, job.voice, str(job.path)))

    def _wait(self, pending: deque[Job], finished: Callable[[Job, int, int], None]) -> None:
        watched = [w.deadline for w in self.workers if w.job or not w.ready]  # idle workers have no deadline
        timeout = max(0.0, min(watched) - time.monotonic()) if watched else None
        for conn in wait([w.conn for w in self.workers], timeout=timeout):
            worker = next(w for w in self.workers if w.conn is conn)
            try:
                reply = conn.recv()
            except EOFError:
                self._retire(worker, worker.death(), pending)
                continue
            if reply[0] == "ready":
                worker.ready = True
                self.start_failures.clear()
            elif reply[0] == "done" and worker.job:  # a worker only answers the job it was given
                finished(worker.job, reply[1], reply[2])
                worker.job = None
            else:
                self._retire(worker, reply[1], pending)
        now = time.monotonic()
        for worker in [w for w in self.workers if w.deadline <= now and (w.job or not w.ready)]:
            what = f"no answer in {self.timeout:g} s per piece" if worker.job else "did not start"
            self._retire(worker, f"worker hung ({what})", pending)

    def _retire(self, worker: _Worker, reason: str, pending: deque[Job]) -> None:
        """Kill `worker` and put its job back, or raise when the job or the engine keeps failing."""
        worker.stop()
        self.workers.remove(worker)
        job = worker.job
        if job is None:
            self.start_failures.append(reason)
            if len(self.start_failures) >= ATTEMPTS:
                raise EngineError(f"speech engine {self.engine!r} failed {ATTEMPTS} times: {reason}")
            return
        job.failures.append(reason)
        if len(job.failures) >= ATTEMPTS:
            text = job.text
            excerpt = text if len(text) <= 40 else text[:40].rstrip() + "…"
            raise EngineError(f"{job.label}: '{excerpt}' failed {len(job.failures)} times: {reason}")
        pending.appendleft(job)
