"""Episodes on a Dask cluster (`batch --scheduler`): the alternative to `workers` when one machine is
not enough.

Each episode is one Dask task, and no shared file system is needed: the chapter, cast, settings and
script travel inside the task, the files episodes share (cover, music, ambience beds) are copied to
every worker once; a worker produces the episode in a folder of its own with its own clip
cache and sends its files back, and the client writes them here, atomically, before the batch
records the episode. A worker that dies takes its episode with it and Dask runs it elsewhere; an
episode that fails is tried `ATTEMPTS` times in all. Synthesis is deterministic, so the files are
byte for byte a local build's, provided every worker runs the same code, engine and ffmpeg as this
machine (each task checks).
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import socket
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from audiodrama import runtime
from audiodrama.errors import AudiodramaError, ToolError
from audiodrama.export.files import EpisodeFiles
from audiodrama.files import atomic_path
from audiodrama.series.plan import code_version
from audiodrama.series.workers import Job, Outcome, produce_job
from audiodrama.synthesis.engine import engine_info

LOCAL = re.compile(r"local(?::([1-9]\d*))?")
"""`local` or `local:N`: a LocalCluster of N worker processes (default: one per core) on this machine."""
DEFAULT_PORT = 8786
"""The Dask scheduler's port when an address gives none."""
CONNECT_TIMEOUT = 5.0
"""Seconds to reach the scheduler before giving up."""
ATTEMPTS = 3
"""Tries of an episode that fails before it is reported failed (a worker dying is Dask's to retry)."""


class SchedulerUnreachable(AudiodramaError):
    """The Dask scheduler cannot be reached, or its address cannot be used."""


@dataclass(frozen=True)
class Delivery:
    """What a worker sends back for one episode."""

    outcome: Outcome
    """How producing it went."""
    files: tuple[bytes, ...]
    """Its files in `EpisodeFiles.paths` order (MP3, script, SRT, VTT); none when it failed."""


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
"""glibc's mallopt(3) parameters."""


@cache
def roomy_malloc() -> None:
    """Undo, in this worker process, the `MALLOC_TRIM_THRESHOLD_=65536` Dask's nanny starts workers with.

    Setting it stops glibc from raising its thresholds as a program runs, so every array over 128 kB
    is mapped fresh from the system and handed back when freed: episodes were produced about 50%
    slower. The thresholds are set where glibc would have grown them (a no-op without glibc)."""
    libc = ctypes.CDLL(None)
    if hasattr(libc, "mallopt"):
        libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)
        libc.mallopt(M_TRIM_THRESHOLD, 64 << 20)


@cache
def toolchain(engine: str) -> str:
    """What decides an episode's bytes besides its inputs: this code, the speech engine and ffmpeg."""
    return (f"audiodrama code {code_version()[:12]}, engine {engine_info(engine)['version']}, "
            f"ffmpeg {runtime.ffmpeg().version}")


def shared_files(job: Job) -> set[Path]:
    """The files producing `job` reads besides its chapter: the cover, the music and the ambience beds."""
    settings = job.spec.settings
    found = {job.tags.cover, settings.intro, settings.outro, *(path for _, path in settings.ambience.files)}
    return {path for path in found if path is not None}


def relocated(job: Job, where: Mapping[Path, Path], out_dir: Path, jobs: int) -> Job:
    """`job` reading its files from their copies (`where`: path on the client -> copy), writing into
    `out_dir`, with `jobs` synthesis processes and the clip cache of the machine it runs on."""

    def moved(path: Path | None) -> Path | None:
        return where[path] if path else None

    settings = job.spec.settings
    ambience = replace(settings.ambience, files=tuple((bed, where[path]) for bed, path in settings.ambience.files))
    settings = replace(settings, intro=moved(settings.intro), outro=moved(settings.outro), ambience=ambience,
                       cache_dir=None)
    return replace(job, spec=replace(job.spec, file=where[job.spec.file], settings=settings),
                   tags=replace(job.tags, cover=moved(job.tags.cover)), out_dir=out_dir, jobs=jobs)


