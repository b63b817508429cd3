"""Finding the characters of a chapter given without a cast: the names its speech tags use."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from audiodrama.attribution.characters import Person, key
from audiodrama.attribution.quotes import Quote, find_quotes
from audiodrama.attribution.tags import tag_after, tag_before
from audiodrama.attribution.titles import TITLE_PATTERN, title_gender
from audiodrama.text.chapter import Chapter, word_set

_PROPER_NAME = re.compile(
    rf"(?:(?:{TITLE_PATTERN})\s+)?[A-Z][\w'’]*[a-z](?:\s+[A-Z][\w'’]*[a-z])*(?:-(?:sama|chan|kun|san|sensei|senpai|dono|hime)\b)?"
)
_THE_NAME = re.compile(r"(?i:the)\s+(?:[A-Za-z]+\s+)?[A-Za-z]+(?=\s*[,.;]|\s+(?:said|replied|asked|cried|answered))")
_HONORIFIC = re.compile(r"-(?:sama|chan|kun|san|sensei|senpai|dono|hime)$", re.IGNORECASE)
_NOT_NAMES = word_set(
    """The He She It I We You They This That Then There Here But And Or So Yes No Oh Ah Well Now
    What Who Why How When Where His Her Their My Your Our One Not All Some Mother Father God
    Sir Madam Miss Mister Mrs Mr If As At In On To For With Of By From After Before Again Still"""
)
_WORD_BEFORE = re.compile(r"\b((?i:the|an?)|[A-Z][\w'’]*\.?)\s+$")
"""The word before a name when it is an article, a title or capitalised."""
_ACTS = re.compile(
    r"\s+(?:was|were|had|did|could|would|should|might|must|is|felt|knew|saw|looked|turned|smiled|stood|sat|went"
    r"|came|said|took|gave|made|began|stared|[a-z]+ed)\b"
)
"""A verb right after a name: the name is a sentence subject."""
_MIN_ACTING = 3
"""How often a name no tag gives must act in the narration to be taken for a character."""
_FEW_TAGGED = 2
"""Below this many names in speech tags, names acting in the narration are characters too (beyond
it they would be places as often as people: "Netherfield was let")."""
_PRONOUN_NEAR = re.compile(r"\b(he|she)\b", re.IGNORECASE)


def proper_name_at(text: str, pos: int, limit: int) -> tuple[int, int] | None:
    """The span of a proper name starting at `pos` ("Miss Pringle", "Naruto-kun"; not "The", "Then",
    nor the end of a description or of a longer name: "the Mock Turtle")."""
    m = _PROPER_NAME.match(text, pos, limit) if pos < limit and text[pos].isupper() else None
    if not m or (m.group() in _NOT_NAMES and " " not in m.group()):
        return None
    before = _WORD_BEFORE.search(text, max(0, pos - 30), pos)
    word = before.group(1) if before else ""
    if word.lower() in ("the", "a", "an") or re.fullmatch(TITLE_PATTERN, word):
        return None
    if word and not word.endswith(".") and word not in _NOT_NAMES:
        return None
    return m.start(), m.end()


@dataclass(frozen=True)
class DiscoveredCharacter(Person):
    """A character the chapter names, as `audiodrama cast init` would list it."""

    lines: int = 0
    """How many quotations its explicit speech tags give it."""


def discover_characters(chapter: Chapter, quotes: list[Quote] | None = None) -> list[DiscoveredCharacter]:
    """The characters the chapter's speech tags name, variants merged, most talkative first.

    `name` is the form the tags use most ("Darcy"), `aliases` the other forms merged into it
    ("Mr. Darcy", "Darcy-kun"), `gender` a guess from titles and nearby pronouns.
    """
    text = chapter.text
    quotes = find_quotes(chapter) if quotes is None else quotes

    def subject_at(pos: int, limit: int) -> tuple[int, int] | None:
        if _PROPER_NAME.match(text, pos, limit):
            return proper_name_at(text, pos, limit)
        m = _THE_NAME.match(text, pos, limit)
        return (m.start(), m.end()) if m else None

    counts: Counter[str] = Counter()
    for k, q in enumerate(quotes):
        limit = quotes[k + 1].start if k + 1 < len(quotes) and quotes[k + 1].paragraph == q.paragraph else None
        para = chapter.paragraphs[q.paragraph]
        tag = tag_after(text, q.end, limit or para.end, subject_at) if q.closed else None
        if tag is None:
            start = quotes[k - 1].end if k and quotes[k - 1].paragraph == q.paragraph else para.start
            tag = tag_before(text, start, q.start, subject_at)
        if tag is not None:
            counts[" ".join(tag.subject.split())] += 1
    if len(counts) < _FEW_TAGGED:  # tags say "he" and "she": the names acting in the narration speak
        for name in _acting_names(text):
            counts[name] += 0  # a character, with no tagged line
    return [
        DiscoveredCharacter(name, tuple(sorted(f for f in forms if f != name)), _gender(text, name, forms), lines)
        for name, forms, lines in _merge(counts)
    ]


def _acting_names(text: str) -> list[str]:
    """Proper names that act in the narration at least `_MIN_ACTING` times ("Sakura broke", "Naruto
    laughed"): characters even when no speech tag names them. A word also written in lower case
    ("Everyone", "Nothing") is not a name."""
    acting: Counter[str] = Counter()
    for m in _PROPER_NAME.finditer(text):
        if _ACTS.match(text, m.end()) and proper_name_at(text, m.start(), m.end()) == m.span():
            acting[m.group()] += 1
    return [
        name
        for name, count in acting.items()
        if count >= _MIN_ACTING and not re.search(rf"\b{re.escape(name.lower())}\b", text)
    ]


def _base(surface: str) -> str:
    """The name without honorific suffix or title: "Mr. Darcy" -> "darcy", "Naruto-kun" -> "naruto"."""
    words = _HONORIFIC.sub("", surface).split()
    if len(words) > 1 and re.fullmatch(TITLE_PATTERN, words[0]):
        words = words[1:]
    return key(" ".join(words))


def _merge(counts: Counter[str]) -> list[tuple[str, list[str], int]]:
    """Group surface forms naming the same person; (name, forms, tag count), most tags first. Forms
    and ties keep the order the tags first use them in, never a set's (which changes with the hash
    seed, and with it a character's gender and rank)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for surface in counts:
        groups[_base(surface)].append(surface)
    # a one-word base joins the longer name that ends or begins with it, when only one does
    for base in sorted(groups, key=len):
        if " " in base or base.startswith("the "):
            continue
        longer = [b for b in groups if b != base and base in b.split() and not b.startswith("the ")]
        titled = {s.split()[0] for s in groups[base] if len(s.split()) > 1}
        if len(longer) == 1 and not titled:
            groups[longer[0]].extend(groups.pop(base))
    merged = []
    for forms in groups.values():
        titles = dict.fromkeys(f.split()[0].rstrip(".").lower() for f in forms if len(f.split()) > 1)
        if len(titles) > 1 and titles.keys() & {"mr", "mrs", "miss"}:
            for title in titles:  # Mr. and Mrs. Bennet are two people
                part = [f for f in forms if f.split()[0].rstrip(".").lower() == title]
                merged.append(part)
        else:
            merged.append(forms)
    result = []
    for forms in merged:
        name = max(forms, key=lambda f: (counts[f], len(f)))
        result.append((name, forms, sum(counts[f] for f in forms)))
    result.sort(key=lambda r: -r[2])
    return [r for r in result if r[2] >= 2 or not r[0].lower().startswith("the ")]


def _gender(text: str, name: str, forms: list[str]) -> str | None:
    """`male` or `female` from a title (the name's own first, then its other forms in the order the tags
    first use them: never a set's hash order, which changes from run to run), else from the pronouns
    following their mentions."""
    for form in (name, *(f for f in forms if f != name)):
        gender = title_gender(form)
        if gender:
            return gender
    votes = Counter()
    for form in forms:
        for m in re.finditer(rf"\b{re.escape(form)}\b", text):
            for p in _PRONOUN_NEAR.findall(text, m.end(), m.end() + 80)[:2]:
                votes["male" if p.lower() == "he" else "female"] += 1
    if votes["male"] > 1.5 * votes["female"]:
        return "male"
    if votes["female"] > 1.5 * votes["male"]:
        return "female"
    return None
