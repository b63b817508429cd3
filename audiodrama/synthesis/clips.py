"""Synthesis: one WAV clip per line of text, made by a speech engine held in worker processes.

The engine runs only in worker processes (`--jobs` of them, each holding one warm engine), so a
segfault, a hang or a stray `print` in the engine cannot take the production down: a worker that
crashes or exceeds its time is killed and replaced and the line retried, and after
`ATTEMPTS` failures an `EngineError` names the line. Every clip is checked (a 16-bit mono WAV whose
duration fits its text, not silent) before it counts. Clips are cached by content under
`<cache>/<aa>/<hash>.wav`, so an unchanged line is never synthesised twice.

Engines implement the small `Engine` interface; one module in `audiodrama/engines/` adds one.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import wave
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import ClassVar

import numpy as np

from audiodrama.errors import EngineError
from audiodrama.synthesis.voices import Voice

ENGINES = {
    "pyttsx3": "audiodrama.synthesis.engines.pyttsx3_engine:Pyttsx3Engine",
    "espeak-ng": "audiodrama.synthesis.engines.espeak_cli:EspeakCliEngine",
}
"""Engine name -> `module:class`. An engine argument may also be a `module:class` path itself."""

CACHE_ENV = "AUDIODRAMA_CACHE"
"""Environment variable naming the clip cache directory."""

ATTEMPTS = 3
"""How many times a line is tried (each time in a fresh worker) before synthesis gives up."""

WARM_UP_TEXT = "Ready."
"""Spoken once by every new engine before its first line; engines misbehave on their first call."""

_WORKER_CODE = "from audiodrama.synthesis.clips import _worker_entry; _worker_entry()"

STARTUP_TIMEOUT = 60.0
"""Seconds a new worker may take to load and warm up its engine (at least the per-line timeout)."""

STALE_SCRATCH = 6 * 3600.0
"""Seconds after its last write when a killed run's scratch folder in the cache is removed."""

SILENCE_PEAK = 64
"""A clip whose samples all stay within this amplitude (of 32767) counts as silent."""


@dataclass(frozen=True)
class VoiceInfo:
    """A voice an engine offers."""

    id: str
    """What `Voice.voice` takes, e.g. `gmw/en-us`."""
    name: str
    """Human-readable name, e.g. `English (America)`."""
    languages: tuple[str, ...] = ()
    """Language codes the voice speaks, e.g. `("en-us",)`."""
    gender: str | None = None
    """`male`, `female`, or None when the engine does not say."""


class Engine(ABC):
    """A speech synthesiser; one instance lives in each worker process and is reused for many lines."""

    name: ClassVar[str]
    """Short name, as `--engine` takes it."""
    max_chars: ClassVar[int] = 1000
    """Longest text handed to `synthesize` at once; longer lines are split at sentence boundaries."""

    @classmethod
    @abstractmethod
    def info(cls) -> dict[str, str]:
        """`name`, `version` (part of every clip's cache key) and where the engine comes from.

        Cheap and safe to call in the main process: it must not load or start the synthesiser.
        """

    @abstractmethod
    def synthesize(self, text: str, voice: Voice, wav_path: Path) -> None:
        """Write `text` spoken with `voice` to `wav_path` as a mono 16-bit WAV; raise on failure."""

    def voices(self) -> list[VoiceInfo]:
        """The voices this engine offers (none known unless the engine says)."""
        return []


@dataclass(frozen=True)
class ClipRequest:
    """One line to synthesise."""

    text: str
    """What to say."""
    voice: Voice
    """Who says it: voice id, rate, pitch and volume."""
    label: str
    """Names the line in errors and progress, e.g. `line 42 (Sasuke Uchiha)`."""


@dataclass(frozen=True)
class Clip:
    """A synthesised line on disk."""

    path: Path
    """The WAV file in the clip cache (mono, 16-bit); never modify it."""
    frames: int
    """Number of samples."""
    sample_rate: int
    """Samples per second."""
    cached: bool
    """True when the clip came from the cache rather than being synthesised in this call."""

    @property
    def seconds(self) -> float:
        """Duration of the clip."""
        return self.frames / self.sample_rate


