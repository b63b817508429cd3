"""Producing one episode: chapter (or edited script) + cast -> MP3, transcripts and script file."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from audiodrama import __version__
from audiodrama import script as scripts
from audiodrama.ambience import BedTrack
from audiodrama.attribution import parse_file
from audiodrama.cast import Cast, pronounce, voice_for
from audiodrama.casting import cast_scripts
from audiodrama.errors import InputError
from audiodrama.export import Tags, read_build, scene_chapters, write_episode, write_transcripts
from audiodrama.files import ensure_writable_dir, write_text_atomic
from audiodrama.loudness import Loudness
from audiodrama.mix import BedSource, Placement, Timeline, build_timeline, measure_episode, render
from audiodrama.script import Script, Segment
from audiodrama.settings import Settings
from audiodrama.synthesis import ClipRequest, synthesize_all

SPEAKABLE = re.compile(r"\w")
SCRIPT_SUFFIX = ".script"
GAIN_ITERATIONS = 4
"""At most this many measuring renders to find the episode gain."""


@dataclass(frozen=True)
class Episode:
    """What `produce` made."""

    mp3: Path
    """The episode."""
    script_file: Path
    """The script it was rendered from (editable, and accepted back by `produce`)."""
    transcripts: tuple[Path, ...]
    """SRT and WebVTT transcripts."""
    timeline: Timeline
    """Where every line sits in the audio."""
    lines: int
    """Lines voiced (narration and dialogue segments with something to say)."""
    synthesized: int
    """Clips made in this run (the rest came from the cache)."""
    loudness: Loudness | None
    """Loudness and true peak measured on the encoded episode; None when it was up to date."""


def read_source(source: Path, cast: Cast | None) -> Script:
    """A chapter is parsed; a script file (as `audiodrama script` writes it) is read as edited."""
    return scripts.load_script(source) if scripts.is_script_file(source) else parse_file(source, cast)


def episode_name(source: Path) -> str:
    """`chapter-000.txt` and `chapter-000.script.yaml` both give `chapter-000`."""
    name = source.stem
    return name[: -len(SCRIPT_SUFFIX)] if name.endswith(SCRIPT_SUFFIX) else name


def voiced_segments(script: Script) -> list[Segment]:
    """The segments that make sound: something to say, in reading order."""
    return [s for s in script.spoken() if SPEAKABLE.search(s.text)]


def produce(
    source: Path,
    cast: Cast,
    out_dir: Path,
    settings: Settings | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    script: Script | None = None,
    name: str | None = None,
    tags: Tags | None = None,
) -> Episode:
    """Produce `out_dir/<name>.mp3` (with `.srt`, `.vtt` and `.script.jsonl` beside it) from a chapter.

    `script` is the chapter already parsed, `name` the file name (default: the chapter's), `tags` the
    MP3's tags (default: the script's title and the cast's).
    """
    settings = settings or Settings()
    script = script or read_source(source, cast)
    cast = cast_scripts(cast, [script]).cast  # every speaker voiced, scene partners kept apart
    segments = voiced_segments(script)
    if not segments:
        raise InputError("the chapter is empty: it has no words to read aloud", path=source,
                         hint="give a chapter with text")
    ensure_writable_dir(out_dir)
    voices = [voice_for(cast, s.speaker if s.voiced_by_speaker else None, s.kind) for s in segments]
    requests = [
        ClipRequest(text=pronounce(s.text, cast.pronunciations), voice=v,
                    label=f"{source.name} offset {s.start} ({s.speaker or 'narrator'})")
        for s, v in zip(segments, voices, strict=True)
    ]
    clips = synthesize_all(requests, jobs=settings.jobs, cache_dir=settings.cache_dir, progress=progress)
    placements = [
        Placement(s, c.path, c.frames, c.sample_rate, voice_key=repr(v), volume=v.volume)
        for s, c, v in zip(segments, clips, voices, strict=True)
    ]
    timeline = build_timeline(placements, settings.pauses, settings.sample_rate, settings.levels)
    name = name or episode_name(source)
    mp3 = out_dir / f"{name}.mp3"
    script_file = out_dir / f"{name}{SCRIPT_SUFFIX}.jsonl"
    transcripts = (mp3.with_suffix(".srt"), mp3.with_suffix(".vtt"))
    tags = tags or Tags(title=script.title or name, album=cast.title, comment=f"from {source.name}")
    build = fingerprint(timeline, settings, tags)
    loudness = None
    if read_build(mp3) != build or not all(p.exists() for p in (script_file, *transcripts)):
        bed = BedTrack.for_timeline(timeline, settings.ambience)
        loudness = write_episode(partial(render, timeline, settings.levels, bed=bed),
                                 partial(episode_gain, timeline, settings, bed), settings.levels.target_lufs,
                                 settings.sample_rate, mp3, settings.bitrate,
                                 replace(tags, build=build), scene_chapters(timeline))
        write_transcripts(timeline, mp3)
        write_text_atomic(script_file, scripts.to_jsonl(script))
    return Episode(mp3, script_file, transcripts, timeline, len(segments), sum(not c.cached for c in clips),
                   loudness)


def episode_gain(timeline: Timeline, settings: Settings, bed: BedSource, lufs: float) -> float:
    """The gain (dB) that brings the mix to `lufs`.

    Clips are levelled to `speech_lufs`, which predicts the gain; the limiter and the beds move the
    result a little, so the mix is measured and the gain corrected until it lands within 0.05 LU.
    """
    levels = settings.levels
    gain = lufs - levels.speech_lufs
    for _ in range(GAIN_ITERATIONS):
        measured = measure_episode(render(timeline, levels, gain, bed), settings.sample_rate).integrated
        if not np.isfinite(measured) or abs(lufs - measured) < 0.05:
            break
        gain += lufs - measured
    return gain


def fingerprint(timeline: Timeline, settings: Settings, tags: Tags) -> str:
    """A hash of everything that shapes the episode's bytes: clips (content-addressed), their places,
    levels, encoding and tags."""
    paths = [path for _, path in settings.ambience.files] + ([tags.cover] if tags.cover else [])
    files = tuple((path, path.stat().st_mtime_ns) for path in paths if path.exists())
    recipe = repr((__version__, timeline, settings.levels, settings.ambience, files, settings.bitrate, tags))
    return hashlib.sha256(recipe.encode("utf-8")).hexdigest()
