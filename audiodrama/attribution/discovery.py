"""Finding the characters of a chapter given without a cast: the names its speech tags use, merged
with the fuller forms the narration gives them, and a first-person narrator named by the others."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from audiodrama.attribution.characters import Person, key
from audiodrama.attribution.epithets import NOT_EPITHETS, is_epithet
from audiodrama.attribution.names import (
    NOT_NAMES,
    POSSESSIVE_END,
    PROPER_NAME,
    Survey,
    gender_of_forms,
    merge,
    survey_names,
    title_of,
)
from audiodrama.attribution.quotes import Quote, find_quotes
from audiodrama.attribution.tags import tag_after, tag_before
from audiodrama.attribution.titles import TITLE_PATTERN, TITLES
from audiodrama.text.chapter import Chapter

_THE_NAME = re.compile(r"(?i:the)\s+(?:[A-Za-z]+\s+)?[A-Za-z]+(?=\s*[,.;]|\s+(?:said|replied|asked|cried|answered))")

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

_LEADING_CONJUNCTION = re.compile(r"^(?:And|But|Or|Then|So|Yet|Now)\s+")
"""A conjunction a tag's subject may begin with ("And Potapitch said"): not part of the name."""

_FIRST_PERSON_TAG = re.compile(
    r"\b(?:I|we) (?:said|asked|replied|answered|cried)\b|\b(?:said|asked|replied|answered|cried) I\b"
)
"""A first-person speech tag: "I said", "said I"."""

_FIRST_PERSON_TAGS = 5
"""How many first-person tags outside the quotes make the chapter told in the first person."""

_CALLED = re.compile(r"(?:[,!?.]\s+|(?:dear|Oh|oh|Hello|hello)\s+)$")
"""What comes before a name that calls someone in a quote: the quote's start, a comma, "dear"."""

_MIN_CALLED = 3
"""How often a first-person narrator must be called by name to be given that name."""


_NAME_BEFORE = re.compile(rf"(?:{PROPER_NAME.pattern})$")
"""A proper name ending where the search ends."""
_NAME_REACH = 60
"""How far back a name before an epithet may begin."""


def proper_name_at(text: str, pos: int, limit: int) -> tuple[int, int] | None:
    """The span of a proper name starting at `pos` ("Miss Pringle", "Naruto-kun"; not "The", "Then",
    nor the end of a description or of a longer name: "the Mock Turtle")."""
    m = PROPER_NAME.match(text, pos, limit) if pos < limit and text[pos].isupper() else None
    if not m or (m.group() in NOT_NAMES and " " not in m.group()):
        return None
    before = _WORD_BEFORE.search(text, max(0, pos - 30), pos)
    word = before.group(1) if before else ""
    if word.lower() in ("the", "a", "an") or re.fullmatch(TITLE_PATTERN, word):
        return None
    if word and not word.endswith(".") and word not in NOT_NAMES:
        return None
    return m.start(), m.end()


@dataclass(frozen=True)
class DiscoveredCharacter(Person):
    """A character the chapter names, as `audiodrama cast init` would list it."""

    lines: int = 0
    """How many quotations its explicit speech tags give it."""


def discover_characters(chapter: Chapter, quotes: list[Quote] | None = None) -> list[DiscoveredCharacter]:
    """The characters the chapter's speech tags name, variants merged, most talkative first.

    `name` is the fullest form the text gives ("Bill Gorton" for tags that say "Bill"), `aliases` the
    other forms merged into it ("Bill", "Mr. Gorton", "Darcy-kun"), `gender` a guess from titles and
    nearby pronouns. A first-person narrator the others call by name is one of them.
    """
    text = chapter.text
    quotes = find_quotes(chapter) if quotes is None else quotes
    survey = survey_names(chapter)
    counts: Counter[str] = Counter()
    for name, n in _tagged(chapter, quotes).items():
        counts[_trimmed(name, survey)] += n
    counts = Counter({name: n for name, n in counts.items() if _kept(name, survey)})
    if len(counts) < _FEW_TAGGED:  # tags say "he" and "she": the names acting in the narration speak
        for name in _acting_names(text):
            counts[name] += 0  # a character, with no tagged line
    for name in _apposed(text, [n for n in counts if is_epithet(n)]):
        if _kept(name, survey):
            counts[name] += 0  # "Mr. Brownlow, the old gentleman": whom the tags' epithet stands for
    narrator = _narrator(chapter, quotes, survey)
    for form in dict.fromkeys([narrator, *narrator.split()] if narrator else []):
        counts[form] += 0
    return [
        DiscoveredCharacter(name, tuple(sorted(f for f in forms if f != name)),
                            gender_of_forms([name, *(f for f in forms if f != name)], survey), lines)
        for name, forms, lines in merge(counts, survey, narrator)
    ]


