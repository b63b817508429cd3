"""Producing one episode: chapter (or edited script) + cast -> MP3, transcripts and script file."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from audiodrama import __version__, runtime
from audiodrama import script as scripts
from audiodrama.attribution import discover_characters, parse_file
from audiodrama.casting.cast import Cast, pronounce, voice_for
from audiodrama.casting.chapters import cast_scripts
from audiodrama.errors import InputError
from audiodrama.export.files import SCRIPT_SUFFIX, EpisodeFiles
from audiodrama.export.mp3 import LoudnessTarget, Tags, read_build, scene_chapters, write_episode, write_transcripts
from audiodrama.files import ensure_writable_dir, sweep_partials, write_text_atomic
from audiodrama.mixing.ambience import BedTrack
from audiodrama.mixing.loudness import Loudness, limit_stream
from audiodrama.mixing.timeline import (
    MASTERING_REVISION,
    BedSource,
    Placement,
    Timeline,
    build_timeline,
    clip_frames,
    default_ceiling,
    encoder_cutoff,
    lowpass_stream,
    master_clip,
    master_music,
    measure_episode,
    render,
)
from audiodrama.script import Script, Segment
from audiodrama.settings import Settings
from audiodrama.synthesis.clips import Clip, ClipRequest, default_cache_dir, synthesize_all
from audiodrama.synthesis.voices import Voice
from audiodrama.text.chapter import Kind, read_chapter

SPEAKABLE = re.compile(r"\w")
CEILING_ROUNDS = 3
"""At most this many mastering rounds, each lowering the clips' ceiling by what the gain overshot."""
CEILING_MARK = ";ceiling="
"""Separates the fingerprint from the clips' ceiling in an episode's build tag."""
CEILING_SLACK = 0.2
"""dB the measured gain may exceed its prediction before the clips are mastered again, lower."""
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

    @property
    def mp3(self) -> Path:
        """The episode (`files.mp3`)."""
        return self.files.mp3


def read_source(source: Path, cast: Cast | None) -> Script:
    """A chapter is parsed; a script file (as `audiodrama script` writes it) is read as edited."""
    return scripts.load_script(source) if scripts.is_script_file(source) else parse_file(source, cast)


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
    script = script or read_source(source, cast)
    casting = cast_scripts(cast, [script], speaker_genders(source, script, cast))  # every speaker voiced
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
    clips = synthesize_all(requests, jobs=settings.jobs, cache_dir=settings.cache_dir, engine=settings.engine,
                           timeout=settings.timeout, progress=partial(report, "Synthesising"))
    cache_dir = settings.cache_dir or default_cache_dir()
    files = EpisodeFiles.of(out_dir, name)
    build = fingerprint(segments, clips, voices, settings, tags)
    lines = [Line(s, c.path, v) for s, c, v in zip(segments, clips, voices, strict=True)]
    built = parse_build(read_build(files.mp3))
    up_to_date = built is not None and built[0] == build and all(p.exists() for p in files.paths)
    ceiling = built[1] if up_to_date else default_ceiling(settings.levels)
    timeline = place(lines, settings, cache_dir, ceiling, partial(report, "Mastering"))
    loudness = None
    if not up_to_date:
        allowed = settings.levels.true_peak_db - settings.levels.limiter_margin_db
        for round_ in range(CEILING_ROUNDS):  # pauses and beds move the gain off its prediction; peaks follow
            bed = BedTrack.for_timeline(timeline, settings.ambience)
            gain = episode_gain(timeline, settings, bed, partial(report, "Measuring loudness"))
            excess = ceiling + gain - allowed
            if excess <= CEILING_SLACK or round_ == CEILING_ROUNDS - 1:
                break
            ceiling -= excess
            timeline = place(lines, settings, cache_dir, ceiling, partial(report, "Mastering again"))
        levels = settings.levels
        aim = LoudnessTarget(levels.target_lufs, levels.true_peak_db, levels.true_peak_db - levels.encoder_headroom_db)
        mix = partial(tracked, timeline, bed, partial(report, "Mixing and encoding"))
        loudness = write_episode(mix, gain, aim, settings.sample_rate, files.mp3, settings.bitrate,
                                 replace(tags, build=f"{build}{CEILING_MARK}{ceiling:.2f}"), scene_chapters(timeline))
        write_transcripts(timeline, files)
        write_text_atomic(files.script, scripts.to_jsonl(script))
    return Episode(files, timeline, len(segments), sum(not c.cached for c in clips),
                   loudness, tuple(casting.report()))


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


def speaker_genders(source: Path, script: Script, cast: Cast) -> dict[str, str | None]:
    """Genders the text suggests for the characters it names, read only when the script has speakers
    the cast lacks (auto-casting needs them for those alone; none for an edited script file)."""
    if all(cast.character(speaker) for speaker in script.speakers) or scripts.is_script_file(source):
        return {}
    return {c.name: c.gender for c in discover_characters(read_chapter(source))}


def episode_gain(timeline: Timeline, settings: Settings, bed: BedSource, report: Callable[[int, int], None]) -> float:
    """The gain (dB) that brings the mix to the target loudness: the mix is linear in its gain, so
    one measuring render at 0 dB tells it."""
    measured = measure_episode(tracked(timeline, bed, report, 0.0), settings.sample_rate).integrated
    target = settings.levels.target_lufs
    return target - measured if np.isfinite(measured) else target - settings.levels.speech_lufs


def tracked(timeline: Timeline, bed: BedSource, report: Callable[[int, int], None], gain_db: float,
            ceiling_db: float | None = None) -> Iterator[np.ndarray]:
    """`render(timeline, gain_db, bed)`, reporting the samples done; with `ceiling_db`, as it goes to the
    encoder: low-passed where the encoder would cut, true peaks limited under the ceiling."""
    done = 0
    blocks = render(timeline, gain_db, bed)
    if ceiling_db is not None:
        rate = timeline.sample_rate
        blocks = limit_stream(lowpass_stream(blocks, encoder_cutoff(rate), rate), ceiling_db, rate)
    for block in blocks:
        done += len(block)
        report(done, timeline.frames)
        yield block


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


