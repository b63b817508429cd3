"""The cast file: who the characters are, their aliases, and the voice each one speaks with."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from audiodrama import voices
from audiodrama.errors import InputError
from audiodrama.voices import UnknownVoiceError, VoiceCatalogue
from audiodrama.yamlfile import Node, read_yaml

GENDERS = ("male", "female", "other")


@dataclass(frozen=True)
class Voice:
    """How one character (or the narrator) sounds."""

    voice: str = "en-us"
    """Engine voice id, optionally with a variant: `en-us`, `en-gb+f3`, `gmw/en-us+m3`."""
    rate: int = 165
    """Speaking rate in words per minute."""
    pitch: int = 50
    """Base pitch, 0-100 (50 is the voice's normal pitch)."""
    volume: float = 1.0
    """Loudness of the clip, 0.0-1.0 before levelling."""


@dataclass(frozen=True)
class Character:
    """A character of the cast."""

    name: str
    """Canonical name, as the script prints it."""
    aliases: tuple[str, ...] = ()
    """Other names and epithets the text uses for the character ("Naruto", "the fox")."""
    gender: str | None = None
    """`male`, `female`, `other`, or None when unknown; guides auto-casting and pronouns."""
    voice: Voice | None = None
    """The voice as the cast file gives it; None means auto-cast."""


@dataclass(frozen=True)
class Cast:
    """A validated cast file."""

    narrator: Voice = field(default_factory=Voice)
    """The narrator's voice."""
    characters: tuple[Character, ...] = ()
    """Every character, in file order."""
    pronunciations: tuple[tuple[str, str], ...] = ()
    """Word -> how to say it (a respelling, or espeak phonemes in `[[...]]`)."""
    title: str = ""
    """Optional title of the work the cast belongs to."""
    path: str = ""
    """The file it was read from, for messages."""

    def character(self, name: str) -> Character | None:
        """The character whose canonical name or alias is `name` (case-insensitive), if any."""
        wanted = name.casefold().strip()
        for character in self.characters:
            if wanted == character.name.casefold() or wanted in (a.casefold() for a in character.aliases):
                return character
        return None


VOICE_KEYS = ("voice", "rate", "pitch", "volume")
CHARACTER_KEYS = ("aliases", "gender", *VOICE_KEYS)
TOP_KEYS = ("title", "narrator", "characters", "pronunciations")
NUMERIC_SETTINGS = {"rate": (80, 450, True), "pitch": (0, 100, True), "volume": (0.0, 1.0, False)}
"""Voice settings that are numbers: key -> (lowest, highest, whole numbers only)."""


def _voice(node: Node, what: str, base: Voice, catalogue: VoiceCatalogue, keys: tuple[str, ...]) -> Voice:
    """Read voice settings from a mapping, falling back to `base` for absent keys."""
    node.check_keys(what, keys)
    settings = dict(node.mapping(what))
    values: dict[str, object] = {}
    if "voice" in settings:
        spec = settings["voice"].text(f"voice of {what}")
        try:
            values["voice"] = catalogue.resolve(spec).spec
        except UnknownVoiceError as error:
            raise settings["voice"].error(f"{error} (in {what})") from None
    for key, (low, high, integer) in NUMERIC_SETTINGS.items():
        if key in settings:
            number = settings[key].number(f"{key} of {what}", low, high, integer=integer)
            values[key] = int(number) if integer else float(number)
    return replace(base, **values)


def _character(name: str, node: Node, catalogue: VoiceCatalogue) -> Character:
    if node.is_null():
        return Character(name=name)
    what = f"character {name!r}"
    node.check_keys(what, CHARACTER_KEYS)
    settings = dict(node.mapping(what))
    aliases: tuple[str, ...] = ()
    if "aliases" in settings and not settings["aliases"].is_null():
        aliases = tuple(item.text(f"an alias of {name!r}") for item in settings["aliases"].sequence(
            f"aliases of {name!r}"))
    gender = None
    if "gender" in settings and not settings["gender"].is_null():
        gender = settings["gender"].text(f"gender of {name!r}").lower()
        if gender not in GENDERS:
            raise settings["gender"].error(f"gender of {name!r} must be one of {', '.join(GENDERS)}, not {gender!r}")
    voice = _voice(node, what, Voice(), catalogue, CHARACTER_KEYS) if set(settings) & set(VOICE_KEYS) else None
    return Character(name=name, aliases=aliases, gender=gender, voice=voice)


def load_cast(path: str | Path, catalogue: VoiceCatalogue | None = None) -> Cast:
    """Read and validate a cast file; InputError (file:line:column) on anything wrong."""
    root = read_yaml(path, "cast file")
    if root is None:
        raise InputError("cast file is empty", path=path, hint="see docs/cast-format.md for an example")
    catalogue = catalogue or voices.catalogue()
    root.check_keys("the cast file", TOP_KEYS)
    sections = dict(root.mapping("the cast file"))
    narrator = Voice()
    if "narrator" in sections and not sections["narrator"].is_null():
        narrator = _voice(sections["narrator"], "narrator", narrator, catalogue, VOICE_KEYS)
    characters = []
    if "characters" in sections and not sections["characters"].is_null():
        seen: set[str] = set()
        for name, node in sections["characters"].mapping("characters"):
            if not name.strip():
                raise node.error("a character needs a name")
            if name.casefold() in seen:
                raise node.error(f"character {name!r} is listed twice", "merge the two entries")
            seen.add(name.casefold())
            characters.append(_character(name, node, catalogue))
    pronunciations: list[tuple[str, str]] = []
    if "pronunciations" in sections and not sections["pronunciations"].is_null():
        for word, node in sections["pronunciations"].mapping("pronunciations"):
            pronunciations.append((word, node.text(f"pronunciation of {word!r}")))
    title = sections["title"].text("title") if "title" in sections and not sections["title"].is_null() else ""
    return Cast(narrator=narrator, characters=tuple(characters), pronunciations=tuple(pronunciations),
                title=title, path=str(path))


AUTO_BASES = ("en-us", "en-gb", "en-gb-x-rp", "en-us-nyc", "en-gb-scotland")
"""Base voices auto-casting picks from: English accents every espeak-ng release ships."""
AUTO_VARIANTS = {
    "male": ("m1", "m2", "m3", "m4", "m5", "m6", "m7"),
    "female": ("f1", "f2", "f3", "f4", "f5"),
}
"""Variants by gender that every espeak-ng release ships, so a cast sounds the same on every machine."""


def _digest(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.casefold().strip().encode("utf-8")).digest()[:8], "big")


