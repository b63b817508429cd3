"""Producing one episode: chapter (or edited script) + cast -> MP3, transcripts and script file."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from audiodrama import __version__, runtime
from audiodrama import script as scripts
from audiodrama.attribution import parse_file
from audiodrama.casting.cast import Cast, pronounce, voice_for
from audiodrama.casting.chapters import cast_scripts
from audiodrama.errors import InputError
from audiodrama.export.files import SCRIPT_SUFFIX, EpisodeFiles
from audiodrama.export.mp3 import Tags, read_build, scene_chapters, write_episode
from audiodrama.export.transcripts import write_transcripts
from audiodrama.files import ensure_writable_dir, sweep_partials, write_text_atomic
from audiodrama.mixing.ambience import BedTrack
from audiodrama.mixing.loudness import Loudness
from audiodrama.mixing.mastering import (
    MASTERING_REVISION,
    default_ceiling,
    fit_ceiling,
    loudness_target,
    master_clip,
    master_music,
    tracked,
)
from audiodrama.mixing.timeline import Placement, Timeline, build_timeline, clip_frames
from audiodrama.script import Script, Segment
from audiodrama.settings import Settings
from audiodrama.synthesis.clips import Clip, ClipRequest, default_cache_dir, synthesize_all
from audiodrama.synthesis.voices import Voice
from audiodrama.text.chapter import Kind

SPEAKABLE = re.compile(r"\w")
CEILING_MARK = ";ceiling="
"""Separates the fingerprint from the clips' ceiling in an episode's build tag."""
Progress = Callable[[str, int, int], None]
"""Told (stage, done, total) as work goes on."""


@dataclass(frozen=True)
class Episode:
    """What `produce` made."""

    files: EpisodeFiles
    """The episode's MP3, the script it was rendered from and its transcripts."""
    timeline: Timeline
    """Where every line sits in the audio."""
    lines: int
    """Lines voiced (narration and dialogue segments with something to say)."""
    synthesized: int
    """Clips made in this run (the rest came from the cache)."""
    loudness: Loudness | None
    """Loudness and true peak measured on the encoded episode; None when it was up to date."""
    notices: tuple[str, ...] = ()
    """Things the user should know, one line each (speakers the cast lacks and how they were cast)."""
    encodes: int = 0
    """Full MP3 encodes the episode took (1 when the first met the loudness and peak targets; 0 when it
    was up to date)."""

    @property
    def mp3(self) -> Path:
        """The episode (`files.mp3`)."""
        return self.files.mp3


def read_source(source: Path, cast: Cast | None, notes: bool = False) -> Script:
    """A chapter is parsed (author's notes in markup kept with `notes`); a script file (as `audiodrama
    script` writes it) is read as edited."""
    return scripts.load_script(source) if scripts.is_script_file(source) else parse_file(source, cast, notes)


def episode_name(source: Path) -> str:
    """`chapter-000.txt` and `chapter-000.script.yaml` both give `chapter-000`."""
    name = source.stem
    return name[: -len(SCRIPT_SUFFIX)] if name.endswith(SCRIPT_SUFFIX) else name


def voiced_segments(script: Script, radio_play: bool = False) -> list[Segment]:
    """The segments that make sound: something to say, in reading order (bare tags dropped for a
    radio play)."""
    return [s for s in script.spoken() if SPEAKABLE.search(s.text) and not (radio_play and s.kind == Kind.TAG)]


