"""Synthesis: one WAV clip per line of text, made by a speech engine held in worker processes.

Clips are cached by content under `<cache>/<aa>/<hash>.wav`, so an unchanged line is never
synthesised twice; the rest are made by `synthesis.pool`'s workers, each holding one warm engine.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import wave
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from audiodrama.errors import EngineError
from audiodrama.synthesis.engine import engine_class, engine_for
from audiodrama.synthesis.pool import Job, Pool
from audiodrama.synthesis.render import split_text
from audiodrama.synthesis.voices import Voice

CACHE_ENV = "AUDIODRAMA_CACHE"
"""Environment variable naming the clip cache directory."""

STALE_SCRATCH = 6 * 3600.0
"""Seconds after its last write when a killed run's scratch folder in the cache is removed."""


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


def default_cache_dir() -> Path:
    """`$AUDIODRAMA_CACHE`, else `$XDG_CACHE_HOME/audiodrama/clips` (`~/.cache/audiodrama/clips`)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "audiodrama" / "clips"


KEY_PAD = ""
"""Last element of a clip key when the engine's `voice_key` is empty: it once held a lexicon argument
that was always empty, and stays so that clips cached by earlier versions keep their keys (a changed
key would re-synthesise everything)."""


def clip_key(engine: dict[str, str], voice: Voice, text: str, voice_key: str = KEY_PAD) -> str:
    """Content hash of everything that decides a clip's audio (`voice_key`: the engine's `voice_key`)."""
    material = json.dumps([engine["name"], engine["version"], asdict(voice), text, voice_key], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def synthesize_all(
    requests: Sequence[ClipRequest],
    *,
    jobs: int | None = None,
    cache_dir: Path | None = None,
    engine: str = "pyttsx3",
    timeout: float = 60.0,
    progress: Callable[[int, int], None] | None = None,
    made: Callable[[Clip, list[int]], None] | None = None,
) -> list[Clip]:
    """Synthesise every request (cached clips are reused, duplicates made once), in request order.

    `engine` speaks every voice but `piper:` ones, which Piper speaks (see `engine_for`). `jobs`
    worker processes (default: the core count) per engine each hold one warm engine. `timeout` is the
    time a worker may take per piece of text (at most the engine's `max_chars`) before it counts
    as hung (pronunciations are applied to the text before it gets here, so the text carries them
    into the cache key). `progress(done, total)` is
    called as requests complete; `made(clip, indices)` as each new clip lands in the cache, with the
    indices of the requests it answers (so later stages can start on it while the rest are spoken).
    Raises `EngineError` naming the line that failed `ATTEMPTS` times, and ValueError for a request
    with blank text (there is nothing to synthesise).
    """
    for request in requests:
        if not request.text.strip():
            raise ValueError(f"{request.label}: nothing to say")
    names = [engine_for(r.voice, engine) for r in requests]
    kinds = {name: engine_class(name) for name in dict.fromkeys(names)}
    infos = {name: kind.info() for name, kind in kinds.items()}
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    keys = [clip_key(infos[name], r.voice, r.text, kinds[name].voice_key(r.voice))
            for r, name in zip(requests, names, strict=True)]
    clips: dict[str, Clip] = {}
    todo: dict[str, dict[str, Job]] = {name: {} for name in kinds}
    for request, name, key in zip(requests, names, keys, strict=True):
        if key in clips or any(key in jobs_of for jobs_of in todo.values()):
            continue
        path = cache / key[:2] / f"{key}.wav"
        found = _cached_clip(path)
        if found:
            clips[key] = found
        else:
            pieces = len(split_text(request.text, kinds[name].max_chars))
            todo[name][key] = Job(key, request.text, request.voice, request.label, path, pieces)
    total = len(requests)
    waiting = {key for jobs_of in todo.values() for key in jobs_of}
    answers: dict[str, list[int]] = {}  # the requests each new clip answers
    for index, key in enumerate(keys):
        if key in waiting:
            answers.setdefault(key, []).append(index)
    done = total - sum(map(len, answers.values()))

    def finished(job: Job, frames: int, rate: int) -> None:
        nonlocal done
        clips[job.key] = Clip(job.path, frames, rate, cached=False)
        done += len(answers[job.key])
        if progress:
            progress(done, total)
        if made:
            made(clips[job.key], answers[job.key])

    if progress:
        progress(done, total)
    for name, jobs_of in todo.items():
        if jobs_of:
            workers = max(1, min(jobs or os.cpu_count() or 1, len(jobs_of)))
            with _scratch(cache) as scratch:
                Pool(name, workers, timeout, scratch).run(list(jobs_of.values()), finished)
    return [clips[key] for key in keys]


def _cached_clip(path: Path) -> Clip | None:
    try:
        with wave.open(str(path), "rb") as clip:
            if clip.getnchannels() == 1 and clip.getsampwidth() == 2 and clip.getnframes() > 0:
                return Clip(path, clip.getnframes(), clip.getframerate(), cached=True)
    except (OSError, wave.Error, EOFError):
        pass
    return None


def _sweep_stale_scratch(cache: Path) -> None:
    """Remove the scratch folders of runs that were killed (untouched for `STALE_SCRATCH`)."""
    for folder in cache.glob(".run-*"):
        with contextlib.suppress(OSError):  # another run may be sweeping too
            if time.time() - folder.stat().st_mtime > STALE_SCRATCH:
                shutil.rmtree(folder)


@contextlib.contextmanager
def _scratch(cache: Path) -> Iterator[Path]:
    """A scratch folder inside the cache (so finished clips move into place atomically), removed after."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        _sweep_stale_scratch(cache)
        scratch = Path(tempfile.mkdtemp(prefix=".run-", dir=cache))
    except OSError as error:
        raise EngineError(
            f"cannot write clips: {error.strerror}", path=cache, hint=f"set {CACHE_ENV} to a writable folder"
        ) from error
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
