"""A series: the `series.yaml` manifest, batch production of its episodes, the report and the feed.

The manifest is documented in docs/series-format.md. A batch is incremental (an episode whose inputs
did not change is skipped before its chapter is even read), resumable (a state file in the output
folder is rewritten atomically after every episode; clips are cached), locked against a second batch
on the same output folder, and parallel over episodes. Auto-cast voices are recorded in the state
file the first time a character speaks, so a character keeps its voice in every episode and a new
one never moves an old one.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import glob
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from urllib.parse import quote

import yaml

from audiodrama import __version__, runtime
from audiodrama.casting import autocast
from audiodrama.casting.cast import Cast, Character, Delivery, Voice, cast_from_node, load_cast, voice_for
from audiodrama.casting.chapters import scene_partners
from audiodrama.episode import SCRIPT_SUFFIX, episode_name, produce, read_source, voiced_segments
from audiodrama.errors import AudiodramaError, InputError
from audiodrama.export.mp3 import Tags
from audiodrama.files import atomic_path, ensure_writable_dir, sweep_partials, write_text_atomic
from audiodrama.mixing.timeline import pause_before
from audiodrama.script import Script
from audiodrama.series.feed import Channel, Item, write_feed
from audiodrama.settings import Settings, settings_from_node
from audiodrama.synthesis.clips import engine_info
from audiodrama.text.chapter import Kind
from audiodrama.yamlfile import Node, read_yaml

SERIES_KEYS = ("title", "author", "description", "language", "image", "cast", "production", "base_url", "explicit",
               "output", "episodes")
EPISODE_KEYS = ("file", "title", "name", "cast", "production")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
"""How JPEG and PNG files begin."""
LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*")
STATE_FILE = ".audiodrama-series.json"
"""In the output folder: what every episode was last built from, and the series' auto-cast voices."""
LOCK_FILE = ".audiodrama-series.lock"
"""In the output folder: held (flock) by the batch building it."""
REPORT_JSON, REPORT_MD, FEED = "report.json", "report.md", "feed.xml"
REVIEW_LINES = 5
"""Lowest-confidence lines listed per episode for review."""
REVIEW_BELOW = 0.9
"""Only lines less sure than this are listed (an explicit speech tag gives 0.95)."""
STATE_VERSION = 1
MAX_NAME_BYTES = 200
"""Longest episode name: with `.script.jsonl` and a temporary file's affixes it stays under 255."""


# --- the manifest ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeSpec:
    """One episode as the manifest gives it."""

    number: int
    """Position in the series, from 1."""
    file: Path
    """The chapter (or an edited script file)."""
    name: str
    """Output file name without extension: `<output>/<name>.mp3`."""
    title: str
    """Title from the manifest; empty takes the chapter's own (its first heading) or the name."""
    cast: Cast
    """The series cast with this episode's overrides."""
    settings: Settings
    """The series' production settings with this episode's overrides."""


@dataclass(frozen=True)
class Series:
    """A validated series manifest."""

    path: Path
    """The manifest file."""
    title: str
    """Series title (album tag, feed title)."""
    author: str
    """Author (artist tag, feed author)."""
    description: str
    """What the series is about (feed description)."""
    language: str
    """Language code for the feed."""
    image: Path | None
    """Cover image (JPEG or PNG), embedded in every episode and published beside the feed."""
    cast: Cast
    """The series cast."""
    settings: Settings
    """Production settings shared by every episode."""
    base_url: str
    """Where the output folder is published; the feed is written only when it is given."""
    explicit: bool
    """The feed's explicit flag."""
    output: Path
    """Output folder."""
    episodes: tuple[EpisodeSpec, ...]
    """Episodes in series order."""


def natural_key(text: str) -> list[str | int]:
    """Sort key putting "ch2" before "ch10"."""
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", text)]


def _present(node: Node | None) -> bool:
    return node is not None and not node.is_null()


def _flag(node: Node, what: str) -> bool:
    value = node.value(what)
    if not isinstance(value, bool):
        raise node.error(f"{what} must be true or false, not {value!r}")
    return value


def _output_name(node: Node, name: str) -> str:
    """`name` if it writes a plain file inside the output folder."""
    if not name.strip() or name in (".", "..") or any(c in name for c in "/\\\0") or Path(name).is_absolute():
        raise node.error(f"episode name {name!r} would write outside the output folder",
                         "give a plain file name, without / or ..")
    if not name.isprintable() or len(name.encode()) > MAX_NAME_BYTES:
        raise node.error(f"episode name {name!r} is not a usable file name",
                         f"give a plain name of at most {MAX_NAME_BYTES} bytes, without control characters")
    return name