def produce(
    source: Path,
    cast: Cast,
    out_dir: Path,
    settings: Settings | None = None,
    progress: Progress | None = None,
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
    script = script or read_source(source, cast, settings.authors_notes)
    casting = cast_scripts(cast, [script], dict(script.genders))  # every speaker voiced
    cast = casting.cast
    segments = voiced_segments(script, settings.radio_play)
    if not segments:
        raise InputError("the chapter is empty: it has no words to read aloud", path=source,
                         hint="give a chapter with text")
    ensure_writable_dir(out_dir)
    runtime.ffmpeg()  # missing: say so before any work
    name = name or episode_name(source)
    sweep_partials(out_dir)
    tags = tags or Tags(title=script.title or name, album=cast.title, comment=f"from {source.name}")
    if settings.announce_title:
        segments.insert(0, Segment(Kind.HEADING, None, 0, 0, tags.title, paragraph=-1, scene=-1))
    voices = [voice_for(cast, s.voiced_by, s.kind) for s in segments]
    requests = [
        ClipRequest(text=pronounce(s.text, cast.pronunciations), voice=v,
                    label=f"{source.name} offset {s.start} ({s.speaker or 'narrator'})")
        for s, v in zip(segments, voices, strict=True)
    ]
    report = progress or (lambda stage, done, total: None)
    cache_dir = settings.cache_dir or default_cache_dir()
    files = EpisodeFiles.of(out_dir, name)
    built = parse_build(read_build(files.mp3))
    # a recast starts from the clips' ceiling the episode was last built with: its unchanged clips are
    # already mastered under it (a fresh start would find a ceiling a hair away and master them all anew)
    ceiling = built[1] if built is not None else default_ceiling(settings.levels)
    clips = synthesize_and_master(requests, segments, settings, cache_dir, ceiling, partial(report, "Synthesising"))
    build = fingerprint(segments, clips, voices, settings, tags)
    lines = [Line(s, c.path, v) for s, c, v in zip(segments, clips, voices, strict=True)]
    up_to_date = built is not None and built[0] == build and all(p.exists() for p in files.paths)
    timeline = place(lines, settings, cache_dir, ceiling, partial(report, "Mastering"))
    loudness, encodes = None, 0
    if not up_to_date:
        with tempfile.TemporaryDirectory(prefix="audiodrama-mix-") as scratch:
            again = partial(report, "Mastering again")
            mix = fit_ceiling(timeline, ceiling, settings.levels,
                              lambda lower: place(lines, settings, cache_dir, lower, again),
                              lambda placed: BedTrack.for_timeline(placed, settings.ambience, cache_dir), report,
                              Path(scratch) / "mix.f32")
            timeline = mix.timeline
            encoding = partial(report, "Mixing and encoding")
            render_at = partial(tracked, timeline, mix.bed, encoding, rendered=mix.rendered)
            encoded = write_episode(render_at, mix.gain_db, loudness_target(settings.levels), settings.sample_rate,
                                    files.mp3, settings.bitrate,
                                    replace(tags, build=f"{build}{CEILING_MARK}{mix.ceiling:.2f}"),
                                    scene_chapters(timeline))
        loudness, encodes = encoded.loudness, encoded.encodes
        write_transcripts(timeline, files)
        write_text_atomic(files.script, scripts.to_jsonl(script))
    return Episode(files, timeline, len(segments), sum(not c.cached for c in clips),
                   loudness, tuple(casting.report()), encodes)


def synthesize_and_master(requests: list[ClipRequest], segments: list[Segment], settings: Settings, cache_dir: Path,
                          ceiling: float, report: Callable[[int, int], None]) -> list[Clip]:
    """Synthesise the clips, each new one mastered (under `ceiling`, where the episode starts from) by a
    thread of this process as soon as it lands, while the synthesis processes speak the rest.

    `place` then finds them mastered; what the threads did not finish (or failed at) it does itself.
    """
    with ThreadPoolExecutor(settings.jobs or os.cpu_count()) as mastering:

        def made(clip: Clip, indices: list[int]) -> None:
            for thought in {segments[index].kind == Kind.THOUGHT for index in indices}:
                mastering.submit(master_clip, clip.path, thought, settings.levels, settings.sample_rate, cache_dir,
                                 ceiling)

        return synthesize_all(requests, jobs=settings.jobs, cache_dir=settings.cache_dir, engine=settings.engine,
                              timeout=settings.timeout, progress=report, made=made)


@dataclass(frozen=True)
class Line:
    """A line to place: its segment, synthesised clip and voice."""

    segment: Segment
    """The script segment."""
    clip: Path
    """Its synthesised clip."""
    voice: Voice
    """The voice that read it."""


def parse_build(stored: str | None) -> tuple[str, float] | None:
    """(fingerprint, clip ceiling) from an episode's build tag, or None when it has none (or an older form)."""
    fingerprint, mark, ceiling = (stored or "").partition(CEILING_MARK)
    try:
        return (fingerprint, float(ceiling)) if mark else None
    except ValueError:
        return None


def place(lines: list[Line], settings: Settings, cache_dir: Path, ceiling: float,
          report: Callable[[int, int], None]) -> Timeline:
    """Master every clip under `ceiling` (cached), then lay the lines and the music out in time."""

    def mastered(line: Line) -> Path:
        return master_clip(line.clip, line.segment.kind == Kind.THOUGHT, settings.levels, settings.sample_rate,
                           cache_dir, ceiling)

    placements = []
    with ThreadPoolExecutor(settings.jobs or os.cpu_count()) as pool:
        for line, path in zip(lines, pool.map(mastered, lines), strict=True):
            placements.append(Placement(line.segment, path, *clip_frames(path), voice_key=repr(line.voice),
                                        volume=line.voice.volume, source=line.clip))
            report(len(placements), len(lines))
    placements = with_music(placements, settings, cache_dir)
    return build_timeline(placements, settings.pauses, settings.sample_rate)


def with_music(placements: list[Placement], settings: Settings, cache_dir: Path) -> list[Placement]:
    """The placements with the intro before and the outro after, each in a scene of its own."""

    def music(path: Path | None, title: str, scene: int) -> list[Placement]:
        if path is None:
            return []
        mastered = master_music(path, settings.levels, settings.sample_rate, cache_dir)
        segment = Segment(Kind.MUSIC, None, 0, 0, title, paragraph=scene, scene=scene)
        return [Placement(segment, mastered, *clip_frames(mastered), voice_key=title, volume=1.0)]

    last_scene = placements[-1].segment.scene
    return music(settings.intro, "Intro", -2) + placements + music(settings.outro, "Outro", last_scene + 1)


def fingerprint(segments: list[Segment], clips: list[Clip], voices: list[Voice], settings: Settings,
                tags: Tags) -> str:
    """A hash of everything that shapes the episode's bytes: every line with its clip (by content-addressed
    name, so wherever the cache lies) and volume, the settings, the tags and the files they name (by name
    and content, so wherever they lie: a cluster's worker reads them from a folder of its own)."""
    lines = tuple((s, c.path.name, v.volume) for s, c, v in zip(segments, clips, voices, strict=True))
    paths = [path for _, path in settings.ambience.files] + ([tags.cover] if tags.cover else [])
    paths += [path for path in (settings.intro, settings.outro) if path]
    files = tuple(hashlib.sha256(path.read_bytes()).hexdigest() for path in paths if path.is_file())

    def named(path: Path | None) -> Path | None:
        return Path(path.name) if path else None

    ambience = replace(settings.ambience, files=tuple((bed, Path(path.name)) for bed, path in settings.ambience.files))
    recipe_settings = replace(settings, jobs=None, cache_dir=None, intro=named(settings.intro),
                              outro=named(settings.outro), ambience=ambience)
    recipe = repr((__version__, MASTERING_REVISION, lines, recipe_settings, files, replace(tags, cover=None)))
    return hashlib.sha256(recipe.encode("utf-8")).hexdigest()
