"""Episode workers: each episode of a batch produced in a process of its own, so that one that fails or
dies fails alone, and Ctrl-C stops the episodes under way."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from audiodrama.casting.cast import Cast
from audiodrama.episode import produce
from audiodrama.errors import exit_reason
from audiodrama.export.mp3 import Tags
from audiodrama.script import Script
from audiodrama.series.manifest import EpisodeSpec


@dataclass(frozen=True)
class Job:
    """One episode for a worker to produce."""

    spec: EpisodeSpec
    """The episode."""
    cast: Cast
    """Its cast, every speaker voiced."""
    script: Script
    """Its script."""
    tags: Tags
    """Its MP3 tags."""
    out_dir: Path
    """The output folder."""
    jobs: int | None
    """Synthesis processes for its lines; None: every core of the machine it is produced on."""


@dataclass(frozen=True)
class Outcome:
    """What producing one episode gave."""

    error: str = ""
    """Why it failed; empty when it was built."""
    seconds: float = 0.0
    """Duration."""
    lines: int = 0
    """Lines voiced."""
    synthesized: int = 0
    """Clips synthesised (the rest came from the cache)."""
    bytes: int = 0
    """Size of the MP3."""
    elapsed: float = 0.0
    """Wall time taken."""


def produce_job(job: Job) -> Outcome:
    """Produce one episode; any failure is returned, not raised, so the other episodes go on."""
    started = time.monotonic()
    try:
        settings = replace(job.spec.settings, jobs=job.jobs)
        episode = produce(job.spec.file, job.cast, job.out_dir, settings, script=job.script, name=job.spec.name,
                          tags=job.tags)
    except Exception as error:  # a failed episode must not stop the others
        return Outcome(error=str(error) or type(error).__name__, elapsed=time.monotonic() - started)
    return Outcome("", episode.timeline.seconds, episode.lines, episode.synthesized, episode.mp3.stat().st_size,
                   time.monotonic() - started)


def _episode_worker(job: Job, parent: int, results: Connection) -> None:
    """In a worker process: produce `job` and send back its Outcome. Ctrl-C is left to the batch,
    which stops its workers itself; a worker exits as soon as the batch that started it is gone
    (killed), rather than finish alone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    results.send(produce_job(job))


def run_jobs(jobs: Sequence[Job], workers: int, done: Callable[[Job, Outcome], None]) -> None:
    """Produce `jobs`, `workers` episodes at a time (in this process when 1); `done` is called here
    as each finishes. Each episode has a process of its own, so a worker that dies fails only its
    episode; when interrupted, the episodes under way are stopped rather than waited for."""
    if workers <= 1:
        for job in jobs:
            done(job, produce_job(job))
        return
    context = multiprocessing.get_context("spawn")  # workers inherit no lock or open file
    waiting = deque(jobs)
    running: dict[Connection, tuple[Job, BaseProcess]] = {}
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                job = waiting.popleft()
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(target=_episode_worker, args=(job, os.getpid(), sender))
                running[receiver] = (job, process)  # before it starts: a Ctrl-C while it does still stops it
                process.start()
                sender.close()  # the worker's end: EOF here when it dies
            for receiver in wait(list(running)):
                job, process = running.pop(receiver)
                try:
                    outcome = receiver.recv()
                except EOFError:
                    process.join()
                    outcome = Outcome(error=f"worker failed: {exit_reason(process.exitcode)}")
                receiver.close()
                process.join()
                done(job, outcome)
    finally:
        started = [(receiver, process) for receiver, (_, process) in running.items() if process.pid is not None]
        for _, process in started:
            process.terminate()
        for receiver, process in started:
            process.join()
            receiver.close()