def produce_remote(job: Job, files: Mapping[Path, bytes], expected: str) -> Delivery:
    """On a worker: produce `job` from `files` (its inputs by their path on the client) in a scratch
    folder of the worker's, which Dask clears should the worker die; the episode's files as bytes."""
    from distributed import get_worker

    worker = get_worker()
    here = toolchain(job.spec.settings.engine)
    if here != expected:
        return Delivery(Outcome(error=f"worker {worker.address} has {here}; the client has {expected}: install "
                                      "the same versions everywhere"), ())
    roomy_malloc()
    jobs = job.jobs or max(1, (os.cpu_count() or 1) // worker.state.nthreads)
    with tempfile.TemporaryDirectory(prefix="audiodrama-", dir=worker.local_directory) as folder:
        where = {}
        for number, (path, data) in enumerate(files.items()):
            copy = Path(folder, "in", str(number), path.name)  # the name kept: tags and labels show it
            copy.parent.mkdir(parents=True)
            copy.write_bytes(data)
            where[path] = copy
        local = relocated(job, where, Path(folder, "out"), jobs)
        outcome = produce_job(local)
        made = EpisodeFiles.of(local.out_dir, job.spec.name).paths
        return Delivery(outcome, () if outcome.error else tuple(path.read_bytes() for path in made))


class Cluster:
    """A Dask cluster producing episodes: reached (or, for `local[:N]`, started here) on entry, let go
    on exit. `run` is `workers.run_jobs` on the cluster."""

    def __init__(self, address: str, jobs: int | None = None, notice: Callable[[str], None] | None = None) -> None:
        self.address = address
        self.jobs = jobs
        """Synthesis processes per episode; None: on each worker, its cores over its threads."""
        self._notice = notice or (lambda text: None)
        self._client: Any = None
        self._local: Any = None
        self._log_level = logging.NOTSET

    def __enter__(self) -> Cluster:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ToolError("--scheduler needs Dask distributed, which is not installed",
                            hint="pip install 'audiodrama[cluster]'") from None
        log = logging.getLogger("distributed")  # a worker lost is reported per episode, not as log lines
        self._log_level = log.level
        log.setLevel(logging.CRITICAL)
        local = LOCAL.fullmatch(self.address)
        try:
            if local:
                workers = int(local[1] or os.cpu_count() or 1)
                self.jobs = self.jobs or max(1, (os.cpu_count() or 1) // workers)
                self._local = LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1",
                                           dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL)
            else:
                _check(self.address)
            self._client = Client(self._local or self.address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, ValueError) as error:
            self.__exit__()
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {self.address}: {reason}",
                                       hint="start one with `dask scheduler` and give its tcp://HOST:PORT, "
                                            "or use local:N") from None
        self._notice(self.describe())
        return self

    def describe(self) -> str:
        """One line: the scheduler, its workers and its dashboard."""
        info = self._client.scheduler_info()
        workers = info.get("workers", {})
        threads = sum(w.get("nthreads", 0) for w in workers.values())
        text = f"cluster: {len(workers)} workers ({threads} episodes at a time) at {info.get('address', self.address)}"
        if not workers:
            text += "; episodes wait for a worker to join (`dask worker ADDRESS`)"
        if "dashboard" in info.get("services", {}):
            text += f"; dashboard {self._client.dashboard_link}"
        return text

    def __exit__(self, *_: object) -> None:
        for part in (self._client, self._local):
            if part is not None:
                part.close()
        self._client = self._local = None
        logging.getLogger("distributed").setLevel(self._log_level)

    def run(self, jobs: Sequence[Job], done: Callable[[Job, Outcome], None]) -> None:
        """Produce `jobs` on the cluster; as each finishes, its files are written into its output folder
        and `done` is called here. Episodes still running when this is interrupted are cancelled."""
        from distributed import as_completed

        client = self._client
        scattered: dict[Path, Any] = {}
        tries: dict[str, int] = {}
        running: dict[str, tuple[Job, Any]] = {}

        def scatter(paths: Sequence[Path]) -> None:
            """Every worker gets a copy, so that a worker that dies takes none away (a chapter goes in
            its task instead: the scheduler keeps it for as long as the task may need to run again)."""
            if paths:
                data = client.scatter([path.read_bytes() for path in paths], broadcast=True, hash=False)
                scattered.update(zip(paths, data, strict=True))

        def submit(job: Job) -> Any:
            tries[job.spec.name] = tries.get(job.spec.name, 0) + 1
            lost = [path for path in sorted(shared_files(job)) if scattered[path].status != "finished"]
            if lost:  # every worker that held them died
                scatter(lost)
            files = {path: scattered[path] for path in shared_files(job)}
            files[job.spec.file] = job.spec.file.read_bytes()
            future = client.submit(produce_remote, job, files, toolchain(job.spec.settings.engine),
                                   key=f"episode-{job.spec.number}-{uuid.uuid4().hex}")
            running[future.key] = (job, future)
            return future

        client.wait_for_workers(1)  # the files go to the workers there are
        scatter(sorted({path for job in jobs for path in shared_files(job)}))
        finished = as_completed([submit(job) for job in jobs], loop=client.loop)
        try:
            for future in finished:
                job, _ = running.pop(future.key)
                delivery, final = _delivery(future)
                future.release()
                outcome, tried = delivery.outcome, tries[job.spec.name]
                if outcome.error and not final and tried < ATTEMPTS:
                    finished.add(submit(job))
                    continue
                if outcome.error and tried > 1:
                    outcome = replace(outcome, error=f"{outcome.error} (tried {tried} times)")
                for path, data in zip(EpisodeFiles.of(job.out_dir, job.spec.name).paths, delivery.files, strict=False):
                    with atomic_path(path) as temporary:  # none when it failed
                        temporary.write_bytes(data)
                done(job, outcome)
        finally:
            client.cancel([future for _, future in running.values()])


