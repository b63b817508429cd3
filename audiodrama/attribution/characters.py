"""Who can speak: the cast's characters (or the ones discovered), found by name, alias or title in text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from audiodrama.cast import Cast

_DETERMINERS = frozenset(
    [
        "the",
        "a",
        "an",
        "his",
        "her",
        "my",
        "your",
        "our",
        "their",
        "its",
        "this",
        "that",
    ]
)
_TITLE_DOT = re.compile(r"\b(Mr|Mrs|Ms|Dr|St|Mme|Mlle|Messrs|Capt|Col|Gen|Lt|Prof|Sgt|Rev)\\\.")


@dataclass(frozen=True)
class Person:
    """A character as the attribution sees it."""

    name: str
    """Canonical name, printed as the speaker."""
    aliases: tuple[str, ...] = ()
    """Every other surface form that refers to this character."""
    gender: str | None = None
    """`male`, `female`, `other` or None when unknown."""


@dataclass(frozen=True)
class Mention:
    """A place in the text that names one or more characters (several when an alias is shared)."""

    start: int
    """Offset of the first character of the name."""
    end: int
    """Offset just past the name."""
    names: tuple[str, ...]
    """Canonical names it may refer to, most likely first."""


def key(surface: str) -> str:
    """Normal form for comparing names: case-folded, dots dropped, blanks folded."""
    return " ".join(surface.replace(".", " ").casefold().split())


class Roster:
    """The characters of a chapter and a fast way to find their mentions."""

    def __init__(self, people: Iterable[Person]) -> None:
        self.people: dict[str, Person] = {}
        self._by_key: dict[str, list[str]] = {}
        for person in people:
            self.people[person.name] = person
            for surface in (person.name, *person.aliases):
                names = self._by_key.setdefault(key(surface), [])
                if person.name not in names:
                    names.append(person.name)
        surfaces = {s for p in self.people.values() for s in (p.name, *p.aliases) if key(s)}
        alternatives = sorted(surfaces, key=len, reverse=True)
        body = "|".join(_surface_pattern(s) for s in alternatives)
        self._pattern = re.compile(rf"(?<![\w-])(?:{body})(?![\w])") if body else None

    @classmethod
    def from_cast(cls, cast: Cast) -> Roster:
        """A roster of every character in `cast`."""
        return cls(Person(c.name, tuple(c.aliases), c.gender) for c in cast.characters)

    def gender(self, name: str) -> str | None:
        """The character's gender, if known."""
        person = self.people.get(name)
        return person.gender if person else None

    def lookup(self, surface: str) -> tuple[str, ...]:
        """Canonical names a surface form may refer to (empty when unknown)."""
        return tuple(self._by_key.get(key(surface), ()))

    def match(self, text: str, pos: int, limit: int) -> tuple[int, int] | None:
        """The span of a character's name starting exactly at `pos`, if any."""
        m = self._pattern.match(text, pos, limit) if self._pattern is not None else None
        return (m.start(), m.end()) if m and self.lookup(m.group()) else None

    def mentions(self, text: str, start: int, end: int) -> list[Mention]:
        """Every character mention within text[start:end], in order."""
        if self._pattern is None or start >= end:
            return []
        found = []
        for m in self._pattern.finditer(text, start, end):
            names = self.lookup(m.group())
            if names:
                found.append(Mention(m.start(), m.end(), names))
        return found


def _surface_pattern(surface: str) -> str:
    """A regex for one alias: blanks match any blank run, title dots are optional, a leading
    determiner ("the Jew") matches any case, and a name must be capitalised as written."""
    words = surface.split()
    pattern = r"\s+".join(re.escape(w) for w in words)
    pattern = _TITLE_DOT.sub(r"\1\\.?", pattern)
    if words[0].casefold() in _DETERMINERS or not words[0][:1].isupper():
        return f"(?i:{pattern})"
    return pattern