def auto_voice(name: str, gender: str | None, narrator: Voice) -> Voice:
    """A voice for a character the cast gives none: a function of the name and gender alone.

    The same name always gets the same voice, whatever other characters exist, and never the
    narrator's exact voice.
    """
    digest = _digest(name)
    if gender not in AUTO_VARIANTS:
        gender = ("male", "female")[digest % 2]
        digest //= 2
    variants = AUTO_VARIANTS[gender]
    variant = variants[digest % len(variants)]
    digest //= len(variants)
    base = AUTO_BASES[digest % len(AUTO_BASES)]
    digest //= len(AUTO_BASES)
    if f"{base}+{variant}" == narrator.voice:
        variant = variants[(variants.index(variant) + 1) % len(variants)]
    pitch = 50 + (digest % 5 - 2) * 6
    rate = narrator.rate + (digest // 5 % 5 - 2) * 8
    return Voice(voice=f"{base}+{variant}", rate=rate, pitch=pitch, volume=1.0)


def voice_for(cast: Cast, speaker: str | None) -> Voice:
    """The voice a speaker reads with: the cast's, else auto-cast; the narrator's for None."""
    if speaker is None:
        return cast.narrator
    character = cast.character(speaker)
    if character is not None and character.voice is not None:
        return character.voice
    return auto_voice(character.name if character else speaker, character.gender if character else None,
                      cast.narrator)


def pronounce(text: str, pronunciations: tuple[tuple[str, str], ...]) -> str:
    """Replace whole words by their respellings, matching case-insensitively and keeping ALL CAPS."""
    for word, spoken in pronunciations:
        pattern = re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])", re.IGNORECASE)

        def respell(match: re.Match[str], spoken: str = spoken) -> str:
            found = match.group(0)
            return spoken.upper() if found.isupper() and len(found) > 1 else spoken

        text = pattern.sub(respell, text)
    return text