def _layer(under: Delivery, over: Delivery) -> Delivery:
    """`over`'s settings where it gives them, else `under`'s."""
    return Delivery(**{f.name: getattr(over, f.name) if getattr(over, f.name) is not None else getattr(under, f.name)
                       for f in dataclasses.fields(Delivery)})


def _override_character(base: Character, over: Character) -> Character:
    voice = over.voice or (over.adjust.apply(base.voice) if base.voice else None)
    return replace(base, aliases=tuple(dict.fromkeys((*base.aliases, *over.aliases))),
                   gender=over.gender or base.gender, voice=voice,
                   adjust=Delivery() if voice else _layer(base.adjust, over.adjust),
                   thought=_layer(base.thought, over.thought))


def override_cast(cast: Cast, node: Node) -> Cast:
    """`cast` with an episode's `cast:` block over it (the cast file's format): a narrator given replaces
    the series narrator, characters given change only the settings they give, new ones are added."""
    over = cast_from_node(node)
    characters = list(cast.characters)
    for character in over.characters:
        known = cast.character(character.name)
        if known is None:
            characters.append(character)
        else:
            characters[characters.index(known)] = _override_character(known, character)
    given = {key for key, _ in node.mapping("cast")}
    return replace(cast, narrator=over.narrator if "narrator" in given else cast.narrator,
                   characters=tuple(characters),
                   pronunciations=tuple({**dict(cast.pronunciations), **dict(over.pronunciations)}.items()))


def _episode_items(node: Node, base: Path) -> list[tuple[Node, Path, dict[str, Node]]]:
    """(node, chapter file, episode keys) for a list of episodes or a glob."""
    if isinstance(node.node, yaml.ScalarNode):
        pattern = node.text("episodes")
        files = sorted((Path(p) for p in glob.glob(str(base / pattern)) if Path(p).is_file()),
                       key=lambda p: natural_key(str(p)))
        if not files:
            raise node.error(f"no chapter file matches {pattern!r}", "the pattern is relative to the manifest")
        return [(node, path, {}) for path in files]
    items = []
    for item in node.sequence("episodes"):
        if isinstance(item.node, yaml.MappingNode):
            item.check_keys("an episode", EPISODE_KEYS)
            keys = dict(item.mapping("an episode"))
            if "file" not in keys:
                raise item.error("an episode needs a `file`", "give the chapter file, relative to the manifest")
            items.append((item, keys["file"].existing_file("chapter file", base), keys))
        else:
            items.append((item, item.existing_file("chapter file", base), {}))
    if not items:
        raise node.error("the series has no episodes", "list chapter files, or give a glob like chapters/*.txt")
    return items


def _episodes(node: Node, base: Path, cast: Cast, settings: Settings) -> tuple[EpisodeSpec, ...]:
    episodes: list[EpisodeSpec] = []
    names: dict[str, Path] = {}
    for number, (item, path, keys) in enumerate(_episode_items(node, base), 1):
        name_node = keys.get("name", item)
        name = _output_name(name_node, keys["name"].text("name") if "name" in keys else episode_name(path))
        if name.casefold() in names:
            raise name_node.error(f"episodes {names[name.casefold()].name} and {path.name} would both write "
                                  f"{name}.mp3", "give one of them another `name`")
        names[name.casefold()] = path
        title = keys["title"].text("title") if _present(keys.get("title")) else ""
        episode_cast = override_cast(cast, keys["cast"]) if _present(keys.get("cast")) else cast
        episode_settings = settings_from_node(keys.get("production"), "production of an episode", settings)
        episodes.append(EpisodeSpec(number, path, name, title, episode_cast, episode_settings))
    return tuple(episodes)


