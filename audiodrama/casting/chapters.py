"""Casting chapters: voices for every speaker of a script, `cast init` (a cast file from chapters) and
`cast check` (what is missing, ambiguous, silent or too alike)."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from audiodrama.attribution import attribute, discover_characters
from audiodrama.casting import autocast
from audiodrama.casting.cast import Cast, Character, Delivery, voice_for
from audiodrama.errors import InputError
from audiodrama.files import ensure_writable_dir, write_text_atomic
from audiodrama.script import Script
from audiodrama.synthesis.voices import Voice
from audiodrama.text.reader import read_chapter

NARRATOR = "the narrator"
"""How messages name the narrator."""


def scene_partners(scripts: Iterable[Script]) -> set[frozenset[str]]:
    """Pairs of speakers who have lines in the same scene of a script."""
    pairs: set[frozenset[str]] = set()
    for script in scripts:
        scenes: dict[int, set[str]] = {}
        for segment in script.segments:
            if segment.voiced_by:
                scenes.setdefault(segment.scene, set()).add(segment.voiced_by)
        for speakers in scenes.values():
            pairs.update(frozenset(pair) for pair in itertools.combinations(sorted(speakers), 2))
    return pairs


@dataclass(frozen=True)
class Casting:
    """A cast completed for some scripts: every character and speaker has a voice."""

    cast: Cast
    """The cast with every voice filled in (speakers it lacked added as characters)."""
    auto: tuple[tuple[str, Voice], ...] = ()
    """Characters auto-cast here, each with the voice chosen (before its own rate or pitch changes):
    what a series records to pass back as `recorded`."""
    uncast: tuple[str, ...] = ()
    """Speakers of the scripts that the cast file does not list."""

    def report(self) -> list[str]:
        """One line per speaker the cast file lacks, for stderr."""
        fallback = autocast.fallback_notice(self.cast.engine, dict(self.auto), self.cast.narrator)
        lines = [f"speaker {name!r} is not in the cast; auto-cast as {voice_for(self.cast, name).describe()} "
                 f"(add it to the cast file to keep or change that)" for name in self.uncast]
        return lines + ([fallback] if fallback else [])


def cast_scripts(cast: Cast, scripts: Sequence[Script], genders: Mapping[str, str | None] | None = None, *,
                 recorded: Mapping[str, Voice] | None = None, speakers: Sequence[str] = ()) -> Casting:
    """Give every character without a voice, and every speaker the cast lacks (with a gender from
    `genders` when known), an auto-cast voice kept apart from its scene partners'.

    `recorded` holds voices auto-cast before (a series' earlier episodes): a character without a voice
    of its own keeps its recorded one, and newcomers are cast around it. `speakers` are speakers of
    scripts not given (known from an earlier reading of them).
    """
    genders = genders or {}
    recorded = recorded or {}
    characters = list(cast.characters)
    uncast = []
    everyone = (*(speaker for script in scripts for speaker in script.speakers), *speakers)
    for speaker in dict.fromkeys(everyone):
        if cast.character(speaker) is None:
            uncast.append(speaker)
            characters.append(Character(speaker, gender=genders.get(speaker)))
    full = replace(cast, characters=tuple(characters))
    pairs = {frozenset(full.character(name).name for name in pair) for pair in scene_partners(scripts)}
    own = {c.name: c.voice for c in characters if c.voice is not None}
    kept = {c.name: recorded[c.name] for c in characters if c.name in recorded and c.name not in own}
    chosen = autocast.assign({c.name: c.gender for c in characters if c.name not in own and c.name not in kept},
                             {**own, **kept}, cast.narrator, {pair for pair in pairs if len(pair) == 2}, cast.engine)
    given = {**kept, **chosen}
    voiced = tuple(c if c.voice else replace(c, voice=c.adjust.apply(given[c.name]), adjust=Delivery())
                   for c in characters)
    auto = tuple((c.name, chosen[c.name]) for c in characters if c.name in chosen)
    return Casting(replace(full, characters=voiced), auto, tuple(uncast))


@dataclass(frozen=True)
class Reading:
    """Chapters read against a cast: their scripts and who speaks how often."""

    cast: Cast
    """The cast, with the characters the chapters name but it lacked added (no voice)."""
    scripts: tuple[Script, ...]
    """One script per chapter, attributed with that cast."""
    lines: Mapping[str, Counter[str]] = field(default_factory=dict)
    """Character -> chapter file name -> lines (dialogue and thoughts)."""
    added: tuple[str, ...] = ()
    """Characters found in the chapters that the given cast did not list."""


def read_chapters(chapters: Sequence[Path], cast: Cast) -> Reading:
    """Discover the chapters' characters, add the ones `cast` lacks, and attribute every chapter."""
    texts = [read_chapter(path) for path in chapters]
    characters = list(cast.characters)
    added = []
    for found in (f for text in texts for f in discover_characters(text)):
        known = next((c for name in (found.name, *found.aliases) if (c := _find(characters, name))), None)
        if known is None:
            characters.append(Character(found.name, found.aliases, found.gender))
            added.append(found.name)
        elif known.name in added:
            merged = tuple(a for a in dict.fromkeys((*known.aliases, found.name, *found.aliases)) if a != known.name)
            characters[characters.index(known)] = replace(known, aliases=merged, gender=known.gender or found.gender)
    full = replace(cast, characters=tuple(characters))
    scripts = tuple(attribute(text, full) for text in texts)
    lines: dict[str, Counter[str]] = {}
    for path, script in zip(chapters, scripts, strict=True):
        for segment in script.segments:
            if segment.voiced_by:
                lines.setdefault(segment.voiced_by, Counter())[Path(path).name] += 1
    return Reading(full, scripts, lines, tuple(added))


def _find(characters: Iterable[Character], name: str) -> Character | None:
    return Cast(characters=tuple(characters)).character(name)


def _scalar(value: object) -> str:
    """A YAML scalar: plain when it reads back as itself, else JSON-quoted (valid YAML)."""
    text = str(value)
    if isinstance(value, str) and (not re.fullmatch(r"[A-Za-z][\w .'-]*", text) or yaml.safe_load(text) != text):
        return json.dumps(text, ensure_ascii=False)
    return text


def _voice_lines(voice: Voice, indent: str) -> list[str]:
    return [f"{indent}voice: {voice.voice}", f"{indent}rate: {voice.rate}", f"{indent}pitch: {voice.pitch}",
            f"{indent}volume: {float(voice.volume)}"]


def cast_file_text(casting: Casting, reading: Reading, chapters: Sequence[Path]) -> str:
    """A commented cast file: characters by lines spoken, with guessed genders and written-out voices."""
    names = ", ".join(Path(p).name for p in chapters)
    out = [f"# Cast written by `audiodrama cast init` from {names}.",
           "# Every voice was auto-cast and is written out so it stays the same: edit any of them.",
           "# `audiodrama voices` lists the voices, `audiodrama audition` plays them,",
           "# `audiodrama cast check` finds clashes. Reference: docs/cast-format.md",
           "narrator:", *_voice_lines(casting.cast.narrator, "  "), "characters:"]
    total = {c.name: sum(reading.lines.get(c.name, Counter()).values()) for c in casting.cast.characters}
    for character in sorted(casting.cast.characters, key=lambda c: -total[c.name]):
        counts = reading.lines.get(character.name, Counter())
        where = ", ".join(f"{chapter}: {n}" for chapter, n in counts.items())
        count = total[character.name]
        where = f" ({where})" if where else ""
        out.append(f"  {_scalar(character.name)}:  # {count} line{'s' * (count != 1)}{where}")
        if character.aliases:
            out.append(f"    aliases: [{', '.join(_scalar(a) for a in character.aliases)}]")
        gender = character.gender or "null"
        out.append(f"    gender: {gender}  # guessed: male, female or other")
        out.extend(_voice_lines(voice_for(casting.cast, character.name), "    "))
    if not casting.cast.characters:
        out[-1] += " {}  # none found: add them as `Name: {aliases: [...], gender: ...}`"
    out.append("pronunciations: {}  # word: respelling, e.g. `Kyuubi: Kyoo-bee`, or espeak phonemes `[[...]]`")
    return "\n".join(out) + "\n"


def init_cast(chapters: Sequence[Path], output: Path, force: bool = False) -> Casting:
    """Write a cast file for `chapters` at `output` (refused if it exists, unless `force`)."""
    if output.is_dir():
        raise InputError("cast file to write is a folder", path=output, hint="give a file name with -o")
    if output.exists() and not force:
        raise InputError("cast file already exists", path=output, hint="use --force to overwrite it")
    ensure_writable_dir(output.parent)
    reading = read_chapters(chapters, Cast())
    casting = cast_scripts(reading.cast, reading.scripts)
    write_text_atomic(output, cast_file_text(casting, reading, chapters))
    return casting


@dataclass(frozen=True)
class Finding:
    """One problem `cast check` found."""

    kind: str
    """`missing`, `alias`, `silent` or `alike`."""
    message: str
    """What is wrong and what to do, on one line."""


def _alias_clashes(cast: Cast) -> list[Finding]:
    owners: dict[str, list[str]] = {}
    for character in cast.characters:
        for name in dict.fromkeys(n.casefold() for n in (character.name, *character.aliases)):
            owners.setdefault(name, []).append(character.name)
    return [Finding("alias", f"{name!r} names both {' and '.join(map(repr, who))}; keep it on one of them")
            for name, who in owners.items() if len(who) > 1]


def _alike(voices: Mapping[str, Voice], pairs: Iterable[tuple[str, str]], why: str) -> list[Finding]:
    """Pairs (of keys of `voices`, labels for messages) whose voices are too alike."""
    findings = []
    for a, b in pairs:
        if autocast.distance(voices[a], voices[b]) < autocast.TOO_ALIKE:
            findings.append(Finding("alike", f"{a} and {b} {why} but sound alike: {voices[a].describe()} and "
                                             f"{voices[b].describe()}; change one's voice, pitch or rate"))
    return findings


def _voices(casting: Casting) -> dict[str, Voice]:
    """Label -> voice for the narrator and every character."""
    return {NARRATOR: casting.cast.narrator, **{repr(c.name): voice_for(casting.cast, c.name)
                                                for c in casting.cast.characters}}


def check_cast(cast: Cast, chapters: Sequence[Path] = ()) -> list[Finding]:
    """Aliases claimed twice; with chapters, speakers the cast lacks, characters who never speak and
    scene partners (the narrator included) whose voices are too alike; without, any two voices too alike."""
    findings = _alias_clashes(cast)
    if not chapters:
        voices = _voices(cast_scripts(cast, ()))
        return findings + _alike(voices, itertools.combinations(voices, 2), "are in one cast")
    reading = read_chapters(chapters, cast)
    casting = cast_scripts(reading.cast, reading.scripts)
    for name in reading.added:
        counts = reading.lines.get(name, Counter())
        where = ", ".join(f"{n} in {chapter}" for chapter, n in counts.items()) or "named in speech tags"
        findings.append(Finding("missing", f"{name!r} speaks ({where}) but is not in the cast; auto-cast "
                                           f"as {voice_for(casting.cast, name).describe()} until you add it"))
    for character in cast.characters:
        if character.name not in reading.lines:
            findings.append(Finding("silent", f"{character.name!r} never speaks in the chapters given"))
    pairs = [(NARRATOR, repr(name)) for name in reading.lines]
    pairs += [tuple(map(repr, sorted(pair))) for pair in sorted(scene_partners(reading.scripts), key=sorted)]
    return findings + _alike(_voices(casting), pairs, "share a scene")
