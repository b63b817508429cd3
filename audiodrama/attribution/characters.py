"""Who can speak: the cast's characters (or the ones discovered), found by name, alias or title in text."""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from audiodrama.attribution.quotes import Quote
from audiodrama.attribution.titles import ABBREVIATED_TITLES, TITLES
from audiodrama.text.chapter import Chapter, word_set


class CastMember(Protocol):
    """What attribution reads of a cast's character (`casting.cast.Character` is one): the names it
    goes by and its gender. Attribution takes the cast by this shape, so it needs nothing of casting."""

    @property
    def name(self) -> str: ...

    @property
    def aliases(self) -> Sequence[str]: ...

    @property
    def gender(self) -> str | None: ...


class CastList(Protocol):
    """What attribution reads of a cast (`casting.cast.Cast` is one): its characters."""

    @property
    def characters(self) -> Sequence[CastMember]: ...


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
_NOT_A_NAME = TITLES | {"little", "old", "young"}
"""Words that begin or end a name without being one ("Mr. Darcy", "Aunt Polly")."""
_ROLES = {
    **dict.fromkeys(("doctor", "dr"), "doctor"),
    **dict.fromkeys(("captain", "capt"), "captain"),
    **dict.fromkeys(("colonel", "col"), "colonel"),
    **dict.fromkeys(("professor", "prof"), "professor"),
    **dict.fromkeys(("sergeant", "sgt"), "sergeant"),
    **{w: w for w in word_set("major general inspector judge count countess baron duke duchess prince princess")},
}
"""Titles that also name their bearer as a role, with "the" ("the doctor" for "Dr. Losberne")."""
_MIN_RESEMBLING = 6
"""A word or name shorter than this is never taken for a misprint of the other."""
_POSSESSIVE = re.compile(r"['’][sS]\b")
"""A possessive in a name ("Brenda's Mother"): the name says whose relation, not who."""
_TITLE_DOT = re.compile(rf"\b({'|'.join(sorted(t.capitalize() for t in ABBREVIATED_TITLES))})\\\.")
"""A title's escaped full stop in an alias's pattern, which the text may leave out ("Mrs Bennet")."""


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
    """Normal form for comparing names: case-folded, accents and dots dropped, blanks folded."""
    return " ".join(_unaccented(surface).replace(".", " ").casefold().split())


def _unaccented(text: str) -> str:
    """`text` with each accented letter replaced by its plain one ("Therese" for "Thérèse"), one
    character for one so offsets hold."""
    if text.isascii():
        return text
    return text.translate({ord(c): _plain_letter(c) for c in set(text) if not c.isascii()})