def load_series(path: str | Path) -> Series:
    """Read and validate a series manifest; InputError (file:line:column) on anything wrong."""
    path = Path(path)
    root = read_yaml(path, "series manifest")
    if root is None:
        raise InputError("series manifest is empty", path=path, hint="see docs/series-format.md for an example")
    root.check_keys("the series manifest", SERIES_KEYS)
    keys = dict(root.mapping("the series manifest"))
    for required in ("title", "episodes"):
        if not _present(keys.get(required)):
            raise (keys.get(required) or root).error(f"the series manifest needs `{required}`",
                                                     "see docs/series-format.md")
    base = path.parent
    text = {key: keys[key].text(key) if _present(keys.get(key)) else "" for key in
            ("title", "author", "description", "language", "base_url")}
    if text["language"] and not LANGUAGE.fullmatch(text["language"]):
        raise keys["language"].error(f"language must be a code like en or en-us, not {text['language']!r}")
    if text["base_url"] and not re.match(r"https?://[^/\s]+", text["base_url"]):
        raise keys["base_url"].error(f"base_url must be an http:// or https:// address, not {text['base_url']!r}")
    image = None
    if _present(keys.get("image")):
        image = keys["image"].existing_file("cover image", base)
        if image.suffix.lower() not in IMAGE_SUFFIXES:
            raise keys["image"].error(f"cover image must be a JPEG or PNG file, not {image.name!r}")
        with image.open("rb") as picture:
            if not picture.read(8).startswith(IMAGE_SIGNATURES):
                raise keys["image"].error(f"cover image {image.name!r} is not a JPEG or PNG picture",
                                          "give a cover that image viewers open")
    cast = load_cast(keys["cast"].existing_file("cast file", base)) if _present(keys.get("cast")) else Cast()
    settings = settings_from_node(keys.get("production"), "production")
    explicit = _flag(keys["explicit"], "explicit") if _present(keys.get("explicit")) else False
    output = keys["output"].file("output", base) if _present(keys.get("output")) else base / "output" / path.stem
    return Series(path, text["title"], text["author"], text["description"], text["language"] or "en", image, cast,
                  settings, text["base_url"], explicit, output,
                  _episodes(keys["episodes"], base, cast, settings))


def select(series: Series, only: str | None) -> tuple[EpisodeSpec, ...]:
    """The episodes `--only` names (`3`, `3-5`, `1,4-6`; all when None)."""
    if not only:
        return series.episodes
    count = len(series.episodes)
    numbers: set[int] = set()
    for part in only.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise InputError(f"--only {only!r}: give episode numbers like 3, 3-5 or 1,4-6")
        low, high = int(match[1]), int(match[2] or match[1])
        if not 1 <= low <= high <= count:
            raise InputError(f"--only {only!r}: the series has episodes 1 to {count}")
        numbers.update(range(low, high + 1))
    return tuple(e for e in series.episodes if e.number in numbers)


# --- state: what was built from what, and the series' auto-cast voices ---------------------------------


@dataclass(frozen=True)
class Review:
    """A line whose speaker the parser was least sure of."""

    line: int
    """Line number in the chapter file."""
    speaker: str
    """Who the line was given to."""
    confidence: float
    """How sure the attribution is."""
    reason: str
    """Why that speaker."""
    text: str
    """The start of the line."""


@dataclass(frozen=True)
class EpisodeRecord:
    """What the last successful build of an episode was made from, and what it made."""

    key: str
    """Hash of every input; the same on the next run means there is nothing to do."""
    reading_key: str
    """Hash of what the script depends on (chapter, cast names, code); `speakers` hold while it is the same."""
    speakers: tuple[str, ...]
    """Speakers of the script."""
    new_speakers: tuple[str, ...]
    """Speakers the series cast file does not list (auto-cast)."""
    title: str
    """Episode title as tagged."""
    seconds: float
    """Duration."""
    lines: int
    """Lines voiced."""
    bytes: int
    """Size of the MP3."""
    review: tuple[Review, ...]
    """Lowest-confidence lines."""
    published: str
    """When the episode was first built (ISO 8601, UTC): the feed's pubDate."""


@dataclass(frozen=True)
class State:
    """The state file's content."""

    voices: dict[str, Voice] = field(default_factory=dict)
    """Voices auto-cast so far, by character: kept for the life of the series."""
    episodes: dict[str, EpisodeRecord] = field(default_factory=dict)
    """Last successful build, by episode name."""


