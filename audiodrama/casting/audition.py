"""Auditions: a short MP3 per voice of a cast, to listen to before rendering a whole episode."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiodrama.attribution import parse_file
from audiodrama.casting.cast import Cast, Delivery, pronounce, voice_for
from audiodrama.casting.chapters import cast_scripts
from audiodrama.errors import InputError
from audiodrama.files import atomic_path, ensure_writable_dir
from audiodrama.mixing.audio import encode_mp3, load_clip
from audiodrama.script import Script
from audiodrama.synthesis.clips import ClipRequest, synthesize_all
from audiodrama.synthesis.voices import Voice
from audiodrama.text.chapter import Kind

SAMPLE_RATE = 22050
"""Sample rate of the audition files."""
PAUSE_SECONDS = 0.4
"""Silence between two lines of one audition."""
ENOUGH_CHARACTERS = 240
"""A chapter's lines are taken until they hold at least this much text (three lines at most)."""
STOCK = "The storm had passed by morning, and nobody wanted to talk about what we saw on the bridge."
"""What a voice says after introducing itself when no chapter gives it lines."""
STOCK_THOUGHT = "I wonder whether anyone noticed."
"""What a character with its own thought settings thinks in its audition."""
NARRATOR = "narrator"
"""The name `--character` takes for the narrator, and its file name."""


@dataclass(frozen=True)
class Audition:
    """One voice's audition file."""

    name: str
    """The character's canonical name, or `narrator`."""
    voice: Voice
    """The voice it speaks with (auto-cast when the cast gives none)."""
    mp3: Path
    """The audition file."""


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "character"


def _first_lines(script: Script, speaker: str | None) -> list[tuple[str, str]]:
    """(kind, text) of the first few lines `speaker` (None: the narrator) reads in the script."""
    lines: list[tuple[str, str]] = []
    for segment in script.spoken():
        mine = segment.voiced_by == speaker
        if mine and segment.kind in (Kind.NARRATION, Kind.DIALOGUE, Kind.THOUGHT) and re.search(r"\w", segment.text):
            lines.append((segment.kind, segment.text))
            if len(lines) == 3 or sum(len(text) for _, text in lines) >= ENOUGH_CHARACTERS:
                break
    return lines


def _stock_lines(cast: Cast, speaker: str | None) -> list[tuple[str, str]]:
    if speaker is None:
        return [(Kind.NARRATION, f"This is the narrator. {STOCK}")]
    lines = [(Kind.DIALOGUE, f"I am {speaker}. {STOCK}")]
    character = cast.character(speaker)
    if character is not None and character.thought != Delivery():
        lines.append((Kind.THOUGHT, STOCK_THOUGHT))
    return lines


def _chosen(cast: Cast, character: str | None) -> list[str | None]:
    """The speakers to audition (None: the narrator)."""
    if character is None:
        return [None, *(c.name for c in cast.characters)]
    found = cast.character(character)
    if found is not None:
        return [found.name]
    if character.casefold() == NARRATOR:
        return [None]
    names = [NARRATOR, *(c.name for c in cast.characters)]
    close = difflib.get_close_matches(character, [*names, *(a for c in cast.characters for a in c.aliases)],
                                      n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(map(repr, close))}?" if close else f"the cast has {', '.join(map(repr, names))}"
    raise InputError(f"no character {character!r} in the cast", path=cast.path or None, hint=hint)


def audition(cast: Cast, out_dir: Path, character: str | None = None, chapter: Path | None = None,
             jobs: int | None = None, cache_dir: Path | None = None) -> list[Audition]:
    """Write `out_dir/<name>.mp3` for the narrator and every character (or just `character`): their
    first lines in `chapter` when given and they have some there, else a stock sentence."""
    script = parse_file(chapter, cast) if chapter is not None else None
    cast = cast_scripts(cast, [script] if script else []).cast
    speakers = _chosen(cast, character)
    ensure_writable_dir(out_dir)
    plans = []
    for speaker in speakers:
        lines = (_first_lines(script, speaker) if script else []) or _stock_lines(cast, speaker)
        plans.append((speaker, [(voice_for(cast, speaker, kind), text) for kind, text in lines]))
    requests = [ClipRequest(pronounce(text, cast.pronunciations), voice, f"audition of {speaker or NARRATOR}")
                for speaker, lines in plans for voice, text in lines]
    clips = iter(synthesize_all(requests, jobs=jobs, cache_dir=cache_dir))
    pause = np.zeros(round(PAUSE_SECONDS * SAMPLE_RATE), dtype=np.int16)
    auditions: list[Audition] = []
    for speaker, lines in plans:
        blocks = []
        for voice, _ in lines:
            blocks += [load_clip(next(clips).path, SAMPLE_RATE, voice.volume), pause]
        slug = _slug(speaker or NARRATOR)
        while any(a.mp3.stem == slug for a in auditions):
            slug += "-2"
        target = out_dir / f"{slug}.mp3"
        with atomic_path(target) as temporary:
            encode_mp3(blocks, SAMPLE_RATE, temporary)
        auditions.append(Audition(speaker or NARRATOR, voice_for(cast, speaker), target))
    return auditions
