"""Italic thoughts: in a chapter whose markup marks emphasis (HTML, EPUB, Markdown), an unquoted italic
sentence is a character's thought or mind-speech, as fan fiction writes them (`*Why me?* he thought.`).

The thinker is taken from the tag beside it ("Naruto thought", "he wondered"; a name the cast lacks is
taken as written, as speech tags do), else from who speaks
or is named in the same paragraph, else from the character named last before it. Italics inside a
sentence (a stressed word, a book's title) and long third-person italic passages (a flashback, a
letter) stay narration.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from audiodrama.attribution.characters import Roster
from audiodrama.attribution.discovery import proper_name_at
from audiodrama.attribution.quotes import Quote
from audiodrama.text.chapter import Chapter, Kind, word_set

THINKING = word_set(
    """
    thought thinks wondered wonders mused reflected realized realised decided pondered noted supposed
    sighed groaned grumbled muttered mumbled murmured whispered growled snarled hissed said asked replied
    answered called told added
    """
)
"""Verbs of a bare tag after a thought ("he thought"), which a radio play may drop."""
FIRST_OR_SECOND_PERSON = word_set("i i'm i'll i'd i've me my mine myself we us our ours you you're your yours")
MAX_THIRD_PERSON_WORDS = 40
"""Italics longer than this with no I, we or you in them are a flashback or a letter, not a thought."""
LOOK_BACK = 3
"""Paragraphs before a thought searched for the character named last."""
_SENTENCE_END = ".!?…:;—–-\"”’)*"
_CLAUSE_END = ".!?…,;:—–-"
_LEAD = re.compile(r"[\s,.;:!?—–-]*")
_PRONOUN = re.compile(r"(he|she|i)\s+([a-z]+)\b", re.IGNORECASE)
_GENDERS = {"he": "male", "she": "female"}
_WORD = re.compile(r"\s+([a-z]+)\b")
_LEADING_VERB = re.compile(r"([a-z]+)\s+")
_CAPITAL = re.compile(r"\b[A-Z]")
_PUNCTUATION = re.compile(r"[.,;:!?…]*")


@dataclass(frozen=True)
class Thought:
    """An italic stretch read as a character's thought."""

    start: int
    """Offset of its first character."""
    end: int
    """Offset just past its last character."""
    speaker: str | None
    """Who thinks it; None for a first-person narrator's own thought, or when nobody is found."""
    confidence: float
    """How sure the speaker is, in [0, 1]."""
    reason: str
    """Why this speaker, for a reviewer."""
    tag: tuple[int, int] | None = None
    """(start, end) of a bare tag right after it ("Naruto thought"), if there is one."""


def find_thoughts(chapter: Chapter, quotes: Sequence[Quote], speakers: Sequence[str | None],
                  roster: Roster) -> list[Thought]:
    """The chapter's italic thoughts, in order; `speakers` are the decided speakers of `quotes`."""
    text = chapter.text
    starts = [p.start for p in chapter.paragraphs]
    quote_starts = [q.start for q in quotes]
    found = []
    for start, end in chapter.emphasis:
        index = bisect.bisect_right(starts, start) - 1
        para = chapter.paragraphs[index] if index >= 0 else None
        if para is None or para.kind != Kind.TEXT or end > para.end:
            continue
        k = bisect.bisect_left(quote_starts, para.start)
        around = [(q, s) for q, s in zip(quotes[k:], speakers[k:], strict=False) if q.paragraph == index]
        if any(q.start < end and start < q.end for q, _ in around) or not _is_thought(text, para.start, start,
                                                                                     end, para.end):
            continue
        found.append(_thinker(chapter, index, start, end, [s for _, s in around], roster))
    return found


def _is_thought(text: str, paragraph_start: int, start: int, end: int, paragraph_end: int) -> bool:
    """True for italics that make a sentence (or a clause) of their own, with words, and that read
    as someone's thought rather than a long passage told in the third person."""
    before = text[paragraph_start:start].rstrip()
    after = text[end:paragraph_end].lstrip()
    body = text[start:end]
    if before and before[-1] not in _SENTENCE_END:
        return False
    last = body.rstrip()[-1:]
    if not ((last and last in _CLAUSE_END) or not after or after[0] in _CLAUSE_END):
        return False
    words = [w.strip(".,;:!?…—–-\"'”’").casefold() for w in body.split()]
    if not any(c.isalpha() for c in body):
        return False
    return len(words) <= MAX_THIRD_PERSON_WORDS or any(w in FIRST_OR_SECOND_PERSON for w in words)


