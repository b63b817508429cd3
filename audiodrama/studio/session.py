"""The studio's state: the episodes, each one's script with the user's edits, the cast, and the history
of changes; every action the page offers is a method here that saves at once (atomically) or changes
nothing. A change names the version of the state it was made against, so a page showing an older
state (a second tab) is refused instead of overwriting what it has not seen."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from audiodrama import script as scripts
from audiodrama.attribution import parse_file
from audiodrama.casting.cast import Cast, load_cast
from audiodrama.casting.chapters import Casting, cast_scripts, check_cast, init_cast
from audiodrama.episode import Episode, episode_name, produce
from audiodrama.errors import InputError
from audiodrama.export.files import SCRIPT_SUFFIX
from audiodrama.files import ensure_writable_dir
from audiodrama.script import Script
from audiodrama.settings import Settings
from audiodrama.studio import castfile, edits, listening
from audiodrama.studio.documents import Document, Source, StaleVersion
from audiodrama.studio.edits import EditError

CAST_NAME = "cast.yaml"
"""The cast file the studio writes in the output folder when it is given chapters without a cast."""
HISTORY = 500
"""Changes that can be undone."""


@dataclass(frozen=True)
class Step:
    """One change, as undo and redo need it."""

    label: str
    """What it did, for the page ("line 12: Sakura Haruno")."""
    episode: int | None
    """The episode whose script it changed (None: only the cast)."""
    scripts: tuple[Script, Script] | None = None
    """The script before and after."""
    cast: tuple[str, str] | None = None
    """The cast file's text before and after."""


@dataclass(frozen=True)
class Change:
    """What a successful action did, for the page to show."""

    version: int
    """The studio's version after it."""
    message: str
    """One line saying what changed."""
    episode: int | None = None
    """The episode whose script changed, if any."""
    lines: tuple[int, ...] = ()
    """The lines of that script that changed."""
    cast_changed: bool = False
    """True when the cast file changed."""


