"""Planning a batch: what each episode is made from (its keys), whether it is up to date, the voices
it gets, and the dry run."""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from audiodrama import __version__
from audiodrama.casting.cast import Cast, voice_for
from audiodrama.casting.chapters import cast_scripts
from audiodrama.episode import read_source, voiced_segments
from audiodrama.export.files import EpisodeFiles
from audiodrama.export.mp3 import Tags
from audiodrama.mixing.timeline import pause_before
from audiodrama.script import Script
from audiodrama.series.manifest import EpisodeSpec, Series, select
from audiodrama.series.state import State, read_state
from audiodrama.settings import Settings
from audiodrama.synthesis.engine import engine_info
from audiodrama.synthesis.voices import Voice
from audiodrama.text.chapter import Kind


@functools.cache
def code_version() -> str:
    """Hash of the product's code and version (any change may change an episode)."""
    digest = hashlib.sha256(__version__.encode())
    root = Path(__file__).parent.parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _hash(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def _file_hash(path: Path | None) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path else ""


def reading_key(spec: EpisodeSpec) -> str:
    """Hash of what the episode's script depends on: chapter bytes, the cast's names and genders, whether
    author's notes are read, the code."""
    names = [(c.name, c.aliases, c.gender) for c in spec.cast.characters]
    return _hash(code_version(), _file_hash(spec.file), names, spec.settings.authors_notes)


def episode_cast(series: Series, spec: EpisodeSpec, script: Script | None, speakers: Sequence[str],
                 voices: dict[str, Voice]) -> Cast:
    """The episode's cast with every speaker voiced: by the cast, else by the voice recorded for the series
    in `voices`, else auto-cast now (apart from the series narrator, whatever this episode's) and recorded."""
    casting = cast_scripts(replace(spec.cast, narrator=series.cast.narrator), [script] if script else [],
                           recorded=voices, speakers=speakers)
    spoken = {character.name for s in speakers if (character := casting.cast.character(s))}
    voices.update((name, voice) for name, voice in casting.auto if name in spoken)
    return replace(casting.cast, narrator=spec.cast.narrator)


def episode_tags(series: Series, spec: EpisodeSpec, script: Script | None) -> Tags:
    """The MP3 tags of an episode (the title needs the script when the manifest gives none)."""
    title = spec.title or (script.title if script else "") or spec.name
    return Tags(title=title, album=series.title, artist=series.author, track=spec.number,
                comment=f"from {spec.file.name}", cover=series.image)


def build_key(series: Series, spec: EpisodeSpec, cast: Cast, speakers: Sequence[str], reading: str) -> str:
    """Hash of every input of an episode: its script's, the voices it uses, settings, tags, the engine."""
    voices = [(s, voice_for(cast, s), voice_for(cast, s, Kind.THOUGHT)) for s in speakers]
    settings = replace(spec.settings, jobs=None, cache_dir=None)
    beds = [(bed, _file_hash(path) if path.exists() else "") for bed, path in settings.ambience.files]
    return _hash(reading, engine_info()["version"], cast.narrator, cast.pronunciations, voices, settings, beds,
                 spec.name, spec.title, spec.number, series.title, series.author, _file_hash(series.image))


@dataclass(frozen=True)
class Planned:
    """An episode with everything decided before building it."""

    spec: EpisodeSpec
    """The episode."""
    cast: Cast
    """Its cast, every speaker voiced."""
    key: str
    """Its build key."""
    reading_key: str
    """Its reading key."""
    speakers: tuple[str, ...]
    """Speakers of its script."""
    script: Script | None
    """The parsed script; None when its reading key matched its record, so it was not read."""
    up_to_date: bool
    """The last build had the same key and its files are all there."""


def plan(series: Series, episodes: Sequence[EpisodeSpec], state: State, read_all: bool = False) -> list[Planned]:
    """Decide each episode in series order, casting new speakers into `state.voices` as they appear.

    An episode whose reading key matches its record is not parsed (its speakers are known) unless
    `read_all`; it is up to date when its build key matches too and its files are present.
    """
    planned = []
    for spec in episodes:
        reading = reading_key(spec)
        record = state.episodes.get(spec.name)
        known = record is not None and record.reading_key == reading and all(
            s in state.voices or getattr(spec.cast.character(s), "voice", None) for s in record.speakers)
        script = None if known and not read_all else read_source(spec.file, spec.cast, spec.settings.authors_notes)
        speakers = script.speakers if script else record.speakers if record else ()
        cast = episode_cast(series, spec, script, speakers, state.voices)
        key = build_key(series, spec, cast, speakers, reading)
        files = EpisodeFiles.of(series.output, spec.name)
        up_to_date = (record is not None and record.key == key and all(p.exists() for p in files.paths)
                      and files.mp3.stat().st_size == record.bytes)
        planned.append(Planned(spec, cast, key, reading, tuple(speakers), script, up_to_date))
    return planned


def new_speakers(series: Series, speakers: Sequence[str]) -> tuple[str, ...]:
    """Speakers the series cast file does not list."""
    return tuple(s for s in speakers if series.cast.character(s) is None)


@dataclass(frozen=True)
class Preview:
    """What building an episode would do."""

    spec: EpisodeSpec
    """The episode."""
    up_to_date: bool
    """Nothing to do."""
    lines: tuple[tuple[str, int], ...]
    """Lines per voice (`narrator` for narration), most first."""
    new_speakers: tuple[tuple[str, Voice], ...]
    """Speakers the cast file lacks, with the voice they get."""
    seconds: float
    """Estimated duration."""


def estimate_seconds(script: Script, cast: Cast, settings: Settings) -> float:
    """Duration from word counts at each voice's rate, plus the pauses the mix would put between lines."""
    total_ms, previous, previous_voice = 0.0, None, None
    for segment in voiced_segments(script):
        voice = voice_for(cast, segment.voiced_by, segment.kind)
        total_ms += pause_before(previous, segment, previous_voice not in (None, voice), settings.pauses)
        total_ms += len(segment.text.split()) * 60_000 / voice.rate
        previous, previous_voice = segment, voice
    return (total_ms + settings.pauses.end) / 1000


def preview(series: Series, only: str | None = None) -> list[Preview]:
    """The dry run: every selected episode read and cast, nothing synthesised or written."""
    state = read_state(series.output)
    previews = []
    for item in plan(series, select(series, only), state, read_all=True):
        assert item.script is not None
        counts = Counter(s.voiced_by or "narrator" for s in voiced_segments(item.script))
        added = tuple((s, voice_for(item.cast, s)) for s in new_speakers(series, item.speakers))
        previews.append(Preview(item.spec, item.up_to_date, tuple(counts.most_common()), added,
                                estimate_seconds(item.script, item.cast, item.spec.settings)))
    return previews


def preview_text(previews: Sequence[Preview]) -> str:
    """The dry run for the terminal."""
    out = []
    for p in previews:
        state = "up to date" if p.up_to_date else "would build"
        out.append(f"{p.spec.number}. {p.spec.name} ({p.spec.file.name}): {state}, about {p.seconds / 60:.1f} min, "
                   f"{sum(n for _, n in p.lines)} lines")
        out.append("   lines: " + ", ".join(f"{who} {n}" for who, n in p.lines))
        for name, voice in p.new_speakers:
            out.append(f"   new speaker (not in the cast): {name}, auto-cast as {voice.describe()}")
    total = sum(p.seconds for p in previews)
    out.append(f"{len(previews)} episodes, about {total / 60:.1f} min; "
               f"{sum(not p.up_to_date for p in previews)} to build; nothing synthesised (dry run)")
    return "\n".join(out) + "\n"
