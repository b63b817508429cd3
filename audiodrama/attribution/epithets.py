"""Descriptors tied to the named characters they stand for: an epithet ("the old gentleman", "the
doctor") by the names the narration sets it beside, a kinship ("her mother") by the family name of
the one the pronoun points at."""

from __future__ import annotations

import bisect
import re
from collections import Counter

from audiodrama.attribution.characters import Mention, Roster, key
from audiodrama.attribution.tags import GENDERED_NOUNS
from audiodrama.text.chapter import word_set

_KIN = {
    **dict.fromkeys(("mother", "mamma", "mama", "wife"), "Mrs."),
    **dict.fromkeys(("father", "papa", "husband"), "Mr."),
}
"""Kinship nouns and the family title of the relative they name ("her mother": Mrs. Bennet)."""
_PARENTS = word_set("mother mamma mama father papa")
"""Kinship nouns naming a parent, whose family name a married daughter no longer bears."""
NOT_EPITHETS = word_set("other others one first second third former latter same rest last next reply answer "
                        "response rejoinder retort voice door")
"""Words that make "the ..." point back at whoever was last named, or name what was said, not
one character ("the other", "was the reply")."""
_EPITHET = re.compile(r"(?:the|a|an)\s+(?:[a-z][\w-]*\s+){0,2}([a-z][\w-]*)", re.IGNORECASE)
"""A descriptor by an article and a noun: "the old gentleman", "the doctor"."""
_THE_BEFORE = re.compile(r"\b[Tt]he\s+$")
"""The article right before an epithet's words (which begin there, not inside a word)."""
_NEAR = 600
"""How far back (characters) a name may be from an epithet to be taken for whom it describes."""
_APPOSITION = re.compile(r"\s*,\s*$")
"""Only a comma between a name and an epithet: "Mr. Brownlow, the old gentleman"."""
_APPOSED = 3
"""What a name in apposition weighs against one that is only near."""
_AT_HAND = 3000
"""How recently (characters) a character must have been named to be the one an epithet describes."""
_MIN_LINKS = 2
"""How much evidence (an apposition, or two epithets near the name) ties an epithet to a name."""


def is_epithet(subject: str) -> bool:
    """True for a lower-case descriptor that may stand for a named character ("the old man"), not
    for a name with an article ("the March Hare") or a pointer back ("the other")."""
    m = _EPITHET.fullmatch(" ".join(subject.split()))
    return bool(m) and subject[:1].lower() == "t" and m.group(1).islower() and m.group(1) not in NOT_EPITHETS


class Epithets:
    """Which named characters each epithet of a chapter stands for, learnt from where the narration
    uses it: the name it is set beside ("Mr. Brownlow, the old gentleman") or named just before it
    (of the epithet's gender), for how much more often than that name comes at all."""

    def __init__(self, text: str, roster: Roster, mentions: list[Mention]) -> None:
        self.text = text
        self.roster = roster
        epithets = {name for name in roster.people if is_epithet(name)}
        self.named = [m for m in mentions if epithets.isdisjoint(m.names)]
        """Mentions of named characters, in order."""
        self.starts = [m.start for m in self.named]
        self.named_times = Counter(m.names[0] for m in self.named)
        """How often each named character is named."""
        self._links: dict[str, Counter[str]] = {}
        self._apposed: dict[str, Counter[str]] = {}

    def links(self, epithet: str, near: bool) -> Counter[str]:
        """Evidence that `epithet` describes each named character, over the whole chapter: the
        appositions only, or (`near`) the names just before it too."""
        folded = key(epithet)
        if folded not in self._links:
            found: Counter[str] = Counter()
            words = r"\s+".join(map(re.escape, epithet.split()[1:]))
            gender = GENDERED_NOUNS.get(epithet.split()[-1].lower())
            for m in re.finditer(rf"{words}\b", self.text):  # a literal first is fast; then its "the"
                the = _THE_BEFORE.search(self.text, max(0, m.start() - 8), m.start())
                if the is None:
                    continue
                m = the
                k = bisect.bisect_left(self.starts, m.start()) - 1
                while k >= 0 and not self._fits(self.named[k].names[0], gender):
                    k -= 1  # "the girl" describes no man named before her
                if k < 0 or m.start() - self.named[k].end > _NEAR:
                    continue
                name = self.named[k].names[0]
                apposed = _APPOSITION.fullmatch(self.text, self.named[k].end, m.start())
                found[name] += _APPOSED if apposed else 1
                self._apposed.setdefault(folded, Counter())[name] += _APPOSED if apposed else 0
            self._links[folded] = found
        return self._links[folded] if near else self._apposed.get(folded, Counter())

    def discovered(self, name: str | None, subject: str, before: int, gender: str | None) -> str | None:
        """The named character a discovered character known only by an epithet (`name`, "the girl")
        stands for at `before`, by the names set beside or before it (`stands_for`); None when
        `name` is a name or none is known."""
        return self.stands_for(subject, before, gender, None, near=True) if name and is_epithet(name) else None

    def described(self, subject: str, before: int, gender: str | None, avoid: str | None,
                  owner: str | None) -> str | None:
        """The named character a descriptor tag at `before` stands for: the relative of `owner` (whom
        its possessive points at) its kinship noun names ("her mother"), else the one its epithet
        is tied to by appositions (`stands_for`); None when neither is known."""
        relative = kin(self.roster, owner, subject.split()[-1])
        if relative is not None or not is_epithet(subject):
            return relative
        return self.stands_for(subject, before, gender, avoid)

    def _fits(self, name: str, gender: str | None) -> bool:
        """True when `name` may be of `gender` (any, when None)."""
        return gender is None or self.roster.gender(name) in (gender, None)

    def stands_for(self, epithet: str, before: int, gender: str | None, avoid: str | None,
                   near: bool = False) -> str | None:
        """The named character `epithet` stands for at offset `before`: of those named within
        `_AT_HAND` before it (of `gender` or unknown, other than `avoid`), the one the chapter ties
        to it most (at least `_MIN_LINKS`, by `links`); None when none is."""
        links = self.links(epithet, near)
        if not links:
            return None
        first = bisect.bisect_left(self.starts, before - _AT_HAND)
        last = bisect.bisect_left(self.starts, before)
        near = {n for m in self.named[first:last] for n in m.names[:1]}
        fits = [n for n in near if n != avoid and links[n] >= _MIN_LINKS and self._fits(n, gender)]
        # by how much more often the epithet follows the name than names come at all (Oliver is
        # named before "the old gentleman" often because he is named everywhere)
        return max(fits, key=lambda n: (links[n] / self.named_times[n], n)) if fits else None


def kin(roster: Roster, person: str | None, noun: str) -> str | None:
    """The relative `noun` names of `person` ("mother" of Elizabeth Bennet: Mrs. Bennet), by the
    family name of `person`'s names and the relative's title; None when not exactly one fits, or
    for the parents of a married woman (Mrs. Bounderby's father is Mr. Gradgrind)."""
    title = _KIN.get(noun.lower())
    if person is None or title is None:
        return None
    found = roster.people.get(person)
    forms = (person, *(found.aliases if found else ()))
    if noun.lower() in _PARENTS and any(key(f).startswith("mrs ") for f in forms):
        return None  # a wife's family name is her husband's, not her parents'
    surnames = {f.split()[-1] for f in forms if len(f.split()) > 1 and f.split()[-1][:1].isupper()}
    relatives = {n for s in surnames for n in roster.lookup(f"{title} {s}") if n != person}
    return relatives.pop() if len(relatives) == 1 else None