def _thinker(chapter: Chapter, index: int, start: int, end: int, speakers: list[str | None],
             roster: Roster) -> Thought:
    """The thought at text[start:end] in paragraph `index`, with its thinker and the reason."""
    text = chapter.text
    para = chapter.paragraphs[index]
    pos = _LEAD.match(text, end, para.end).end()
    named = roster.match(text, pos, para.end) or proper_name_at(text, pos, para.end)
    verb = _WORD.match(text, named[1], para.end) if named is not None else None
    if verb is not None:
        surface = text[named[0] : named[1]]
        name = next(iter(roster.lookup(surface)), surface)
        if verb.group(1) in THINKING:
            tag = _tag(text, pos, verb.end())
            return Thought(start, end, name, 0.9, f"italics; tag: {text[pos : verb.end()]}", tag)
        return Thought(start, end, name, 0.8, f"italics; acts right after: {surface}")
    inverted = _LEADING_VERB.match(text, pos, para.end)
    thinking = inverted is not None and inverted.group(1) in THINKING
    subject = (roster.match(text, inverted.end(), para.end) or proper_name_at(text, inverted.end(), para.end)
               if thinking else None)
    if subject is not None:
        surface = text[subject[0] : subject[1]]
        name = next(iter(roster.lookup(surface)), surface)
        return Thought(start, end, name, 0.9, f"italics; tag: {text[pos : subject[1]]}", _tag(text, pos, subject[1]))
    tag = None
    pronoun = _PRONOUN.match(text, pos, para.end)
    if pronoun is not None:
        tag = _tag(text, pos, pronoun.end()) if pronoun.group(2).lower() in THINKING else None
        word = pronoun.group(1).lower()
        if word == "i":
            return Thought(start, end, None, 0.7, "italics; the narrator's own thought", tag)
        name = _last_named(chapter, index, start, roster, _GENDERS[word]) or _subject_before(text, para.start, start)
        if name is not None:
            return Thought(start, end, name, 0.75, f"italics; {text[pos : pronoun.end()]}: {name}", tag)
    spoken = [s for s in speakers if s]
    if spoken:
        return Thought(start, end, spoken[0], 0.7, "italics; speaks in the same paragraph", tag)
    before = roster.mentions(text, para.start, start)
    name = before[-1].names[0] if before else _subject_before(text, para.start, start)
    if name is not None:
        return Thought(start, end, name, 0.6, "italics; named before it in the paragraph", tag)
    name = _last_named(chapter, index, start, roster)
    if name is not None:
        return Thought(start, end, name, 0.4, "italics; last character mentioned", tag)
    return Thought(start, end, None, 0.3, "italics; nobody named nearby", tag)


def _tag(text: str, start: int, end: int) -> tuple[int, int]:
    """(start, end) of a bare tag whose words end at `end`, with the punctuation right after them."""
    return start, _PUNCTUATION.match(text, end).end()


def _subject_before(text: str, start: int, end: int) -> str | None:
    """The last proper name in text[start:end] that acts ("Tsunade looked"), as written: a character the
    roster lacks."""
    found = None
    before = text[start:end]  # alone, so that the paragraph before ("Chapter Three") is not taken for a first name
    for capital in _CAPITAL.finditer(before):
        name = proper_name_at(before, capital.start(), len(before))
        if name is not None and _WORD.match(before, name[1]):
            found = before[name[0] : name[1]]
    return found


def _last_named(chapter: Chapter, index: int, before: int, roster: Roster, gender: str | None = None) -> str | None:
    """The character named last before offset `before`, in its paragraph or the few before it (of
    `gender` when given)."""
    first = chapter.paragraphs[max(0, index - LOOK_BACK)].start
    for mention in reversed(roster.mentions(chapter.text, first, before)):
        for name in mention.names:
            if gender is None or roster.gender(name) == gender:
                return name
    return None
