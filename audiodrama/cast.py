"""The cast file: who the characters are, their aliases, and the voice each one speaks with."""

from __future__ import annotations

from dataclasses import dataclass, field

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
