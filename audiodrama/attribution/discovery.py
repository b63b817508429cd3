"""Finding the characters of a chapter given without a cast."""

from __future__ import annotations

from dataclasses import dataclass

from audiodrama.text import Chapter


@dataclass(frozen=True)
class DiscoveredCharacter:
    """A character the chapter names, as `audiodrama cast init` would list it."""

    name: str
    """The fullest common form of the name ("Mr. Darcy", "Naruto")."""
    aliases: tuple[str, ...] = ()
    """Other forms found and merged into it ("Darcy", "Naruto-kun")."""
    gender: str | None = None
    """`male` or `female` guessed from titles and pronouns, None when unclear."""
    lines: int = 0
    """How many quotations the chapter attributes to it by an explicit tag."""


def discover_characters(chapter: Chapter) -> list[DiscoveredCharacter]:
    """The chapter's characters, most talkative first."""
    return []