def engine_class(engine: str) -> type[Engine]:
    """The `Engine` subclass an engine name (or `module:class` path) names."""
    target = ENGINES.get(engine, engine)
    module_name, _, attribute = target.partition(":")
    if not attribute:
        raise EngineError(f"unknown speech engine {engine!r}", hint=f"choose one of {', '.join(ENGINES)}")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise EngineError(f"cannot load speech engine {engine!r}: {error}") from error
    if not (isinstance(found, type) and issubclass(found, Engine)):
        raise EngineError(f"{target} is not a speech engine")
    return found


def engine_info(engine: str = "pyttsx3") -> dict[str, str]:
    """Name, version and origin (library path, `system` or `bundled`) of an engine, for `doctor`."""
    return engine_class(engine).info()


def list_voices(engine: str = "pyttsx3") -> list[VoiceInfo]:
    """The voices an engine offers, asked of the engine in a worker process."""
    with _Worker.start(engine, warm_up=False) as worker:
        worker.conn.send(("voices",))
        for expected in ("ready", "voices"):
            reply = _receive(worker, timeout=60.0, doing="listing voices")
            if reply[0] != expected:
                raise EngineError(f"unexpected reply {reply[0]!r} while listing voices")
    return reply[1]


def default_cache_dir() -> Path:
    """`$AUDIODRAMA_CACHE`, else `$XDG_CACHE_HOME/audiodrama/clips` (`~/.cache/audiodrama/clips`)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "audiodrama" / "clips"


def clip_key(engine: dict[str, str], voice: Voice, text: str, lexicon: str = "") -> str:
    """Content hash of everything that decides a clip's audio."""
    material = json.dumps([engine["name"], engine["version"], asdict(voice), text, lexicon], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def synthesize_all(
    requests: Sequence[ClipRequest],
    *,
    jobs: int | None = None,
    cache_dir: Path | None = None,
    engine: str = "pyttsx3",
    timeout: float = 60.0,
    progress: Callable[[int, int], None] | None = None,
    lexicon: str = "",
) -> list[Clip]:
    """Synthesise every request (cached clips are reused, duplicates made once), in request order.

    `jobs` worker processes (default: the core count) each hold one warm engine. `timeout` is the
    time a worker may take per piece of text (at most the engine's `max_chars`) before it counts
    as hung. `lexicon` stands for anything else that changes the audio (e.g. a pronunciation
    dictionary the engine is given); it only enters the cache key. `progress(done, total)` is
    called as requests complete. Raises `EngineError` naming the line that failed `ATTEMPTS` times,
    and ValueError for a request with blank text (there is nothing to synthesise).
    """
    for request in requests:
        if not request.text.strip():
            raise ValueError(f"{request.label}: nothing to say")
    kind = engine_class(engine)
    info = kind.info()
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    keys = [clip_key(info, r.voice, r.text, lexicon) for r in requests]
    clips: dict[str, Clip] = {}
    todo: dict[str, _Job] = {}
    for request, key in zip(requests, keys, strict=True):
        if key in clips or key in todo:
            continue
        path = cache / key[:2] / f"{key}.wav"
        found = _cached_clip(path)
        if found:
            clips[key] = found
        else:
            todo[key] = _Job(key, request, path, len(split_text(request.text, kind.max_chars)))
    total = len(requests)
    counts = Counter(key for key in keys if key in todo)
    done = total - sum(counts.values())

    def finished(job: _Job, frames: int, rate: int) -> None:
        nonlocal done
        clips[job.key] = Clip(job.path, frames, rate, cached=False)
        done += counts[job.key]
        if progress:
            progress(done, total)

    if progress:
        progress(done, total)
    if todo:
        workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
        _Pool(engine, workers, timeout, cache).run(list(todo.values()), finished)
    return [clips[key] for key in keys]


# --- text pieces and clip checks (used in the workers) -------------------------------------------------

_OUTSIDE_PHONEMES = r"(?![^\[]*\]\])"  # never inside espeak's `[[...]]` phoneme input
_BREAKS = (
    re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+" + _OUTSIDE_PHONEMES),  # after a sentence
    re.compile(r"(?<=[,;:—–])\s+" + _OUTSIDE_PHONEMES),  # after a clause
    re.compile(r"\s+" + _OUTSIDE_PHONEMES),  # between words
)


def split_text(text: str, limit: int) -> list[str]:
    """`text` cut into pieces of at most `limit` characters, at sentence ends where possible."""
    return _pack(" ".join(text.split()), limit, 0)


def _pack(text: str, limit: int, level: int) -> list[str]:
    if len(text) <= limit:
        return [text] if text else []
    if level == len(_BREAKS):
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    pieces: list[str] = []
    for part in _BREAKS[level].split(text):
        for small in _pack(part, limit, level + 1):
            if pieces and len(pieces[-1]) + 1 + len(small) <= limit:
                pieces[-1] = f"{pieces[-1]} {small}"
            else:
                pieces.append(small)
    return pieces


def _words(text: str) -> tuple[int, int]:
    """(fewest, most) words `text` may take to say: digits may each become a word ("1999")."""
    fewest = len(re.findall(r"\w+", text))
    return fewest, fewest + len(re.findall(r"\d", text))


def read_clip(path: Path, text: str, voice: Voice) -> tuple[np.ndarray, int]:
    """The samples and rate of a freshly synthesised clip, or ValueError saying why it is unusable."""
    if not path.exists():
        raise ValueError("no file written")
    try:
        with wave.open(str(path), "rb") as clip:
            channels, width, rate, frames = (
                clip.getnchannels(),
                clip.getsampwidth(),
                clip.getframerate(),
                clip.getnframes(),
            )
            data = clip.readframes(frames)
    except (wave.Error, EOFError) as error:
        raise ValueError(f"not a valid WAV file: {error}") from error
    if channels != 1 or width != 2:
        raise ValueError(f"expected 16-bit mono, got {8 * width}-bit with {channels} channels")
    if len(data) != 2 * frames:
        raise ValueError(f"truncated: header says {frames} frames, file holds {len(data) // 2}")
    samples = np.frombuffer(data, dtype="<i2")
    fewest, most = _words(text)
    seconds = frames / rate
    minutes_per_word = 1 / max(voice.rate, 1)
    low, high = 0.25 * fewest * 60 * minutes_per_word, 4 * most * 60 * minutes_per_word + 2.0
    if not low <= seconds <= high:
        raise ValueError(f"{seconds:.2f} s of audio for {fewest} words at {voice.rate} wpm")
    if fewest and voice.volume > 0 and (not samples.size or np.abs(samples).max() <= SILENCE_PEAK):
        raise ValueError("silent")
    return samples, rate


def _render(engine: Engine, text: str, voice: Voice, dest: Path, scratch: Path) -> tuple[int, int]:
    """Synthesise `text` piece by piece, check every piece, and write the joined clip to `dest`."""
    parts, rates = [], set()
    for number, piece in enumerate(split_text(text, engine.max_chars)):
        path = scratch / f"{os.getpid()}-{number}.wav"
        path.unlink(missing_ok=True)
        engine.synthesize(piece, voice, path)
        try:
            samples, rate = read_clip(path, piece, voice)
        except ValueError as error:
            raise ValueError(f"bad clip for {piece[:40]!r}: {error}") from error
        parts.append(samples)
        rates.add(rate)
    if len(rates) != 1:
        raise ValueError(f"pieces came at different sample rates {sorted(rates)}")
    joined = np.concatenate(parts)
    rate = rates.pop()
    partial = scratch / f"{os.getpid()}-{dest.name}"
    with wave.open(str(partial), "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(joined.astype("<i2").tobytes())
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial, dest)  # the cache only ever holds whole clips
    return len(joined), rate


def _sweep_stale_scratch(cache: Path) -> None:
    """Remove the scratch folders of runs that were killed (untouched for `STALE_SCRATCH`)."""
    for folder in cache.glob(".run-*"):
        with contextlib.suppress(OSError):  # another run may be sweeping too
            if time.time() - folder.stat().st_mtime > STALE_SCRATCH:
                shutil.rmtree(folder)


def _cached_clip(path: Path) -> Clip | None:
    try:
        with wave.open(str(path), "rb") as clip:
            if clip.getnchannels() == 1 and clip.getsampwidth() == 2 and clip.getnframes() > 0:
                return Clip(path, clip.getnframes(), clip.getframerate(), cached=True)
    except (OSError, wave.Error, EOFError):
        pass
    return None


# --- worker processes ---------------------------------------------------------------------------------


def _worker_entry() -> None:
    """Entry point of a worker process (see `_Worker.start`): serve the connection on fd `argv[1]`."""
    conn = Connection(int(sys.argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    engine_name, scratch, warm_up = conn.recv()
    folder = Path(scratch)
    try:
        engine = engine_class(engine_name)()
        if warm_up:
            _render(engine, WARM_UP_TEXT, Voice(), folder / f"warm-up-{os.getpid()}.wav", folder)
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
                reply = ("done", *_render(engine, text, voice, Path(dest), folder))
        except Exception as error:
            reply = ("failed", f"{type(error).__name__}: {error}")
        try:
            conn.send(reply)
        except OSError:  # the parent is gone
            return


@dataclass
class _Job:
    """One clip to make, and how its attempts went."""

    key: str
    """The clip's content hash."""
    request: ClipRequest
    """The first request that asked for it (its label names the line in errors)."""
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
        self.job: _Job | None = None
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


class _Pool:
    """Worker processes running jobs, replacing any that crash, hang or fail."""

    def __init__(self, engine: str, size: int, timeout: float, cache: Path) -> None:
        self.engine, self.size, self.timeout = engine, size, timeout
        self.cache = cache
        self.workers: list[_Worker] = []
        self.start_failures: list[str] = []

    def run(self, jobs: list[_Job], finished: Callable[[_Job, int, int], None]) -> None:
        """Run every job; `finished(job, frames, rate)` as each clip lands in the cache."""
        pending = deque(jobs)
        try:
            self.cache.mkdir(parents=True, exist_ok=True)
            _sweep_stale_scratch(self.cache)
            scratch = Path(tempfile.mkdtemp(prefix=".run-", dir=self.cache))
        except OSError as error:
            raise EngineError(
                f"cannot write clips: {error.strerror}", path=self.cache, hint=f"set {CACHE_ENV} to a writable folder"
            ) from error
        try:
            while pending or any(w.job for w in self.workers):
                while len(self.workers) < min(self.size, len(pending) + sum(bool(w.job) for w in self.workers)):
                    self._spawn(scratch)
                for worker in self.workers:
                    if worker.ready and not worker.job and pending:
                        self._assign(worker, pending.popleft())
                self._wait(pending, finished)
        finally:
            for worker in self.workers:
                worker.stop()
            shutil.rmtree(scratch, ignore_errors=True)

    def _spawn(self, scratch: Path) -> None:
        worker = _Worker.start(self.engine, scratch=scratch)
        worker.deadline = time.monotonic() + max(self.timeout, STARTUP_TIMEOUT)
        self.workers.append(worker)

    def _assign(self, worker: _Worker, job: _Job) -> None:
        worker.job = job
        worker.deadline = time.monotonic() + self.timeout * job.pieces
        worker.conn.send(("line", job.request.text, job.request.voice, str(job.path)))

    def _wait(self, pending: deque[_Job], finished: Callable[[_Job, int, int], None]) -> None:
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

    def _retire(self, worker: _Worker, reason: str, pending: deque[_Job]) -> None:
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
            text = job.request.text
            excerpt = text if len(text) <= 40 else text[:40].rstrip() + "…"
            raise EngineError(f"{job.request.label}: '{excerpt}' failed {len(job.failures)} times: {reason}")
        pending.appendleft(job)