def read_state(out_dir: Path) -> State:
    """The state file of an output folder; an empty state when there is none (or it is unreadable)."""
    try:
        data = json.loads((out_dir / STATE_FILE).read_text(encoding="utf-8"))
        if data.get("version") != STATE_VERSION:
            return State()
        voices = {name: Voice(**voice) for name, voice in data["voices"].items()}
        episodes = {name: EpisodeRecord(**{**record, "speakers": tuple(record["speakers"]),
                                           "new_speakers": tuple(record["new_speakers"]),
                                           "review": tuple(Review(**r) for r in record["review"])})
                    for name, record in data["episodes"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return State()
    return State(voices, episodes)


def write_state(out_dir: Path, state: State) -> None:
    """Write the state file atomically."""
    data = {"version": STATE_VERSION, "voices": {k: dataclasses.asdict(v) for k, v in state.voices.items()},
            "episodes": {k: dataclasses.asdict(r) for k, r in state.episodes.items()}}
    write_text_atomic(out_dir / STATE_FILE, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


class SeriesBusy(AudiodramaError):
    """Another batch holds the series' lock."""


@contextmanager
def series_lock(out_dir: Path) -> Iterator[None]:
    """Hold the output folder's lock for the duration; SeriesBusy when another batch holds it.

    The lock is an flock on `LOCK_FILE`: the system releases it when its process dies, so a lock left
    by a killed batch never blocks the next one.
    """
    with open(out_dir / LOCK_FILE, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise SeriesBusy(f"another batch is building this series ({holder})", path=out_dir,
                             hint="wait for it to finish, or stop it and run again") from None
        handle.truncate(0)
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, since {_now()}\n")
        handle.flush()
        yield


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


# --- planning: what each episode is made from, and whether it is up to date ----------------------------


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


def cast_episode(cast: Cast, script: Script | None, speakers: Sequence[str], voices: dict[str, Voice],
                 narrator: Voice) -> Cast:
    """`cast` with a voice for every speaker: the cast's own, else the series' recorded auto-cast one.

    Speakers with neither are auto-cast now (kept apart from `narrator`, the series narrator, and from
    their scene partners in `script`) and added to `voices`; voices already there never move.
    """
    characters = list(cast.characters) + [Character(s) for s in speakers if cast.character(s) is None]
    full = replace(cast, characters=tuple(characters))
    names = {full.character(s).name for s in speakers}
    new = {c.name: c.gender for c in characters if c.voice is None and c.name in names and c.name not in voices}
    if new:
        pairs = {frozenset(full.character(n).name for n in pair) for pair in scene_partners([script] if script else [])}
        fixed = {**{c.name: c.voice for c in characters if c.voice}, **voices}
        voices.update(autocast.assign(new, fixed, narrator, {p for p in pairs if len(p) == 2}))
    return replace(full, characters=tuple(
        replace(c, voice=c.adjust.apply(voices[c.name]), adjust=Delivery()) if c.voice is None and c.name in voices
        else c for c in characters))


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


def outputs(out_dir: Path, name: str) -> tuple[Path, ...]:
    """The files an episode writes: MP3, script, SRT, VTT."""
    mp3 = out_dir / f"{name}.mp3"
    return mp3, out_dir / f"{name}{SCRIPT_SUFFIX}.jsonl", mp3.with_suffix(".srt"), mp3.with_suffix(".vtt")


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
        cast = cast_episode(spec.cast, script, speakers, state.voices, series.cast.narrator)
        key = build_key(series, spec, cast, speakers, reading)
        files = outputs(series.output, spec.name)
        up_to_date = (record is not None and record.key == key and all(p.exists() for p in files)
                      and files[0].stat().st_size == record.bytes)
        planned.append(Planned(spec, cast, key, reading, tuple(speakers), script, up_to_date))
    return planned


def review_lines(spec: EpisodeSpec, script: Script) -> tuple[Review, ...]:
    """The dialogue lines of lowest confidence (below `REVIEW_BELOW`), weakest first."""
    text = spec.file.read_text(encoding="utf-8", errors="replace")
    weakest = sorted((s for s in script.segments if s.voiced_by_speaker and s.confidence < REVIEW_BELOW),
                     key=lambda s: (s.confidence, s.start))[:REVIEW_LINES]
    return tuple(Review(text.count("\n", 0, s.start) + 1, s.speaker or "?", round(s.confidence, 3), s.reason,
                        s.text[:80]) for s in weakest)


def new_speakers(series: Series, speakers: Sequence[str]) -> tuple[str, ...]:
    """Speakers the series cast file does not list."""
    return tuple(s for s in speakers if series.cast.character(s) is None)


# --- dry run --------------------------------------------------------------------------------------------


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


# --- building -------------------------------------------------------------------------------------------


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
    jobs: int
    """Synthesis processes for its lines."""


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
                    outcome = Outcome(error=f"worker failed: {_exit_reason(process.exitcode)}")
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


def _exit_reason(code: int | None) -> str:
    """How a process ended, from its exit code (negative: the signal that killed it)."""
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


@dataclass(frozen=True)
class EpisodeReport:
    """One episode's line in the batch report."""

    number: int
    """Position in the series."""
    name: str
    """Output name."""
    file: str
    """Chapter file."""
    status: str
    """`built`, `skipped` (up to date) or `failed`."""
    title: str = ""
    """Episode title."""
    seconds: float = 0.0
    """Duration."""
    lines: int = 0
    """Lines voiced."""
    synthesized: int = 0
    """Clips synthesised in this run."""
    elapsed: float = 0.0
    """Wall time spent on it in this run."""
    error: str = ""
    """Why it failed."""
    new_speakers: tuple[str, ...] = ()
    """Speakers the cast file lacks (auto-cast)."""
    review: tuple[Review, ...] = ()
    """Lowest-confidence lines to review."""

    def line(self) -> str:
        """One line for the terminal."""
        head = f"{self.number}. {self.name}: {self.status}"
        if self.status == "failed":
            return f"{head}: {self.error}"
        made = f", {self.synthesized} clips synthesised in {self.elapsed:.0f} s" if self.status == "built" else ""
        return f"{head}, {self.seconds / 60:.1f} min, {self.lines} lines{made}"


@dataclass(frozen=True)
class BatchReport:
    """What a batch did."""

    series: str
    """Series title."""
    output: Path
    """Output folder."""
    episodes: tuple[EpisodeReport, ...]
    """The selected episodes, in series order."""
    elapsed: float
    """Wall time of the batch."""
    feed: Path | None
    """The feed written, if any."""

    def count(self, status: str) -> int:
        """Episodes with this status."""
        return sum(e.status == status for e in self.episodes)

    @property
    def failed(self) -> bool:
        """Some episode failed."""
        return self.count("failed") > 0

    def summary(self) -> str:
        """The report for the terminal."""
        built = [e for e in self.episodes if e.status != "failed"]
        out = [f"{self.series}: {self.count('built')} built, {self.count('skipped')} skipped, "
               f"{self.count('failed')} failed in {self.elapsed:.0f} s; "
               f"{sum(e.seconds for e in built) / 60:.1f} min of audio in {self.output}"]
        out += [e.line() for e in self.episodes]
        new = dict.fromkeys(s for e in self.episodes for s in e.new_speakers)
        if new:
            out.append("speakers not in the cast (auto-cast): " + "; ".join(new))
        weakest = sorted(((r, e) for e in self.episodes for r in e.review), key=lambda x: x[0].confidence)
        for review, episode in weakest[:REVIEW_LINES]:
            out.append(f"review {episode.file}:{review.line}: {review.speaker} ({review.confidence:.2f}, "
                       f"{review.reason}) {review.text!r}")
        if self.feed:
            out.append(f"feed: {self.feed}")
        out += [f"report: {self.output / REPORT_MD}"]
        return "\n".join(out) + "\n"

    def markdown(self) -> str:
        """The report as Markdown."""
        out = [f"# {self.series}: batch report", "",
               f"{self.count('built')} built, {self.count('skipped')} skipped, {self.count('failed')} failed "
               f"in {self.elapsed:.0f} s.", "",
               "| # | episode | status | duration | lines | clips synthesised | new speakers |",
               "|---|---|---|---|---|---|---|"]
        for e in self.episodes:
            status = f"failed: {e.error}" if e.status == "failed" else e.status
            out.append(f"| {e.number} | {e.title or e.name} | {status} | {e.seconds / 60:.1f} min | {e.lines} | "
                       f"{e.synthesized} | {', '.join(e.new_speakers)} |")
        out += ["", "## Lines to review", "", "| episode | line | speaker | confidence | reason | text |",
                "|---|---|---|---|---|---|"]
        for e in self.episodes:
            for r in e.review:
                text = r.text.replace("|", "\\|")
                out.append(f"| {e.name} | {e.file}:{r.line} | {r.speaker} | {r.confidence:.2f} | {r.reason} | "
                           f"{text} |")
        return "\n".join(out) + "\n"

    def to_json(self) -> str:
        """The report as JSON."""
        return json.dumps(dataclasses.asdict(self), indent=1, ensure_ascii=False, default=str) + "\n"


def _report(spec: EpisodeSpec, status: str, record: EpisodeRecord | None, outcome: Outcome | None) -> EpisodeReport:
    base = EpisodeReport(spec.number, spec.name, str(spec.file), status)
    if record:
        base = replace(base, title=record.title, seconds=record.seconds, lines=record.lines,
                       new_speakers=record.new_speakers, review=record.review)
    if outcome:
        base = replace(base, synthesized=outcome.synthesized, elapsed=outcome.elapsed, error=outcome.error)
    return base


def publish_cover(series: Series) -> str | None:
    """Copy the cover image into the output folder (atomically); its file name."""
    if series.image is None:
        return None
    target = series.output / f"cover{series.image.suffix.lower()}"
    if not target.exists() or target.read_bytes() != series.image.read_bytes():
        with atomic_path(target) as temporary:
            shutil.copyfile(series.image, temporary)
    return target.name


def guid(series: Series, spec: EpisodeSpec) -> str:
    """A feed identifier stable across rebuilds: the series title and the chapter's file name."""
    return "audiodrama-" + hashlib.sha256(f"{series.title}\n{spec.file.name}".encode()).hexdigest()[:32]


def write_series_feed(series: Series, state: State, cover: str | None) -> Path | None:
    """`feed.xml` over every built episode, in series order; None without a base URL."""
    if not series.base_url:
        return None
    base = series.base_url.rstrip("/") + "/"
    items = []
    for spec in series.episodes:
        record = state.episodes.get(spec.name)
        mp3 = series.output / f"{spec.name}.mp3"
        if record and mp3.exists():
            items.append(Item(record.title, base + quote(mp3.name), mp3.stat().st_size, record.seconds,
                              datetime.fromisoformat(record.published), guid(series, spec), spec.number))
    channel = Channel(series.title, base, series.description or series.title, series.language, series.author,
                      series.explicit, base + quote(cover) if cover else None)
    target = series.output / FEED
    write_feed(target, channel, items)
    return target


def build_series(series: Series, jobs: int | None = None, only: str | None = None,
                 on_episode: Callable[[EpisodeReport], None] | None = None) -> BatchReport:
    """Build the selected episodes that are not up to date, then write the report and the feed.

    `jobs` (default: the core count) is split between episodes built at once (separate processes)
    and synthesis processes per episode. The state file is rewritten after every episode, so a killed
    batch resumes where it stopped; a failed episode is reported and the others go on.
    """
    started = time.monotonic()
    selected = select(series, only)
    out_dir = ensure_writable_dir(series.output)
    runtime.ffmpeg()  # missing: say so before any work
    with series_lock(out_dir):
        sweep_partials(out_dir)
        state = read_state(out_dir)
        planned = plan(series, selected, state)
        records = {k: v for k, v in state.episodes.items() if k in {e.name for e in series.episodes}}
        state = State(state.voices, records)
        write_state(out_dir, state)
        reports: dict[int, EpisodeReport] = {}
        for item in planned:
            if item.up_to_date:
                reports[item.spec.number] = _report(item.spec, "skipped", records[item.spec.name], None)
                if on_episode:
                    on_episode(reports[item.spec.number])
        todo = [item for item in planned if not item.up_to_date]
        cores = jobs or os.cpu_count() or 1
        workers = max(1, min(cores, len(todo)))
        by_number = {item.spec.number: item for item in todo}
        first = datetime.now(timezone.utc).replace(microsecond=0)
        new = [item.spec.name for item in todo if item.spec.name not in records]
        published = {name: (first + timedelta(seconds=i)).isoformat() for i, name in enumerate(new)}
        work = []
        for item in todo:
            script = item.script or read_source(item.spec.file, item.spec.cast, item.spec.settings.authors_notes)
            by_number[item.spec.number] = replace(item, script=script)
            work.append(Job(item.spec, item.cast, script, episode_tags(series, item.spec, script), out_dir,
                            max(1, cores // workers)))

        def done(job: Job, outcome: Outcome) -> None:
            item = by_number[job.spec.number]
            record = None
            if not outcome.error:
                assert item.script is not None
                previous = records.get(job.spec.name)
                record = EpisodeRecord(item.key, item.reading_key, item.speakers,
                                       new_speakers(series, item.speakers), job.tags.title, outcome.seconds,
                                       outcome.lines, outcome.bytes, review_lines(job.spec, item.script),
                                       previous.published if previous else published[job.spec.name])
                records[job.spec.name] = record
                write_state(out_dir, state)
            reports[job.spec.number] = _report(job.spec, "failed" if outcome.error else "built", record, outcome)
            if on_episode:
                on_episode(reports[job.spec.number])

        run_jobs(work, workers, done)
        feed = write_series_feed(series, state, publish_cover(series))
        report = BatchReport(series.title, out_dir, tuple(reports[e.number] for e in selected),
                             time.monotonic() - started, feed)
        write_text_atomic(out_dir / REPORT_JSON, report.to_json())
        write_text_atomic(out_dir / REPORT_MD, report.markdown())
    return report
