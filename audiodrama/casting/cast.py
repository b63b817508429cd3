"""The cast file: who the characters are, their aliases, and the voice each one speaks with.

The format is documented in docs/cast-format.md; every mistake in a cast file is reported with
its file:line:column, the key, and what is allowed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from audiodrama.casting import autocast
from audiodrama.errors import InputError
from audiodrama.synthesis import piper_voices, voices
from audiodrama.synthesis.piper_voices import is_piper
from audiodrama.synthesis.voices import GENDERS, Voice, VoiceCatalogue
from audiodrama.text.chapter import Kind
from audiodrama.yamlfile import Node, present, read_yaml

__all__ = ["Cast", "Character", "Delivery", "auto_voice", "cast_from_node", "load_cast",
           "pronounce", "voice_for"]


@dataclass(frozen=True)
class Delivery:
    """Changes to a character's voice for one kind of line (its thoughts): None keeps the voice's own."""

    voice: str | None = None
    """Another voice spec, e.g. `en-us+whisper`."""
    rate: int | None = None
    """Speaking rate in words per minute."""
    pitch: int | None = None
    """Base pitch, 0-100."""
    volume: float | None = None
    """Loudness, 0.0-1.0."""

    def apply(self, voice: Voice) -> Voice:
        """`voice` with these changes."""
        changes = {k: getattr(self, k) for k in ("voice", "rate", "pitch", "volume") if getattr(self, k) is not None}
        return replace(voice, **changes)


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
    adjust: Delivery = field(default_factory=Delivery)
    """Rate, pitch or volume the file gives without a `voice`: applied over the auto-cast voice."""
    thought: Delivery = field(default_factory=Delivery)
    """How the character's thoughts differ from its speech (softer, slower, whispered...)."""


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
    engine: str = "espeak-ng"
    """Whose voices auto-casting gives: `piper` for Piper voices (the narrator's too, unless given)."""

    def character(self, name: str) -> Character | None:
        """The character whose canonical name or alias is `name` (case-insensitive), if any: a canonical
        name wins over an alias, and among aliases the first character in file order."""
        return self._by_name.get(name.casefold().strip())

    @functools.cached_property
    def _by_name(self) -> dict[str, Character]:
        index: dict[str, Character] = {}
        for character in self.characters:
            index.setdefault(character.name.casefold(), character)
        for character in self.characters:
            for alias in character.aliases:
                index.setdefault(alias.casefold(), character)
        return index


VOICE_KEYS = ("voice", "rate", "pitch", "volume")
CHARACTER_KEYS = ("aliases", "gender", *VOICE_KEYS, "thought")
TOP_KEYS = ("title", "engine", "narrator", "characters", "pronunciations")
AUTO_ENGINES = ("espeak-ng", "piper")
"""What a cast's `engine:` may say: whose voices auto-casting gives."""
PHONEMES = re.compile(r"\[\[[^\[\]]+\]\]")
"""espeak phoneme input, `[[kj'u:bi]]`."""


def _delivery(node: Node, what: str, catalogue: VoiceCatalogue, keys: tuple[str, ...]) -> Delivery:
    """The voice settings a mapping gives (absent keys stay None)."""
    node.check_keys(what, keys)
    settings = dict(node.mapping(what))
    values: dict[str, object] = {}
    if "voice" in settings:
        spec = settings["voice"].text(f"voice of {what}")
        try:
            values["voice"] = piper_voices.resolve(spec).spec if is_piper(spec) else catalogue.resolve(spec).spec
        except ValueError as error:  # UnknownVoiceError, or a Piper voice's unusable files
            raise settings["voice"].error(f"{error} (in {what})") from None
    for key in ("rate", "pitch", "volume"):
        if key in settings:
            values[key] = settings[key].field_number(f"{key} of {what}", Voice, key)
    return Delivery(**values)


def _character(name: str, node: Node, catalogue: VoiceCatalogue) -> Character:
    if node.is_null():
        return Character(name=name)
    what = f"character {name!r}"
    node.check_keys(what, CHARACTER_KEYS)
    settings = dict(node.mapping(what))
    aliases: tuple[str, ...] = ()
    if present(settings.get("aliases")):
        aliases = tuple(item.text(f"an alias of {name!r}") for item in settings["aliases"].sequence(
            f"aliases of {name!r}"))
    gender = None
    if present(settings.get("gender")):
        gender = settings["gender"].text(f"gender of {name!r}").lower()
        if gender not in GENDERS:
            raise settings["gender"].error(f"gender of {name!r} must be one of {', '.join(GENDERS)}, not {gender!r}")
    own = _delivery(node, what, catalogue, CHARACTER_KEYS)
    thought = Delivery()
    if present(settings.get("thought")):
        thought = _delivery(settings["thought"], f"thoughts of {name!r}", catalogue, VOICE_KEYS)
    if own.voice is None:
        return Character(name, aliases, gender, None, own, thought)
    return Character(name, aliases, gender, own.apply(Voice()), Delivery(), thought)


