"""Naming the speaker of each quotation: tags, pronouns, action beats, vocatives and turn-taking."""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from audiodrama.attribution.characters import Mention, Roster
from audiodrama.attribution.quotes import Quote
from audiodrama.attribution.ranker import FEATURES, Ranker
from audiodrama.attribution.tags import DESCRIPTOR, GENDERED_NOUNS, PREPOSITIONS, PRONOUNS, Tag, tag_after, tag_before
from audiodrama.script import DIALOGUE, THOUGHT
from audiodrama.text import TEXT, Chapter

_RECENT = 40
_CANDIDATES = 8
"""How many of the characters last mentioned are candidates."""
_TURN_WINDOW = 8
"""How many paragraphs back a quote paragraph still counts as a turn of the same exchange."""
_FAR = math.log(20000)
"""Log distance (characters) at which the distance feature saturates."""


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
    tag: tuple[int, int] | None = None
    """(start, end) of the bare speech tag beside the quote ("said Naruto"), if there is one."""


@dataclass(frozen=True)
class _Turn:
    """A paragraph with quotes, once decided."""

    paragraph: int
    """Index of the paragraph."""
    speaker: str | None
    """Who speaks its first quote."""
    addressed: tuple[str, ...]
    """Whom its quotes address by name."""


@dataclass(frozen=True)
class _Reading:
    """What the rules find in one paragraph with quotes."""

    tags: tuple[Tag | None, ...]
    """Each quote's speech tag, if any."""
    resolved: tuple[tuple[str | None, str], ...]
    """Each tag's character and how it was found (`name`, `pronoun 'he'`...)."""
    addressed: tuple[str, ...]
    """Characters the paragraph's quotes address by name."""
    narration: tuple[Mention, ...]
    """Character mentions in the paragraph's narration."""
    rules: tuple[Decision, ...]
    """The rules' decision for each quote."""


@dataclass(frozen=True)
class Example:
    """One quotation the ranker decided, kept for training."""

    quote: int
    """Index of the quote in the chapter."""
    candidates: tuple[str, ...]
    """The candidate speakers, in feature-row order."""
    features: np.ndarray
    """Candidates x `FEATURES`."""


