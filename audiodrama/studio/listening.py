"""Hearing the script while it is edited: one line or a scene in its current voice (clips from the same
cache `produce` uses), a voice's audition, and rendering the episode in the background with progress."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from audiodrama.casting.audition import audition
from audiodrama.casting.cast import Cast, pronounce, voice_for
from audiodrama.episode import Episode, voiced_segments
from audiodrama.errors import AudiodramaError
from audiodrama.script import Script
from audiodrama.settings import Settings
from audiodrama.studio.edits import EditError, check_index
from audiodrama.synthesis.clips import ClipRequest, synthesize_all

SYNTHESIS = threading.Lock()
"""One synthesis at a time from the page: the machine's cores go to the line asked for."""


def clips(script: Script, indexes: list[int], cast: Cast, settings: Settings) -> list[Path]:
    """The WAV clip of each line at `indexes`, read as `produce` would read it with `cast` (every speaker
    voiced, as `cast_scripts` gives it): from the clip cache, synthesised when missing."""
    spoken = {id(s) for s in voiced_segments(script)}
    requests = []
    for index in indexes:
        segment = check_index(script, index)
        if id(segment) not in spoken:
            raise EditError(f"line {index} is silent", hint="pick a line with words in it")
        requests.append(ClipRequest(pronounce(segment.text, cast.pronunciations),
                                    voice_for(cast, segment.voiced_by, segment.kind),
                                    f"line {index} ({segment.speaker or 'narrator'})"))
    with SYNTHESIS:
        made = synthesize_all(requests, jobs=settings.jobs, cache_dir=settings.cache_dir, engine=settings.engine,
                              timeout=settings.timeout)
    return [clip.path for clip in made]


def scene_lines(script: Script, scene: int) -> list[int]:
    """The indexes of the lines of scene `scene` that make sound, in reading order."""
    spoken = {id(s) for s in voiced_segments(script)}
    return [i for i, s in enumerate(script.segments) if s.scene == scene and id(s) in spoken]


def audition_voice(cast: Cast, name: str | None, chapter: Path | None, out_dir: Path, settings: Settings) -> Path:
    """An MP3 of `name` (None: the narrator) reading their first lines of `chapter` (or a stock sentence)."""
    with SYNTHESIS:
        made = audition(cast, out_dir, name or "narrator", chapter, jobs=settings.jobs, cache_dir=settings.cache_dir)
    return made[0].mp3


@dataclass(frozen=True)
class RenderStatus:
    """Where a render is."""

    state: str = "idle"
    """`idle`, `running`, `done` or `failed`."""
    episode: int | None = None
    """The episode being (or last) rendered."""
    stage: str = ""
    """What `produce` is doing: `Synthesising`, `Mastering`, `Mixing and encoding`..."""
    done: int = 0
    """Work done in this stage."""
    total: int = 0
    """Work in this stage."""
    error: str = ""
    """Why it failed, on one line."""
    result: Episode | None = None
    """What `produce` made, once done."""
    script: Script | None = None
    """The script it rendered."""


class RenderJob:
    """One render at a time, run in a thread, its progress readable at any moment."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status = RenderStatus()
        self._thread: threading.Thread | None = None

    @property
    def status(self) -> RenderStatus:
        """The render's progress now."""
        with self._lock:
            return self._status

    def start(self, episode: int, script: Script, work: Callable[[Callable[[str, int, int], None]], Episode]) -> bool:
        """Run `work(progress)` (a `produce` call) in a thread; False when a render is already running."""
        with self._lock:
            if self._status.state == "running":
                return False
            self._status = RenderStatus("running", episode, "Starting", script=script)
        self._thread = threading.Thread(target=self._run, args=(work,), name="studio-render", daemon=True)
        self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> RenderStatus:
        """The status once the running render (if any) has finished."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)

    def _run(self, work: Callable[[Callable[[str, int, int], None]], Episode]) -> None:
        try:
            result = work(lambda stage, done, total: self._update(stage=stage, done=done, total=total))
        except AudiodramaError as error:
            self._update(state="failed", error=str(error))
        except Exception as error:  # a bug: the page says so; the server keeps serving
            traceback.print_exc()
            self._update(state="failed", error=f"the render failed: {error}")
        else:
            self._update(state="done", result=result)