class Studio:
    """The episodes open in the studio, their edited scripts and the cast, with undo and redo."""

    def __init__(self, sources: Sequence[Source], cast_file: Path, output: Path, series: Path | None = None) -> None:
        """Open `sources` (their saved edits when the output folder has them) with the cast at `cast_file`."""
        self.sources = tuple(sources)
        self.output = ensure_writable_dir(output)
        self.series = series
        self.cast_document = Document(cast_file)
        self.version = 1
        self.render_job = listening.RenderJob()
        self._lock = threading.RLock()
        self._done: list[Step] = []
        self._undone: list[Step] = []
        self._load()

    @classmethod
    def open(cls, chapters: Sequence[Path], cast: Path | None = None, series: Path | None = None,
             output: Path | None = None) -> Studio:
        """The studio for some chapters (and a cast file, else `<output>/cast.yaml`, written by `cast init`
        when absent; output default `output/`) or for a series manifest (which names its cast and output)."""
        if series is not None:
            if chapters or cast or output:
                raise InputError("a series names its own chapters, cast and output folder",
                                 hint="give --series alone, or chapters with --cast and -o")
            return cls._for_series(series)
        if not chapters:
            raise InputError("give the chapters to open, or --series SERIES.yaml")
        output = output or Path("output")
        ensure_writable_dir(output)
        if cast is None:
            cast = output / CAST_NAME
            if not cast.exists():
                init_cast([c for c in chapters if not scripts.is_script_file(c)], cast)
        sources, names = [], {}
        for number, chapter in enumerate(chapters, 1):
            name = episode_name(chapter)
            if name.casefold() in names:
                raise InputError(f"{names[name.casefold()]} and {chapter} would both be episode {name!r}",
                                 path=chapter, hint="give chapters with different file names")
            names[name.casefold()] = chapter
            given = scripts.is_script_file(chapter)
            script_file = chapter if given else output / f"{name}{SCRIPT_SUFFIX}.yaml"
            sources.append(Source(number, Path(chapter), name, "", script_file, Settings()))
        return cls(sources, cast, output)

    @classmethod
    def _for_series(cls, manifest: Path) -> Studio:
        from audiodrama.series.manifest import load_series

        series = load_series(manifest)
        if not series.cast.path:
            raise InputError("the series has no `cast:` file for the studio to edit", path=manifest,
                             hint="write one with `audiodrama cast init` and name it under `cast:`")
        sources = [Source(spec.number, spec.file, spec.name, spec.title,
                          spec.file if scripts.is_script_file(spec.file)
                          else series.output / f"{spec.name}{SCRIPT_SUFFIX}.yaml", spec.settings)
                   for spec in series.episodes]
        return cls(sources, Path(series.cast.path), series.output, manifest)

    # --- loading ---------------------------------------------------------------------------------------

    def _load(self) -> None:
        """Read the cast and every episode's script (saved edits, else a fresh parse, saved at once)."""
        self.cast_text = self.cast_document.read()
        self._casts = self._read_casts(self.cast_document.path)
        self.documents = [Document(source.script_file) for source in self.sources]
        self.scripts = [self._open_script(source, document) for source, document in zip(
            self.sources, self.documents, strict=True)]
        self._casting: dict[int, Casting] = {}

    def _read_casts(self, cast_file: Path) -> list[Cast]:
        """Each episode's cast (a series' per-episode `cast:` overrides applied)."""
        if self.series is None:
            cast = load_cast(cast_file)
            return [cast for _ in self.sources]
        from audiodrama.series.manifest import load_series

        return [spec.cast for spec in load_series(self.series).episodes]

    def _open_script(self, source: Source, document: Document) -> Script:
        if source.script_file == source.chapter:
            document.read()
            return scripts.load_script(source.chapter)
        parsed = parse_file(source.chapter, self._casts[source.number - 1])
        if source.script_file.exists():
            document.read()
            saved = scripts.load_script(source.script_file)
            if [(s.start, s.end) for s in saved.segments] != [(s.start, s.end) for s in parsed.segments]:
                raise InputError(f"the saved edits were made on another version of {source.chapter.name}",
                                 path=source.script_file, hint="move the file away to start from the chapter again")
            return replace(saved, source=parsed.source, genders=parsed.genders)
        document.write(scripts.to_yaml(parsed))
        return parsed

    def reload(self) -> Change:
        """Read every file again as it is on disk now (after an edit made outside the studio); the history
        is forgotten."""
        with self._lock:
            self._load()
            self._done.clear()
            self._undone.clear()
            self.version += 1
            return Change(self.version, "reloaded the cast and scripts from disk", cast_changed=True)

    # --- reading ---------------------------------------------------------------------------------------

    def source(self, episode: int) -> Source:
        """The episode numbered `episode` (from 1)."""
        if not isinstance(episode, int) or not 1 <= episode <= len(self.sources):
            raise EditError(f"there is no episode {episode!r}", hint=f"episodes are 1 to {len(self.sources)}")
        return self.sources[episode - 1]

    def script(self, episode: int) -> Script:
        """The episode's script with every edit made so far."""
        return self.scripts[self.source(episode).number - 1]

    def cast(self, episode: int) -> Cast:
        """The cast as the cast file gives it, for the episode."""
        return self._casts[self.source(episode).number - 1]

    def casting(self, episode: int) -> Casting:
        """The cast with every speaker of the episode voiced, exactly as `produce` will voice them."""
        with self._lock:
            number = self.source(episode).number
            if number not in self._casting:
                script, cast = self.scripts[number - 1], self._casts[number - 1]
                self._casting[number] = cast_scripts(cast, [script], dict(script.genders))
            return self._casting[number]

    def speakers(self, episode: int) -> tuple[str, ...]:
        """Everyone a line can be given to: the cast's characters, then the script's speakers it lacks."""
        return tuple(c.name for c in self.casting(episode).cast.characters)

    def warnings(self, episode: int) -> tuple[str, ...]:
        """Voices too alike among characters who share a scene, and aliases claimed twice (`cast check`)."""
        source = self.source(episode)
        chapters = [] if source.chapter == source.script_file else [source.chapter]
        findings = check_cast(self.cast(episode), chapters)
        return tuple(f.message for f in findings if f.kind in ("alike", "alias"))

    @property
    def title(self) -> str:
        """What the page calls the work: the cast's title, else the first episode's name."""
        return self._casts[0].title or self.sources[0].name

    # --- changing ----------------------------------------------------------------------------------------

    def _check(self, version: int | None) -> None:
        if version is not None and version != self.version:
            raise StaleVersion(f"the studio was changed in another tab or window (it is at version {self.version}, "
                               f"this page showed version {version}); nothing was saved",
                               hint="the page now shows the latest state: make the change again")

    def _speaker(self, episode: int, name: str) -> str:
        """The canonical name of a speaker the page gave (an alias, any case)."""
        if not isinstance(name, str) or not name.strip():
            raise EditError("give a speaker's name")
        character = self.casting(episode).cast.character(name)
        if character is None:
            raise EditError(f"unknown speaker {name!r}", hint="add the character to the cast first")
        return character.name

    def _apply(self, step: Step, cast_check: bool = True) -> Change:
        """Save what `step` changes (the script or the cast file) and record it for undo."""
        self._write(step.episode, step.scripts[1] if step.scripts else None, step.cast[1] if step.cast else None)
        self._done = [*self._done[-HISTORY + 1:], step]
        self._undone.clear()
        return self._changed(step, step.scripts, step.label)

    def _write(self, episode: int | None, script: Script | None, cast_text: str | None) -> None:
        if script is not None:
            number = self.source(episode).number
            document = self.documents[number - 1]
            text = scripts.to_jsonl(script) if document.path.suffix.lower() in (".jsonl", ".json") \
                else scripts.to_yaml(script)
            document.write(text)
            self.scripts[number - 1] = script
        if cast_text is not None:
            self.cast_document.write(cast_text, _valid_cast)
            self.cast_text, self._casts = cast_text, self._read_casts(self.cast_document.path)
        self._casting.clear()
        self.version += 1

    def _changed(self, step: Step, pair: tuple[Script, Script] | None, label: str) -> Change:
        lines = edits.changed_lines(*pair) if pair else ()
        return Change(self.version, label, step.episode, lines, step.cast is not None)

    def _script_step(self, episode: int, version: int | None, label: str, edit: Callable[[Script], Script]) -> Change:
        with self._lock:
            self._check(version)
            before = self.script(episode)
            after = edit(before)
            return self._apply(Step(label, self.source(episode).number, (before, after)))

    def assign(self, episode: int, first: int, last: int, speaker: str, *, version: int | None = None) -> Change:
        """Lines `first` to `last` (the dialogue and thoughts among them) read by `speaker`."""
        with self._lock:
            name = self._speaker(episode, speaker)
            where = f"line {first}" if first == last else f"lines {first}-{last}"
            return self._script_step(episode, version, f"{where}: {name}",
                                     lambda script: edits.assign(script, first, last, name))

    def swap(self, episode: int, index: int, *, version: int | None = None) -> Change:
        """From line `index` to the end of its exchange, its speaker and the other one trade places."""
        with self._lock:
            self._check(version)
            before = self.script(episode)
            after, (one, other) = edits.swap_from(before, index)
            label = f"from line {index}: {one} and {other} swapped"
            return self._apply(Step(label, self.source(episode).number, (before, after)))

    def set_kind(self, episode: int, index: int, kind: str, speaker: str | None = None, *,
                 version: int | None = None) -> Change:
        """Line `index` turned into narration, dialogue, a thought, a tag or a heading."""
        with self._lock:
            name = self._speaker(episode, speaker) if speaker else None
            return self._script_step(episode, version, f"line {index}: {kind}",
                                     lambda script: edits.set_kind(script, index, kind, name))

    def _cast_step(self, version: int | None, label: str, edit: Callable[[str, Cast], str]) -> Change:
        with self._lock:
            self._check(version)
            after = edit(self.cast_text, self._casts[0])
            return self._apply(Step(label, None, cast=(self.cast_text, after)))

    def add_character(self, name: str, gender: str | None = None, *, version: int | None = None) -> Change:
        """A new character in the cast file (auto-cast until given a voice)."""
        return self._cast_step(version, f"added {name.strip()!r} to the cast",
                               lambda text, cast: castfile.with_character(text, cast, name, gender))

    def add_alias(self, name: str, alias: str, *, version: int | None = None) -> Change:
        """Another name for a character, in the cast file."""
        return self._cast_step(version, f"{alias.strip()!r} now names {name!r}",
                               lambda text, cast: castfile.with_alias(text, cast, name, alias))

    def set_voice(self, name: str, settings: Mapping[str, object], *, version: int | None = None) -> Change:
        """Voice, rate, pitch and volume of a character (or `narrator`) written into the cast file."""
        described = ", ".join(f"{key} {value}" for key, value in settings.items())
        return self._cast_step(version, f"{name}: {described}",
                               lambda text, cast: castfile.with_voice(text, cast, name, settings))

    def undo(self, *, version: int | None = None) -> Change:
        """Take back the last change."""
        return self._travel(version, self._done, self._undone, 0, "undo")

    def redo(self, *, version: int | None = None) -> Change:
        """Make again the change last taken back."""
        return self._travel(version, self._undone, self._done, 1, "redo")

    def _travel(self, version: int | None, source: list[Step], target: list[Step], side: int, verb: str) -> Change:
        with self._lock:
            self._check(version)
            if not source:
                raise EditError(f"nothing to {verb}")
            step = source[-1]
            script = step.scripts[side] if step.scripts else None
            self._write(step.episode, script, step.cast[side] if step.cast else None)
            target.append(source.pop())
            pair = (step.scripts[1 - side], step.scripts[side]) if step.scripts else None
            return self._changed(step, pair, f"{verb[:2]}did: {step.label}")

    # --- listening and rendering -------------------------------------------------------------------------

    def clip(self, episode: int, index: int) -> Path:
        """The WAV of line `index` in its current voice (from the clip cache `produce` uses)."""
        return listening.clips(self.script(episode), [index], self.casting(episode).cast,
                               self.source(episode).settings)[0]

    def scene(self, episode: int, scene: int) -> list[tuple[int, Path]]:
        """Every line of a scene that makes sound, with its clip, synthesised at once."""
        script = self.script(episode)
        lines = listening.scene_lines(script, scene)
        if not lines:
            raise EditError(f"scene {scene!r} has nothing to hear")
        paths = listening.clips(script, lines, self.casting(episode).cast, self.source(episode).settings)
        return list(zip(lines, paths, strict=True))

    def audition(self, episode: int, name: str) -> Path:
        """An MP3 of a character (or `narrator`) reading their first lines of the chapter."""
        source = self.source(episode)
        speaker = None if name == castfile.NARRATOR else self._speaker(episode, name)
        chapter = None if source.chapter == source.script_file else source.chapter
        return listening.audition_voice(self.casting(episode).cast, speaker, chapter, self.output / "auditions",
                                        source.settings)

    def render(self, episode: int, progress: Callable[[str, int, int], None] | None = None,
               script: Script | None = None) -> Episode:
        """Produce the episode as edited, or from `script` (only the lines whose clip changed are synthesised)."""
        with self._lock:
            source, cast, script = self.source(episode), self.cast(episode), script or self.script(episode)
        return produce(source.chapter, cast, self.output, source.settings, progress, script=script, name=source.name)

    def start_render(self, episode: int) -> bool:
        """Render in the background (`render_job.status` tells how far it is); False when one is running."""
        script = self.script(episode)
        return self.render_job.start(episode, script, lambda progress: self.render(episode, progress, script))


def _valid_cast(written: Path) -> None:
    """Refuse a cast text (at `written`, not yet in place) that `load_cast` would refuse."""
    try:
        load_cast(written)
    except InputError as error:
        raise InputError(f"not saved: {error.message}", hint=error.hint) from None