@functools.cache
def _plain_letter(letter: str) -> str:
    """The letter without its accent, or the letter itself when that is not a single character."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", letter) if not unicodedata.combining(c))
    return plain if len(plain) == 1 else letter


def _spellings(surface: str) -> tuple[str, ...]:
    """The forms of a name the roster looks for in text searched without accents (`Roster._searched`):
    the name without its accents, and with each accented letter lost to a "?" as in texts once
    saved in ASCII ("Therese" and "Th?r?se" for "Thérèse")."""
    if surface.isascii():
        return (surface,)
    lost = "".join(c if c.isascii() else "?" for c in surface)
    return tuple(dict.fromkeys((_unaccented(surface), lost)))


class Roster:
    """The characters of a chapter and a fast way to find their mentions."""

    def __init__(self, people: Iterable[Person], derived: Iterable[Person] = ()) -> None:
        """`people` in priority order: a name listed twice keeps its first gender, adds the aliases.
        `derived`: forms worked out from their names ("Tom" from "Tom Gradgrind"); where one of
        `people` of known gender goes by the same name, it comes first (`called_so`)."""
        self.people: dict[str, Person] = {}
        self._by_key: dict[str, list[str]] = {}
        surfaces: set[str] = set()
        given: dict[str, list[str]] = {}
        self._called_so: set[tuple[str, ...]] = set()
        """Characters sharing a name, the first of whom the cast calls by it (the others have it
        only within a name of theirs)."""
        for group in (people, derived):
            for person in group:
                self.people.setdefault(person.name, person)
                for surface in (s for alias in (person.name, *person.aliases) for s in _spellings(alias)):
                    names = self._by_key.setdefault(key(surface), [])
                    if person.name not in names:
                        names.append(person.name)
                    if key(surface):
                        surfaces.add(surface)
            if group is people:
                given = {k: list(names) for k, names in self._by_key.items()}
        for surface, names in self._by_key.items():
            if len(names) < 2:
                continue
            if " " not in surface and surface not in _NOT_A_NAME and any(self.gender(n) == "male" for n in names):
                # a bare surname names the men of the family: "Bingley", not Miss Bingley
                names[:] = [n for n in names if self.gender(n) != "female" or not _surname_of(surface, self.people[n])]
            known = [n for n in given.get(surface, ()) if n in names and self.gender(n) is not None]
            if len(known) == 1 and not surface.startswith("the "):  # a role ("the doctor") is anyone's
                names.sort(key=lambda n: n != known[0])
                self._called_so.add(tuple(names))
        self._words: dict[tuple[str, int], list[str]] = {}
        """Single-word keys by their first letter and length, for `resembling`."""
        for surface in self._by_key:
            if surface and " " not in surface:
                self._words.setdefault((surface[0], len(surface)), []).append(surface)
        by_initial: dict[str, list[str]] = {}
        for surface in sorted(surfaces, key=lambda s: (-len(s), s)):  # longest first; never in hash order
            by_initial.setdefault(surface[0].casefold(), []).append(_surface_pattern(surface))
        # one branch per initial, behind a lookahead, so the engine tries only the names that can match
        body = "|".join(
            f"(?=[{re.escape(c + c.upper())}])(?:{'|'.join(group)})" for c, group in sorted(by_initial.items())
        )
        self._pattern = re.compile(rf"(?<![\w-])(?:{body})(?![\w])") if body else None
        self._plain: tuple[str, str] = ("", "")
        """The last text searched and that text without accents, searched in its place."""

    @classmethod
    def from_cast(cls, cast: CastList) -> Roster:
        """A roster of every character in `cast`, each also known by the first and last word of its
        names ("Jenny" for "Jenny Abdul Akbar", "Losberne" for "Mr. Losberne") and by its role title
        ("the doctor" for "Doctor Losberne"); a character the cast gives that form as a whole alias
        comes first among those it may name."""
        given = [Person(c.name, tuple(c.aliases), c.gender) for c in cast.characters]
        derived = [
            Person(c.name, tuple(sorted({w for s in (c.name, *c.aliases) for w in _name_parts(s)})), c.gender)
            for c in cast.characters
        ]
        return cls(given, derived)

    def gender(self, name: str) -> str | None:
        """The character's gender, if known."""
        person = self.people.get(name)
        return person.gender if person else None

    def lookup(self, surface: str) -> tuple[str, ...]:
        """Canonical names a surface form may refer to (empty when unknown)."""
        return tuple(self._by_key.get(key(surface), ()))

    def called_so(self, names: tuple[str, ...]) -> str | None:
        """Of the characters a name may refer to (as `lookup` gives them), the one the cast calls by
        it when the others only have it within a name of theirs ("Tom" of "Tom Gradgrind"); else None."""
        return names[0] if names in self._called_so else None

    def titled(self, title: str) -> tuple[str, ...]:
        """Characters whose name or an alias begins with the title `title` ("Mademoiselle" for
        "Mademoiselle Reisz"); none when `title` is not a title."""
        wanted = key(title)
        if wanted not in TITLES:
            return ()
        return tuple(p.name for p in self.people.values()
                     if any(key(a).split()[:1] == [wanted] and " " in key(a) for a in (p.name, *p.aliases)))

    def resembling(self, word: str) -> tuple[str, ...]:
        """Characters known by a one-word name spelled almost like `word` (a misprint: "Browlow" for
        "Brownlow", "Charly" for "Charley"), same first letter, at most one letter off."""
        folded = key(word)
        if len(folded) < _MIN_RESEMBLING or " " in folded:
            return ()
        for size in (len(folded), len(folded) - 1, len(folded) + 1):
            if size < _MIN_RESEMBLING:
                continue  # "Louis" and "Louise" may well be two people
            for name in self._words.get((folded[0], size), ()):
                if _one_letter_off(folded, name):
                    return tuple(self._by_key[name])
        return ()

    def match(self, text: str, pos: int, limit: int) -> tuple[int, int] | None:
        """The span of a character's name starting exactly at `pos`, if any."""
        m = self._pattern.match(self._searched(text), pos, limit) if self._pattern is not None else None
        return (m.start(), m.end()) if m and self.lookup(m.group()) else None

    def mentions(self, text: str, start: int, end: int) -> list[Mention]:
        """Every character mention within text[start:end], in order."""
        if self._pattern is None or start >= end:
            return []
        found = []
        for m in self._pattern.finditer(self._searched(text), start, end):
            names = self.lookup(m.group())
            if names:
                found.append(Mention(m.start(), m.end(), names))
        return found

    def _searched(self, text: str) -> str:
        """`text` without accents, so that a cast's "Therese" finds "Thérèse" (kept for the next call)."""
        if self._plain[0] is not text:
            self._plain = (text, _unaccented(text))
        return self._plain[1]


