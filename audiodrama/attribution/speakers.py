"""Naming the speaker of each quotation: tags, pronouns, action beats, vocatives and turn-taking."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass

from audiodrama.attribution.characters import Mention, Roster
from audiodrama.attribution.quotes import Quote
from audiodrama.attribution.tags import DESCRIPTOR, GENDERED_NOUNS, PREPOSITIONS, PRONOUNS, Tag, tag_after, tag_before
from audiodrama.script import DIALOGUE, THOUGHT
from audiodrama.text import TEXT, Chapter

_RECENT = 40


@dataclass(frozen=True)
class Decision:
    """Who speaks one quotation, and why."""

    speaker: str | None
    """Canonical name, or None when nobody can be inferred."""
    confidence: float
    """How sure, in [0, 1]."""
    reason: str
    """A few words for a reviewer: "tag: said Naruto", "turn-taking"."""
    kind: str = DIALOGUE
    """`dialogue` or `thought`."""


@dataclass
class _Turn:
    """A paragraph with quotes, once decided."""

    paragraph: int
    speaker: str | None
    addressed: tuple[str, ...]


class _Speakers:
    """Walks the chapter in reading order keeping the context a reader keeps."""

    def __init__(self, chapter: Chapter, quotes: list[Quote], roster: Roster) -> None:
        self.chapter = chapter
        self.text = chapter.text
        self.roster = roster
        self.recent: list[tuple[int, str]] = []
        self.turns: list[_Turn] = []
        self.narrator = _first_person_narrator(chapter, quotes, roster)

    # -- subjects -------------------------------------------------------------------------------

    def subject_at(self, pos: int, limit: int) -> tuple[int, int] | None:
        """The span of a name, alias or subject pronoun starting at `pos`."""
        m = self.roster.match(self.text, pos, limit)
        if m:
            return m
        end = pos
        while end < limit and self.text[end].isalpha():
            end += 1
        if self.text[pos:end].lower() in PRONOUNS:
            return pos, end
        m = DESCRIPTOR.match(self.text, pos, limit)
        return (pos, m.end()) if m else None

    def resolve(self, tag: Tag, avoid: str | None) -> tuple[str | None, str]:
        """The character a tag's subject refers to, and how it was found; a pronoun or descriptor
        avoids `avoid` (who spoke the turn before) when someone else of that gender is at hand."""
        word = tag.subject.lower()
        if word in PRONOUNS:
            gender = PRONOUNS[word]
            if gender == "self":
                return self.narrator, "first-person narrator"
            return self.by_gender(gender, tag.start, avoid), f"pronoun '{tag.subject}'"
        names = self.roster.lookup(tag.subject)
        if names:
            return self.most_recent(names), "name"
        descriptor = DESCRIPTOR.match(tag.subject)
        if descriptor is None:
            return None, ""
        gender = GENDERED_NOUNS[descriptor.group(1).lower()]
        possessor = PRONOUNS.get(tag.subject.split()[0].lower())
        if possessor == gender:
            avoid = self.by_gender(possessor, tag.start, None)
        return self.by_gender(gender, tag.start, avoid), f"descriptor '{tag.subject}'"

    def most_recent(self, names: tuple[str, ...]) -> str | None:
        """Of several candidates sharing an alias, the one mentioned last."""
        if len(names) <= 1:
            return names[0] if names else None
        for _, name in reversed(self.recent[-_RECENT:]):
            if name in names:
                return name
        return names[0]

    def by_gender(self, gender: str, before: int, avoid: str | None) -> str | None:
        """The most recently mentioned character of `gender` (mentions before offset `before`),
        other than `avoid` unless nobody else fits."""
        matching: list[str] = []
        unknown: list[str] = []
        for pos, name in reversed(self.recent[-_RECENT:]):
            if pos >= before or name == self.narrator:
                continue
            g = self.roster.gender(name)
            group = matching if g == gender else unknown if g is None else None
            if group is not None and name not in group:
                group.append(name)
        for group in (matching, unknown):
            for name in group:
                if name != avoid:
                    return name
        return avoid if avoid in matching or avoid in unknown else None

    def remember(self, mentions: list[Mention]) -> None:
        for m in mentions:
            self.recent.append((m.start, self.most_recent(m.names)))

    # -- paragraphs -----------------------------------------------------------------------------

    def paragraph(self, index: int, quotes: list[Quote], previous: Decision | None) -> list[Decision]:
        """Decisions for the quotes of one paragraph."""
        para = self.chapter.paragraphs[index]
        gaps = _gaps(para.start, para.end, quotes)
        narration = [m for a, b in gaps for m in self.roster.mentions(self.text, a, b)]
        addressed = self.vocatives(quotes)
        tags: list[Tag | None] = []
        for k, q in enumerate(quotes):
            after_end = quotes[k + 1].start if k + 1 < len(quotes) else para.end
            tag = tag_after(self.text, q.end, after_end, self.subject_at) if q.closed else None
            if tag is None:
                tag = tag_before(self.text, gaps[k][0], q.start, self.subject_at)
            tags.append(tag)
        # pronouns look back over what was said before the tag, this paragraph's narration included
        early = [m for m in narration if m.start < next((t.start for t in tags if t), para.end)]
        self.remember(early)
        last = self.turns[-1] if self.turns else None
        starts_with_quote = not self.text[para.start : quotes[0].start].strip()
        avoid = last.speaker if last and last.paragraph == index - 1 and starts_with_quote else None
        resolved = [self.resolve(t, avoid) if t else (None, "") for t in tags]
        self.recent = self.recent[: len(self.recent) - len(early)]
        default = self.default_speaker(index, quotes, narration, addressed, previous)
        decisions = []
        for tag, (name, how) in zip(tags, resolved, strict=True):
            if tag and name:
                kind = THOUGHT if tag.thought else DIALOGUE
                confidence = 0.95 if how == "name" else 0.8
                decisions.append(Decision(name, confidence, f"tag: {tag.verb} {tag.subject}", kind))
            else:
                decisions.append(None)
        own = next((d for d in decisions if d), None)
        fill = default
        if own:
            fill = Decision(own.speaker, own.confidence - 0.1, f"same paragraph as {own.reason}", own.kind)
        decisions = [d or fill for d in decisions]
        self.remember(narration)
        speaker = decisions[0].speaker
        if speaker:
            self.recent.append((quotes[0].start, speaker))
        self.turns.append(_Turn(index, speaker, addressed))
        return decisions

    def default_speaker(
        self, index: int, quotes: list[Quote], narration: list[Mention], addressed: tuple[str, ...], previous
    ) -> Decision:
        """The speaker of a paragraph without a usable tag."""
        paragraphs = self.chapter.paragraphs
        last = self.turns[-1] if self.turns and self._in_conversation(index) else None
        if quotes[0].continues and previous is not None and previous.speaker:
            return Decision(previous.speaker, previous.confidence, "speech continues from the last paragraph")
        for m in narration:
            name = self.most_recent(m.names)
            if name not in addressed and _is_subject(self.text, m.start):
                return Decision(name, 0.7, "action beat in the paragraph")
        if last is None or last.paragraph < index - 1:
            before = paragraphs[index - 1] if index else None
            if before is not None and before.kind == TEXT:
                for m in reversed(self.roster.mentions(self.text, before.start, before.end)):
                    name = self.most_recent(m.names)
                    if name not in addressed and _is_subject(self.text, m.start):
                        return Decision(name, 0.6, "acts in the paragraph before")
        if last is not None and last.speaker:
            if paragraphs[index].wide_gap and last.paragraph == index - 1 and last.speaker not in addressed:
                return Decision(last.speaker, 0.45, "same speaker after a dropped line")
            for name in last.addressed:
                if name != last.speaker and name not in addressed:
                    return Decision(name, 0.6, "addressed in the previous line")
            for turn in reversed(self.turns[:-1]):
                if turn.speaker and turn.speaker != last.speaker and turn.speaker not in addressed:
                    return Decision(turn.speaker, 0.55, "turn-taking")
        for _, name in reversed(self.recent[-_RECENT:]):
            if (last is None or name != last.speaker) and name not in addressed:
                return Decision(name, 0.3, "last character mentioned")
        return Decision(None, 0.0, "no speaker found")

    def _in_conversation(self, index: int) -> bool:
        """True when the previous quote paragraph is close enough to take turns with."""
        last = self.turns[-1].paragraph
        paragraphs = self.chapter.paragraphs
        if paragraphs[last].scene != paragraphs[index].scene:
            return False
        return index - last <= 2

    def vocatives(self, quotes: list[Quote]) -> tuple[str, ...]:
        """Characters the quotes address by name ("Sakura, stop!", "..., my dear Jane?")."""
        found = []
        for q in quotes:
            for m in self.roster.mentions(self.text, q.inner_start, q.inner_end):
                if _is_vocative(self.text, m, q):
                    found.append(self.most_recent(m.names))
        return tuple(dict.fromkeys(found))

    def run(self, quotes: list[Quote]) -> list[Decision]:
        decisions: list[Decision] = []
        previous_index = 0
        k = 0
        while k < len(quotes):
            index = quotes[k].paragraph
            end = k
            while end < len(quotes) and quotes[end].paragraph == index:
                end += 1
            group = quotes[k:end]
            if index > previous_index + 1:
                para_start = self.chapter.paragraphs[previous_index + 1].start
                para_end = self.chapter.paragraphs[index - 1].end
                self.remember(self.roster.mentions(self.text, para_start, para_end))
            decisions.extend(self.paragraph(index, group, decisions[-1] if decisions else None))
            previous_index = index
            k += len(group)
        return decisions


def _gaps(start: int, end: int, quotes: list[Quote]) -> list[tuple[int, int]]:
    """The narration stretches of a paragraph: before each quote, and after the last."""
    gaps = []
    pos = start
    for q in quotes:
        gaps.append((pos, q.start))
        pos = q.end
    gaps.append((pos, end))
    return gaps


def _is_subject(text: str, pos: int) -> bool:
    """True when the name at `pos` can be a sentence subject: not after a preposition, not in
    parentheses (an author's note)."""
    before = text[max(0, pos - 40) : pos]
    if before.rfind("(") > before.rfind(")"):
        return False
    words = before.split()
    return not words or words[-1].lower() not in PREPOSITIONS


def _is_vocative(text: str, mention: Mention, quote: Quote) -> bool:
    """True when a name inside a quote addresses someone: it opens the quote, or stands between
    commas or before the closing punctuation ("Yes, Jane.", "Sasuke I'm glad")."""
    before = text[quote.inner_start : mention.start].rstrip()
    after = text[mention.end : mention.end + 2]
    opens = not before or before[-1] in ",.!?;—-" or before.lower().endswith(("dear", "oh", "hey", "my"))
    closes = not after or after[0] in ",.!?;—-" or mention.start == quote.inner_start
    return (opens and closes) or mention.start == quote.inner_start


_FIRST_PERSON_TAG = re.compile(
    r"\b(?:I|we) (?:said|asked|replied|answered|cried)\b|\b(?:said|asked|replied|answered|cried) I\b"
)


def _first_person_narrator(chapter: Chapter, quotes: list[Quote], roster: Roster) -> str | None:
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


def decide_speakers(chapter: Chapter, quotes: list[Quote], roster: Roster) -> list[Decision]:
    """One decision per quote, in order."""
    return _Speakers(chapter, quotes, roster).run(quotes)