class _Speakers:
    """Walks the chapter in reading order keeping the context a reader keeps."""

    def __init__(self, chapter: Chapter, quotes: list[Quote], roster: Roster) -> None:
        self.chapter = chapter
        self.text = chapter.text
        self.roster = roster
        self.recent: list[tuple[int, str]] = []
        self.turns: list[_Turn] = []
        self.narrator = _first_person_narrator(chapter, quotes, roster)
        self.all_mentions = roster.mentions(self.text, 0, len(self.text))
        """Every character mention of the chapter, found in one pass."""
        self.mention_starts = [m.start for m in self.all_mentions]
        """Their start offsets, for bisection."""
        self.last_seen: dict[str, int] = {}
        self.mentioned: Counter[str] = Counter()
        self.spoke: Counter[str] = Counter()
        self.quote_index = 0
        """Index of the first quote of the paragraph being decided."""
        self.position = 0
        """Index of that paragraph among the paragraphs with quotes."""
        self.anchors: list[tuple[int, str | None]] = []
        """(paragraph, the character its tags name beyond doubt) for each paragraph with quotes."""

    def mentions(self, start: int, end: int) -> list[Mention]:
        """The character mentions within text[start:end], in order."""
        i = bisect.bisect_left(self.mention_starts, start)
        j = bisect.bisect_left(self.mention_starts, end, i)
        return [m for m in self.all_mentions[i:j] if m.end <= end]

    # -- subjects -------------------------------------------------------------------------------

    def subject_at(self, pos: int, limit: int) -> tuple[int, int] | None:
        """The span of a name, alias, descriptor or subject pronoun starting at `pos`."""
        m = self.roster.match(self.text, pos, limit)
        if m:
            return m
        descriptor = DESCRIPTOR.match(self.text, pos, limit)
        if descriptor:
            return pos, descriptor.end()  # "her husband" before the pronoun "her"
        end = pos
        while end < limit and self.text[end].isalpha():
            end += 1
        return (pos, end) if self.text[pos:end].lower() in PRONOUNS else None

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

    def remember(self, mentions: list[Mention], lasting: bool = True) -> None:
        """Add mentions to the recent context; `lasting=False` for a look-ahead `forget` undoes."""
        for m in mentions:
            name = self.most_recent(m.names)
            self.recent.append((m.start, name))
            if lasting:
                self.last_seen[name] = m.start
                self.mentioned[name] += 1

    def forget(self, count: int) -> None:
        """Drop the last `count` entries of the recent context."""
        del self.recent[len(self.recent) - count :]

    # -- paragraphs -----------------------------------------------------------------------------

    def tags(self, index: int, quotes: list[Quote]) -> tuple[Tag | None, ...]:
        """The speech tag of each quote of paragraph `index`, if any."""
        para = self.chapter.paragraphs[index]
        gaps = _gaps(para.start, para.end, quotes)
        tags: list[Tag | None] = []
        for k, q in enumerate(quotes):
            after_end = quotes[k + 1].start if k + 1 < len(quotes) else para.end
            tag = tag_after(self.text, q.end, after_end, self.subject_at) if q.closed else None
            if tag is None:
                tag = tag_before(self.text, gaps[k][0], q.start, self.subject_at)
            tags.append(tag)
        return tuple(tags)

    def certain(self, tags: tuple[Tag | None, ...]) -> str | None:
        """The character a paragraph's tags name beyond doubt (a name only one character has)."""
        for tag in tags:
            names = self.roster.lookup(tag.subject) if tag else ()
            if len(names) == 1:
                return names[0]
        return None

    def read(
        self, index: int, quotes: list[Quote], tags: tuple[Tag | None, ...], previous: Decision | None
    ) -> _Reading:
        """What the rules see in one paragraph: tags, vocatives, narration mentions, their decisions."""
        para = self.chapter.paragraphs[index]
        gaps = _gaps(para.start, para.end, quotes)
        narration = [m for a, b in gaps for m in self.mentions(a, b)]
        addressed = self.vocatives(quotes)
        # pronouns look back over what was said before the tag, this paragraph's narration included
        early = [m for m in narration if m.start < next((t.start for t in tags if t), para.end)]
        self.remember(early, lasting=False)
        last = self.turns[-1] if self.turns else None
        starts_with_quote = not self.text[para.start : quotes[0].start].strip()
        avoid = last.speaker if last and last.paragraph == index - 1 and starts_with_quote else None
        resolved = [self.resolve(t, avoid) if t else (None, "") for t in tags]
        self.forget(len(early))
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
        rules = tuple(d or fill for d in decisions)
        return _Reading(tags, tuple(resolved), addressed, tuple(narration), rules)

    def commit(self, index: int, quotes: list[Quote], reading: _Reading, decisions: list[Decision]) -> None:
        """Take the paragraph's final decisions into the context later paragraphs read."""
        self.remember(list(reading.narration))
        speaker = decisions[0].speaker
        if speaker:
            self.recent.append((quotes[0].start, speaker))
            self.last_seen[speaker] = quotes[0].start
            self.spoke[speaker] += 1
        self.turns.append(_Turn(index, speaker, reading.addressed))

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
                for m in reversed(self.mentions(before.start, before.end)):
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
            for m in self.mentions(q.inner_start, q.inner_end):
                if _is_vocative(self.text, m, q):
                    found.append(self.most_recent(m.names))
        return tuple(dict.fromkeys(found))

    def decide(
        self, index: int, quotes: list[Quote], reading: _Reading, ranker: Ranker | None, examples: list | None
    ) -> list[Decision]:
        """Final decisions: a tag naming one character is certain; the ranker decides the rest (the
        rules do when there is no ranker; their candidates' features still go to `examples`)."""
        decisions = []
        candidates: list[str] = []
        for k, rule in enumerate(reading.rules):
            tag, (_, how) = reading.tags[k], reading.resolved[k]
            certain = tag and how == "name" and len(self.roster.lookup(tag.subject)) == 1
            candidates = candidates or ([] if certain else self.candidates(index, reading))
            if certain or not candidates or (ranker is None and examples is None):
                decisions.append(rule)
                continue
            features = self.features(index, quotes, k, reading, candidates)
            if examples is not None:
                examples.append(Example(self.quote_index + k, tuple(candidates), features))
            if ranker is None:
                decisions.append(rule)
                continue
            p = ranker.probabilities(features)
            best = int(p.argmax())
            reason = rule.reason if candidates[best] == rule.speaker else _strongest(ranker, features[best])
            decisions.append(Decision(candidates[best], float(p[best]), reason, rule.kind))
        return [replace(d, tag=t.phrase) if t and t.phrase else d for d, t in zip(decisions, reading.tags, strict=True)]

    def candidates(self, index: int, reading: _Reading) -> list[str]:
        """Who may speak in paragraph `index`: tagged, recent speakers and whom they addressed,
        named nearby."""
        found: dict[str | None, None] = {}
        for rule in reading.rules:
            found[rule.speaker] = None
        for tag, (name, how) in zip(reading.tags, reading.resolved, strict=True):
            found[name] = None
            if tag and how == "name":
                found.update(dict.fromkeys(self.roster.lookup(tag.subject)))
        for turn in self.conversation(index)[-4:]:
            found[turn.speaker] = None
            found.update(dict.fromkeys(turn.addressed))
        for m in reading.narration:
            found.update(dict.fromkeys(m.names))
        for name in self.recently_named()[:_CANDIDATES]:
            found[name] = None
        for m in self.next_mentions(index):
            found.update(dict.fromkeys(m.names))
        found.pop(None, None)
        return list(found)  # type: ignore[arg-type]

    def conversation(self, index: int) -> list[_Turn]:
        """The last few turns of the scene that paragraph `index` belongs to."""
        paragraphs = self.chapter.paragraphs
        scene = paragraphs[index].scene
        turns = []
        for turn in reversed(self.turns[-4:]):
            if paragraphs[turn.paragraph].scene != scene or turn.paragraph < index - _TURN_WINDOW:
                break
            turns.append(turn)
        return turns[::-1]

    def recently_named(self) -> list[str]:
        """Distinct characters of the recent context, the latest first."""
        return list(dict.fromkeys(name for _, name in reversed(self.recent[-_RECENT:])))

    def next_mentions(self, index: int) -> list[Mention]:
        """The mentions of the paragraph after `index`."""
        if index + 1 >= len(self.chapter.paragraphs):
            return []
        after = self.chapter.paragraphs[index + 1]
        return self.mentions(after.start, after.end)

    def features(self, index: int, quotes: list[Quote], k: int, reading: _Reading, candidates: list[str]) -> np.ndarray:
        """One row of `FEATURES` per candidate speaker of quote `k` of paragraph `index`."""
        text, quote, rule = self.text, quotes[k], reading.rules[k]
        own, para = set(), set()
        gender = self_tag = None
        for j, (tag, (_, how)) in enumerate(zip(reading.tags, reading.resolved, strict=True)):
            if tag is None:
                continue
            if how == "name":
                (own if j == k else para).update(self.roster.lookup(tag.subject))
            elif how == "first-person narrator":
                self_tag = True
            elif j == k or gender is None:
                gender = _tag_gender(tag)
        shared = len(own) > 1
        turns = self.conversation(index)
        t1 = turns[-1] if turns else None
        t2 = turns[-2] if len(turns) > 1 else None
        t3 = turns[-3] if len(turns) > 2 else None
        alternating = (
            t1 is not None and t2 is not None and t1.paragraph == index - 1 and t2.paragraph == index - 2
        ) and t1.speaker != t2.speaker
        in_quote = {
            name
            for q in quotes
            for m in self.mentions(q.inner_start, q.inner_end)
            if not _is_vocative(text, m, q)
            for name in m.names
        }
        before = [m for m in reading.narration if m.end <= quote.start]
        subjects = {n for m in before if _is_subject(text, m.start) for n in m.names}
        named_before = {n for m in before for n in m.names}
        named_after = {n for m in reading.narration if m.start >= quote.end for n in m.names}
        previous = self.chapter.paragraphs[index - 1] if index else None
        previous_subjects = set()
        if previous is not None and previous.kind == TEXT and not (t1 and t1.paragraph == index - 1):
            previous_subjects = {
                n for m in self.mentions(previous.start, previous.end) if _is_subject(text, m.start) for n in m.names
            }
        next_named = {n for m in self.next_mentions(index) for n in m.names}
        ranks = {name: r for r, name in enumerate(self.recently_named())}
        anchored = self.anchored()
        said = max(1, len(self.turns))
        rows = []
        for c in candidates:
            g = self.roster.gender(c)
            prev1 = t1 is not None and t1.speaker == c
            gender_match = gender is not None and g == gender
            before, after = anchored.get(c, (0, 0))
            rows.append(
                (
                    rule.speaker == c,
                    rule.confidence if rule.speaker == c else 0.0,
                    c in own and not shared,
                    c in own and shared,
                    c in para,
                    gender_match,
                    gender is not None and g is not None and g != gender,
                    gender_match and prev1,
                    bool(self_tag) and c == self.narrator,
                    quote.continues and k == 0 and prev1,
                    prev1,
                    prev1 and t1.paragraph == index - 1,
                    t2 is not None and t2.speaker == c,
                    alternating and t2.speaker == c,
                    t3 is not None and t3.speaker == c,
                    c in reading.addressed,
                    t1 is not None and c in t1.addressed,
                    c in in_quote and c not in reading.addressed,
                    c in subjects,
                    c in named_before,
                    c in named_after,
                    c in previous_subjects,
                    c in next_named,
                    1.0 / (1 + ranks[c]) if c in ranks else 0.0,
                    min(1.0, math.log1p(quote.start - self.last_seen[c]) / _FAR) if c in self.last_seen else 1.0,
                    self.spoke[c] / said,
                    math.log1p(self.mentioned[c]) / 5,
                    c == self.narrator,
                    before > 0 and before % 2 == 0,
                    before % 2 == 1,
                    after > 0 and after % 2 == 0,
                    after % 2 == 1,
                    c in anchored,
                )
            )
        return np.array(rows, dtype=float)

    def run(self, quotes: list[Quote], ranker: Ranker | None, examples: list | None) -> list[Decision]:
        """Decisions for every quote, paragraph by paragraph in reading order."""
        groups = []  # (paragraph, first quote, end quote)
        k = 0
        while k < len(quotes):
            end = k
            while end < len(quotes) and quotes[end].paragraph == quotes[k].paragraph:
                end += 1
            groups.append((quotes[k].paragraph, k, end))
            k = end
        tags = [self.tags(index, quotes[k:end]) for index, k, end in groups]
        self.anchors = [(index, self.certain(t)) for (index, _, _), t in zip(groups, tags, strict=True)]
        decisions: list[Decision] = []
        previous_index = -1
        for position, (index, k, end) in enumerate(groups):
            group = quotes[k:end]
            if index > previous_index + 1:
                para_start = self.chapter.paragraphs[previous_index + 1].start
                para_end = self.chapter.paragraphs[index - 1].end
                self.remember(self.mentions(para_start, para_end))
            self.quote_index, self.position = k, position
            reading = self.read(index, group, tags[position], decisions[-1] if decisions else None)
            final = self.decide(index, group, reading, ranker, examples)
            self.commit(index, group, reading, final)
            decisions.extend(final)
            previous_index = index
        return decisions

    def anchored(self) -> dict[str, tuple[int, int]]:
        """For each character a tag names in the current run of consecutive quote paragraphs: how
        many turns before and after the current one its nearest such tag is (0: none)."""
        found: dict[str, list[int]] = {}
        for step in (-1, 1):
            position, index = self.position, self.anchors[self.position][0]
            for distance in range(1, _TURN_WINDOW + 1):
                position += step
                if not 0 <= position < len(self.anchors) or self.anchors[position][0] != index + step * distance:
                    break
                name = self.anchors[position][1]
                if name is not None:
                    slot = found.setdefault(name, [0, 0])
                    slot[step > 0] = slot[step > 0] or distance
        return {name: (before, after) for name, (before, after) in found.items()}