def _check(address: str) -> None:
    """ValueError for an address Dask cannot use; OSError when nothing there answers as a Dask scheduler
    within `CONNECT_TIMEOUT`, at once when a TCP host refuses or does not resolve (Dask itself would keep
    trying until its timeout, and a Client that meets something else there cannot be closed)."""
    import asyncio

    from distributed.comm import parse_address, parse_host_port
    from distributed.comm.registry import get_backend
    from distributed.core import rpc

    scheme, location = parse_address(address)
    get_backend(scheme)
    if scheme in ("tcp", "tls"):
        socket.create_connection(parse_host_port(location, DEFAULT_PORT), timeout=CONNECT_TIMEOUT).close()

    async def identify() -> dict:
        async with rpc(address, timeout=CONNECT_TIMEOUT) as scheduler:
            return await asyncio.wait_for(scheduler.identity(), CONNECT_TIMEOUT)

    try:
        identity = asyncio.run(identify())
    except Exception as error:  # whatever the other end said or did not say
        raise OSError(f"nothing there answers as a Dask scheduler within {CONNECT_TIMEOUT:g} s") from error
    if identity.get("type") != "Scheduler":
        raise OSError(f"a Dask {identity.get('type', 'server')} answers there, not a scheduler")


def _delivery(future: Any) -> tuple[Delivery, bool]:
    """What a finished task gave, and whether that is final: an error in the task is worth another
    try, workers dying under it again and again (Dask's KilledWorker) is not."""
    from distributed import KilledWorker

    try:
        return future.result(), False
    except KilledWorker:
        return Delivery(Outcome(error="every worker that took it died (killed, or out of memory)"), ()), True
    except Exception as error:  # the task could not run there (e.g. audiodrama missing on the worker)
        return Delivery(Outcome(error=f"{type(error).__name__}: {error}"), ()), False