def _tagged(chapter: Chapter, quotes: list[Quote]) -> Counter[str]:
    """How many quotes the speech tags give each subject that names someone (a conjunction before it
    and a possessive after it dropped)."""
    text = chapter.text

    def subject_at(pos: int, limit: int) -> tuple[int, int] | None:
        if PROPER_NAME.match(text, pos, limit):
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
            name = POSSESSIVE_END.sub("", _LEADING_CONJUNCTION.sub("", " ".join(tag.subject.split())))
            counts[name] += 1
    return counts


def _trimmed(name: str, survey: Survey) -> str:
    """A tag's subject without a word before the name that the text does not write as a name
    ("Presently Tony") nor an adverb after a description ("the girl firmly")."""
    words = name.split()
    if words[0].lower() == "the":
        return " ".join(words[:-1]) if len(words) > 2 and words[-1].endswith("ly") else name
    if len(words) > 1 and key(words[0]) not in TITLES and not survey.name_like(words[0]):
        return " ".join(words[1:])
    return name


def _apposed(text: str, epithets: list[str]) -> list[str]:
    """The proper names the narration sets beside the epithets with a comma ("Mr. Brownlow, the
    old gentleman")."""
    if not epithets:
        return []
    words = "|".join(r"\s+".join(map(re.escape, e.split()[1:])) for e in epithets)
    found = []
    for m in re.finditer(rf",\s+[Tt]he\s+(?:{words})\b", text):  # the comma first: fast; then the name
        name = _NAME_BEFORE.search(text, max(0, m.start() - _NAME_REACH), m.start())
        if name and proper_name_at(text, name.start(), name.end()) == name.span():
            found.append(" ".join(name.group().split()))
    return list(dict.fromkeys(found))


def _kept(name: str, survey: Survey) -> bool:
    """False for a tag subject that is no one's name: a title alone ("Miss"), a word that opens
    sentences ("Yet", "Once"), a place ("India"), a pointer back ("the other")."""
    words = name.split()
    if name.lower().startswith("the "):
        return len(words) < 2 or words[1].lower() not in NOT_EPITHETS  # not "the other"
    if len(words) == 1:
        return key(name) not in TITLES and survey.name_like(name)
    return not all(key(w) in TITLES for w in words) and (words[0] not in NOT_NAMES or key(words[0]) in TITLES)


def _narrator(chapter: Chapter, quotes: list[Quote], survey: Survey) -> str | None:
    """The name the others call a first-person narrator by ("Hello, Jake"): in a chapter with
    first-person tags, the name quotes call most often that the narration never uses."""
    text = chapter.text
    spans = [(q.start, q.end) for q in quotes]
    outside, k = 0, 0
    for m in _FIRST_PERSON_TAG.finditer(text):
        while k < len(spans) and spans[k][1] <= m.start():
            k += 1
        outside += k == len(spans) or spans[k][0] > m.start()
    if outside < _FIRST_PERSON_TAGS:
        return None
    called: Counter[str] = Counter()
    in_quotes: Counter[str] = Counter()
    for q in quotes:
        for m in PROPER_NAME.finditer(text, q.inner_start, q.inner_end):
            name = " ".join(m.group().split())
            in_quotes[name] += 1
            after = text[m.end() : m.end() + 1]
            opens = m.start() == q.inner_start or _CALLED.search(text, q.inner_start, m.start())
            if (not after or after in ",.!?;") and opens and all(survey.name_like(w) for w in name.split()):
                called[name] += 1
    heard = [n for n, c in called.most_common() if c >= _MIN_CALLED and survey.names[n] <= in_quotes[n] * 1.1]
    if not heard:
        return None
    titled = {" ".join(n.split()[1:]) for n in in_quotes if title_of(n)}
    surname = next((n for n in heard[1:] if n in titled and " " not in n), None)
    if " " not in heard[0] and heard[0] not in titled and surname is not None:
        return f"{heard[0]} {surname}"  # "Jake" and "Monsieur Barnes": Jake Barnes
    return heard[0]


def _acting_names(text: str) -> list[str]:
    """Proper names that act in the narration at least `_MIN_ACTING` times ("Sakura broke", "Naruto
    laughed"): characters even when no speech tag names them. A word also written in lower case
    ("Everyone", "Nothing") is not a name."""
    acting: Counter[str] = Counter()
    for m in PROPER_NAME.finditer(text):
        if _ACTS.match(text, m.end()) and proper_name_at(text, m.start(), m.end()) == m.span():
            acting[m.group()] += 1
    return [
        name
        for name, count in acting.items()
        if count >= _MIN_ACTING and not re.search(rf"\b{re.escape(name.lower())}\b", text)
    ]