def _pronunciation(word: str, node: Node) -> tuple[str, str]:
    spoken = node.text(f"pronunciation of {word!r}").strip()
    if not word.strip() or not spoken:
        raise node.error(f"pronunciation of {word!r} is empty", "give a respelling or espeak phonemes in [[...]]")
    if "[[" in PHONEMES.sub("", spoken) or "]]" in PHONEMES.sub("", spoken):
        raise node.error(f"pronunciation of {word!r} has unbalanced [[...]]",
                         "write espeak phonemes as [[kj'u:bi]]")
    return word.strip(), spoken


def load_cast(path: str | Path, catalogue: VoiceCatalogue | None = None) -> Cast:
    """Read and validate a cast file; InputError (file:line:column) on anything wrong."""
    root = read_yaml(path, "cast file")
    if root is None:
        raise InputError("cast file is empty", path=path, hint="see docs/cast-format.md for an example")
    return cast_from_node(root, catalogue)


def cast_from_node(root: Node, catalogue: VoiceCatalogue | None = None) -> Cast:
    """A cast from a YAML mapping in the cast file's format (a cast file's root, or a block of a manifest)."""
    path = root.path
    catalogue = catalogue or voices.catalogue()
    root.check_keys("the cast file", TOP_KEYS)
    sections = dict(root.mapping("the cast file"))
    engine = sections["engine"].choice("engine", AUTO_ENGINES) if present(sections.get("engine")) else "espeak-ng"
    narrator = autocast.narrator(engine)
    if present(sections.get("narrator")):
        narrator = _delivery(sections["narrator"], "narrator", catalogue, VOICE_KEYS).apply(narrator)
    characters = []
    if present(sections.get("characters")):
        seen: set[str] = set()
        for name, node in sections["characters"].mapping("characters"):
            if not name.strip():
                raise node.error("a character needs a name")
            if name.casefold() in seen:
                raise node.error(f"character {name!r} is listed twice", "merge the two entries")
            seen.add(name.casefold())
            characters.append(_character(name, node, catalogue))
    pronunciations: list[tuple[str, str]] = []
    if present(sections.get("pronunciations")):
        for word, node in sections["pronunciations"].mapping("pronunciations"):
            pronunciations.append(_pronunciation(word, node))
    title = sections["title"].text("title") if present(sections.get("title")) else ""
    return Cast(narrator=narrator, characters=tuple(characters), pronunciations=tuple(pronunciations),
                title=title, path=str(path), engine=engine)


def auto_voice(name: str, gender: str | None, narrator: Voice, engine: str = "espeak-ng") -> Voice:
    """The voice a character the cast gives none gets when nothing is known of who it talks with:
    its first auto-cast preference that is well apart from the narrator (see `audiodrama.casting.autocast`)."""
    return autocast.choose(name, gender, [narrator], engine)


def voice_for(cast: Cast, speaker: str | None, kind: str | None = None) -> Voice:
    """The voice a speaker reads a line of `kind` with: the cast's (auto-cast when it gives none,
    with the character's thought settings for thoughts); the narrator's for None."""
    if speaker is None:
        return cast.narrator
    character = cast.character(speaker) or Character(speaker)
    auto = auto_voice(character.name, character.gender, cast.narrator, cast.engine)
    voice = character.voice or character.adjust.apply(auto)
    return character.thought.apply(voice) if kind == Kind.THOUGHT else voice


@functools.lru_cache(maxsize=64)
def _lexicon(pronunciations: tuple[tuple[str, str], ...]) -> re.Pattern[str] | None:
    """One pattern for every word of the lexicon, longest first; ALL-CAPS words match only in capitals."""
    words = sorted((word for word, _ in pronunciations), key=len, reverse=True)
    if not words:
        return None
    body = "|".join(re.escape(w) if w.isupper() and len(w) > 1 else f"(?i:{re.escape(w)})" for w in words)
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])")


def pronounce(text: str, pronunciations: tuple[tuple[str, str], ...]) -> str:
    """Replace whole words by their respellings in one pass, matching case-insensitively (a lexicon
    word in ALL CAPS, an acronym, only in capitals), and keeping a word's ALL CAPS in a respelling."""
    pattern = _lexicon(pronunciations)
    if pattern is None:
        return text
    exact = dict(pronunciations)
    folded = {word.casefold(): spoken for word, spoken in reversed(pronunciations)}

    def respell(match: re.Match[str]) -> str:
        found = match.group(0)
        if found.isupper() and found in exact:  # an acronym in the lexicon: as written
            return exact[found]
        spoken = folded[found.casefold()]
        shouted = found.isupper() and len(found) > 1 and not PHONEMES.search(spoken)
        return spoken.upper() if shouted else spoken

    return pattern.sub(respell, text)