def _tag_gender(tag: Tag) -> str | None:
    """The gender a pronoun or descriptor tag points at ("he", "his wife")."""
    gender = PRONOUNS.get(tag.subject.lower())
    if gender in ("male", "female"):
        return gender
    descriptor = DESCRIPTOR.match(tag.subject)
    return GENDERED_NOUNS[descriptor.group(1).lower()] if descriptor else None


def _strongest(ranker: Ranker, row: np.ndarray) -> str:
    """The reason for a ranked decision: the two features that raised the candidate most."""
    contributions = row * ranker.weights
    top = [FEATURES[i] for i in np.argsort(-contributions)[:2] if contributions[i] > 0]
    return "ranked: " + (", ".join(top) or "least unlikely")


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
    """True when a name inside a quote addresses someone: it opens the quote, follows a call
    ("Hey Kurama can you"), or stands between commas or before the closing punctuation
    ("Yes, Jane.", "Sasuke I'm glad")."""
    before = text[quote.inner_start : mention.start].rstrip()
    after = text[mention.end : mention.end + 2]
    called = before.lower().endswith(("dear", "oh", "hey", "my"))
    opens = not before or before[-1] in ",.!?;—-"
    closes = not after or after[0] in ",.!?;—-"
    return (opens and closes) or called or mention.start == quote.inner_start


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


def decide_speakers(
    chapter: Chapter,
    quotes: list[Quote],
    roster: Roster,
    ranker: Ranker | None = None,
    examples: list[Example] | None = None,
) -> list[Decision]:
    """One decision per quote, in order: certain tags by rule, the rest by `ranker` (rules alone
    when None). `examples`, when given, receives the ranker's candidates and features (training)."""
    return _Speakers(chapter, quotes, roster).run(quotes, ranker, examples)