def _surname_of(surface: str, person: Person) -> bool:
    """True when the key `surface` ends one of the person's names of several words ("bennet" of
    "Jane Bennet", "wickham" of Lydia's "Mrs. Wickham")."""
    return any(len(words) > 1 and words[-1] == surface
               for words in (key(name).split() for name in (person.name, *person.aliases)))


def _one_letter_off(a: str, b: str) -> bool:
    """True when `a` and `b` differ by one letter changed, added or dropped."""
    if len(a) > len(b):
        a, b = b, a
    if len(b) - len(a) > 1:
        return False
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


def _name_parts(surface: str) -> tuple[str, ...]:
    """The first and last word of a multi-word name, when they look like names ("Jenny", "Akbar"),
    and "the <role>" for a role title before a name ("the doctor" for "Dr. Losberne"); none for a
    name made by someone else's ("Brenda's Mother" is not "Brenda")."""
    words = surface.replace("-", " - ").split()
    if len(words) < 2 or words[0].casefold() in _DETERMINERS or _POSSESSIVE.search(surface):
        return ()
    role = _ROLES.get(key(words[0]))
    found = [f"the {role}"] if role else []
    for word in (words[0], words[-1]):
        bare = word.strip(".,'’")
        if len(bare) > 2 and bare[0].isupper() and bare[1:].islower() and key(bare) not in _NOT_A_NAME:
            found.append(bare)
    return tuple(found)


def _surface_pattern(surface: str) -> str:
    """A regex for one alias: blanks match any blank run, title dots are optional, a leading
    determiner ("the Jew") matches any case, and a name must be capitalised as written."""
    words = surface.split()
    pattern = r"\s+".join(re.escape(w) for w in words)
    pattern = _TITLE_DOT.sub(r"\1\\.?", pattern)
    if words[0].casefold() in _DETERMINERS or not words[0][:1].isupper():
        return f"(?i:{pattern})"
    return pattern


_FIRST_PERSON_TAG = re.compile(
    r"\b(?:I|we) (?:said|asked|replied|answered|cried)\b|\b(?:said|asked|replied|answered|cried) I\b"
)
"""A first-person speech tag: "I said", "said I"."""


def first_person_narrator(chapter: Chapter, quotes: list[Quote], roster: Roster) -> str | None:
    """The narrator of a first-person chapter ("said I"): the character others name most often in
    speech among those the narration (almost) never names."""
    text = chapter.text
    starts = [q.start for q in quotes]
    outside = 0
    for m in _FIRST_PERSON_TAG.finditer(text):
        k = bisect.bisect_right(starts, m.start()) - 1
        outside += k < 0 or quotes[k].end <= m.start()
    if outside < 5:
        return None
    spoken: Counter[str] = Counter()
    for q in quotes:
        for m in roster.mentions(text, q.inner_start, q.inner_end):
            spoken.update(m.names[:1])
    if not spoken:
        return None
    told = Counter(m.names[0] for m in roster.mentions(text, 0, len(text)))
    named_in_speech_only = [n for n in spoken if spoken[n] >= 0.9 * told[n]]
    best = max(named_in_speech_only, key=spoken.__getitem__, default=None)
    return best if best and spoken[best] >= 5 else None
