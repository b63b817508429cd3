"""Naming the speaker of each quotation: tags, pronouns, action beats, vocatives and turn-taking."""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from audiodrama.attribution.characters import Mention, Roster
from audiodrama.attribution.discovery import proper_name_at
from audiodrama.attribution.quotes import Quote
from audiodrama.attribution.ranker import BASE, FEATURES, GENDERED, HISTORY, Ranker
from audiodrama.attribution.tags import (
    DESCRIPTOR,
    GENDERED_NOUNS,
    GROUP,
    PREPOSITIONS,
    PRONOUNS,
    Tag,
    action_beat,
    tag_after,
    tag_before,
)
from audiodrama.attribution.titles import title_gender
from audiodrama.text.chapter import Chapter, Kind

_RECENT = 40
_CANDIDATES = 8
"""How many of the characters last mentioned are candidates."""
_TURN_WINDOW = 8
"""How many paragraphs back a quote paragraph still counts as a turn of the same exchange."""
_FAR = math.log(20000)
"""Log distance (characters) at which the distance feature saturates."""
_AT_HAND = 1500
"""How near (characters) another character of the gender must have been named for a pronoun tag
to pass over the one who spoke the turn before."""
_TAG_WORDS = 10
"""More words than this after a paragraph's last quote are narration, not just its tag."""
_REMEMBERED = 0.5
"""A speaker decided less surely than this is not taken into the context later lines read (a
guess would mislead the pronouns and turns after it)."""
_BEAM = 4
"""Hypotheses kept when an exchange is decoded jointly."""
_MARGIN = math.log(20)
"""A hypothesis this much less likely (log) than the best is dropped."""
_NEW_NAME = "a name the cast lacks"
"""How a tag naming someone outside the roster is resolved: the name is the speaker."""
GROUP_SPEAKER = "Group"
"""The speaker of a line several characters say at once ("her friends yelled")."""
_GROUP = "several speakers"
"""How a tag naming several people is resolved: the speaker is `GROUP_SPEAKER`."""
_NAMING = ("name", _NEW_NAME, _GROUP, "first-person narrator")
"""How a tag found its speaker when it says who, not which gender."""
_ARTICLE = re.compile(r"(?:the|a|an)\s+", re.IGNORECASE)
"""An article before a cast alias in a tag ("said the March Hare")."""
_MY_WORDS = re.compile(r"\s+(?:[a-z]+\s+)?(?:reply|answer|remark|retort|rejoinder|response|comment|exclamation)\b")
"""What makes "my" the subject of a tag: the words it owns ("was my reply", "was my calm retort")."""
_CONTINUES = "speech continues from the last paragraph"
_TURN_TAKING = "turn-taking"


@dataclass(frozen=True)
class Decision:
    """Who speaks one quotation, and why."""

    speaker: str | None
    """Canonical name, or None when nobody can be inferred."""
    confidence: float
    """How sure, in [0, 1]."""
    reason: str
    """A few words for a reviewer: "tag: said Naruto", "turn-taking"."""
    kind: str = Kind.DIALOGUE
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

    @functools.cached_property
    def tag_genders(self) -> tuple[str | None, ...]:
        """Per quote, the gender its pronoun or descriptor tag points at; without one of its own (or
        with a genderless one), the first gender such a tag of the paragraph gives (after it, for a
        genderless own tag). Worked out once for the paragraph: long ones hold thousands of quotes."""
        pointing = [_tag_gender(tag) if tag is not None and how not in _NAMING
                    else _NOT_POINTING for tag, (_, how) in zip(self.tags, self.resolved, strict=True)]
        later: list[str | None] = [None] * (len(pointing) + 1)  # first gender from each quote on
        for k in range(len(pointing) - 1, -1, -1):
            later[k] = pointing[k] if pointing[k] not in (None, _NOT_POINTING) else later[k + 1]
        return tuple(later[0] if own is _NOT_POINTING else own if own is not None else later[k + 1]
                     for k, own in enumerate(pointing))


_NOT_POINTING = object()
"""Marks a quote without a pronoun or descriptor tag."""


@dataclass(frozen=True)
class _Group:
    """A paragraph with quotes after the first pass, kept for decoding its exchange jointly."""

    paragraph: int
    """Index of the paragraph."""
    quotes: tuple[Quote, ...]
    """Its quotes."""
    reading: _Reading
    """What the rules found in it."""
    candidates: tuple[str, ...]
    """Who may speak its ranked quotes."""
    rows: tuple[np.ndarray | None, ...]
    """Each quote's candidate features, None where a tag settles it."""
    fixed: tuple[tuple[float, ...] | None, ...]
    """Each quote's candidate scores from the features that are neither rule nor `HISTORY` (with a ranker)."""
    decisions: tuple[Decision, ...]
    """Each quote's decision."""


(
    _TAG_GENDER_PREV1,
    _CONTINUES_PREV1,
    _PREV1,
    _PREV1_ADJACENT,
    _PREV2,
    _PREV2_ALTERNATING,
    _PREV3,
    _VOCATIVE_PREV,
    _TAG_GENDER_PREV2,
    _TAG_GENDER_PREV3,
    _TAG_GENDER_VOCATIVE_PREV,
) = range(len(HISTORY))
"""Columns of `HISTORY`."""
_TAG_GENDER_COLUMN = BASE.index("tag_gender")
_GENDERED_COLUMNS = [BASE.index(name) for name in GENDERED]
"""Where the features `GENDERED` repeats sit in `BASE`."""
_NOBODY = Decision(None, 0.0, "no speaker found")
_FROM_HISTORY = frozenset(
    (_CONTINUES, _TURN_TAKING, "same speaker after a dropped line", "addressed in the previous line")
)
"""Reasons of rules that follow the turn history."""


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
        self.quotes = quotes
        """The chapter's quotes, in order."""
        self.last_seen: dict[str, int] = {}
        self.mentioned: Counter[str] = Counter()
        self.spoke: Counter[str] = Counter()
        self.quote_index = 0
        """Index of the first quote of the paragraph being decided."""
        self.position = 0
        """Index of that paragraph among the paragraphs with quotes."""
        self._named: tuple[tuple[int, tuple[int, str] | None], list[str]] = ((0, None), [])
        """`recently_named()` and the state of `recent` it was computed for."""
        self.anchors: list[tuple[int, str | None]] = []
        """(paragraph, the character its tags name beyond doubt) for each paragraph with quotes."""
        self._around: tuple[int, tuple[dict[str, tuple[int, int]], list[str]]] = (-1, ({}, []))
        """`around()` and the position it was computed for."""
        self.runs: list[tuple[int, int]] = []
        """For each paragraph with quotes, the positions (start, end) of its run of consecutive ones."""
        self.quoted: set[int] = set()
        """Paragraphs with quotes."""
        self.calls: list[tuple[str, ...]] = []
        """Whom the quotes of each paragraph with quotes address by name (shared names resolved
        by the context at the start)."""

    def mentions(self, start: int, end: int) -> list[Mention]:
        """The character mentions within text[start:end], in order."""
        i = bisect.bisect_left(self.mention_starts, start)
        j = bisect.bisect_left(self.mention_starts, end, i)
        return [m for m in self.all_mentions[i:j] if m.end <= end]

    # -- subjects -------------------------------------------------------------------------------

    def subject_at(self, pos: int, limit: int) -> tuple[int, int] | None:
        """The span of a name or alias (after an article too: "the March Hare"), descriptor or subject
        pronoun starting at `pos`, else of a proper name the roster lacks ("said Mr. Hobbs")."""
        m = self.roster.match(self.text, pos, limit)
        if m:
            return m
        article = _ARTICLE.match(self.text, pos, limit)
        m = self.roster.match(self.text, article.end(), limit) if article else None
        if m:
            return m  # "said the March Hare" for a cast's "March Hare"
        group = GROUP.match(self.text, pos, limit)
        if group:
            return group.span()
        descriptor = DESCRIPTOR.match(self.text, pos, limit)
        if descriptor:
            return pos, descriptor.end()  # "her husband" before the pronoun "her"
        end = pos
        while end < limit and self.text[end].isalpha():
            end += 1
        word = self.text[pos:end]
        if word.lower() in PRONOUNS and (word.lower() != "my" or _MY_WORDS.match(self.text, end, limit)):
            return pos, end
        if word.islower() and len(self.roster.lookup(word)) == 1:
            return pos, end  # a one-word name written in lower case: "said nanny"
        return proper_name_at(self.text, pos, limit)

    def resolve(self, tag: Tag, avoid: str | None) -> tuple[str | None, str]:
        """The character a tag's subject refers to, and how it was found; a pronoun or descriptor
        avoids `avoid` (who spoke the turn before) when someone else of that gender is at hand."""
        word = tag.subject.lower()
        if GROUP.fullmatch(tag.subject) and not self.roster.lookup(tag.subject):
            return GROUP_SPEAKER, _GROUP
        if word in PRONOUNS:
            gender = PRONOUNS[word]
            if gender == "self":
                return self.narrator, "first-person narrator"
            return self.by_gender(gender, tag.start, avoid), f"pronoun '{tag.subject}'"
        names = self.tag_names(tag.subject)
        if names:
            return self.most_recent(names), "name"
        descriptor = DESCRIPTOR.match(tag.subject)
        if descriptor is None:
            if not proper_name_at(tag.subject, 0, len(tag.subject)):
                return None, ""
            return " ".join(tag.subject.split()), _NEW_NAME
        gender = GENDERED_NOUNS[descriptor.group(1).lower()]
        possessor = PRONOUNS.get(tag.subject.split()[0].lower())
        if possessor == gender:
            avoid = self.by_gender(possessor, tag.start, None)
        return self.by_gender(gender, tag.start, avoid), f"descriptor '{tag.subject}'"

    def tag_names(self, subject: str) -> tuple[str, ...]:
        """The characters a tag's subject names: by name or alias, else (a proper name the roster
        lacks) by one of its words or that word without a final s ("Master Charles Bates" =
        "Charley Bates", "Mrs. Maylies" = "Mrs. Maylie"), else by a misprint of one ("Mr. Browlow"),
        of the gender its title says."""
        names = self.roster.lookup(subject)
        if names or not proper_name_at(subject, 0, len(subject)):
            return names
        gender = title_gender(subject)
        found: dict[str, None] = {}
        for word in subject.split()[1 if gender else 0 :]:
            for form in (word, word.removesuffix("s")):
                found.update(dict.fromkeys(self.roster.lookup(form)))
        if not found:
            for word in subject.split()[1 if gender else 0 :]:
                found.update(dict.fromkeys(self.roster.resembling(word)))
        return tuple(n for n in found if gender is None or self.roster.gender(n) in (gender, None))

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
        other than `avoid` unless nobody else fits who was named within `_AT_HAND` characters."""
        matching: dict[str, int] = {}
        unknown: dict[str, int] = {}
        for pos, name in reversed(self.recent[-_RECENT:]):
            if pos >= before or name == self.narrator:
                continue
            g = self.roster.gender(name)
            group = matching if g == gender else unknown if g is None else None
            if group is not None:
                group.setdefault(name, pos)
        named = matching | unknown  # disjoint: the gender's own first
        others = [name for name in named if name != avoid]
        if avoid not in named:
            return others[0] if others else None
        return next((name for name in others if before - named[name] <= _AT_HAND), avoid)

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
            if tag is None and k == 0 and not q.continues and self.introduced(index, q):
                # "... so she merely said:" closing the narration paragraph before; a bare
                # subject and verb only, for a long sentence's subject is too often another
                previous = self.chapter.paragraphs[index - 1]
                tag = tag_before(self.text, previous.start, previous.end, self.subject_at)
                if tag is not None and tag.phrase is None:
                    tag = None
            if tag is None:
                tag = action_beat(self.text, gaps[k][0], q.start)
            tags.append(tag)
        return tuple(tags)

    def introduced(self, index: int, quote: Quote) -> bool:
        """True when the quote opens paragraph `index` and a paragraph of narration alone comes just before it."""
        if index == 0 or self.text[self.chapter.paragraphs[index].start : quote.start].strip():
            return False
        previous = self.chapter.paragraphs[index - 1]
        return previous.kind == Kind.TEXT and (index - 1) not in self.quoted

    def certain(self, tags: tuple[Tag | None, ...]) -> str | None:
        """The character a paragraph's tags name beyond doubt (a name only one character has)."""
        for tag in tags:
            names = self.tag_names(tag.subject) if tag else ()
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
        last = self.turns[-1] if self.turns else None
        starts_with_quote = not self.text[para.start : quotes[0].start].strip()
        after_a_turn = last is not None and last.paragraph == index - 1
        # whom the turn just before called by name is at hand as much as anyone named since
        called = [n for n in last.addressed if n != last.speaker] if after_a_turn else []
        self.recent.extend((para.start - 1, name) for name in called)
        avoid = last.speaker if after_a_turn and starts_with_quote else None
        if avoid is not None and self.acts_after_speaking(index - 1):
            avoid = None
        # pronouns look back over what was said before their tag, this paragraph's narration (and
        # its earlier tags: "retorted Polina. ... She said this") included
        resolved: list[tuple[str | None, str]] = []
        read_up_to = 0
        for tag in tags:
            if tag is None:
                resolved.append((None, ""))
                continue
            before = read_up_to
            while read_up_to < len(narration) and narration[read_up_to].start < tag.start:
                read_up_to += 1
            self.remember(narration[before:read_up_to], lasting=False)
            resolved.append(self.resolve(tag, avoid))
        self.forget(read_up_to + len(called))
        default = self.default_speaker(index, quotes, narration, addressed, previous)
        decisions = []
        for tag, (name, how) in zip(tags, resolved, strict=True):
            if tag and name:
                kind = Kind.THOUGHT if tag.thought else Kind.DIALOGUE
                confidence = 0.95 if how == "name" else 0.8
                reason = f"action beat: {tag.subject}" if tag.action else f"tag: {tag.verb} {tag.subject}"
                decisions.append(Decision(name, confidence, reason, kind))
            else:
                decisions.append(None)
        own = next((d for d in decisions if d), None)
        fill = default
        if own:
            fill = Decision(own.speaker, own.confidence - 0.1, f"same paragraph as {own.reason}", own.kind)
        rules = tuple(d or fill for d in decisions)
        return _Reading(tags, tuple(resolved), addressed, tuple(narration), rules)

    def acts_after_speaking(self, index: int) -> bool:
        """True when paragraph `index` (with quotes) goes on narrating after its last quote, beyond a
        short tag ("she stopped talking as she saw the state he was in"): its speaker may well speak
        again next."""
        k = self.quote_index - 1
        if k < 0 or self.quotes[k].paragraph != index:
            return False
        return len(self.text[self.quotes[k].end : self.chapter.paragraphs[index].end].split()) > _TAG_WORDS

    def commit(self, index: int, quotes: list[Quote], reading: _Reading, decisions: list[Decision]) -> None:
        """Take the paragraph's final decisions into the context later paragraphs read (its speaker
        only when decided at least `_REMEMBERED` surely)."""
        self.remember(list(reading.narration))
        speaker = _taking_turns(decisions[0].speaker)
        if speaker and decisions[0].confidence >= _REMEMBERED:
            self.recent.append((quotes[0].start, speaker))
            self.last_seen[speaker] = quotes[0].start
            self.spoke[speaker] += 1
        self.turns.append(_Turn(index, speaker, reading.addressed))

    def default_speaker(
        self, index: int, quotes: list[Quote], narration: list[Mention], addressed: tuple[str, ...], previous
    ) -> Decision:
        """The speaker of a paragraph without a usable tag."""
        paragraphs = self.chapter.paragraphs
        last = self.turns[-1] if self.turns and self._in_conversation(index, self.turns) else None
        if quotes[0].continues and previous is not None and previous.speaker:
            return Decision(previous.speaker, previous.confidence, _CONTINUES)
        for m in narration:
            name = self.most_recent(m.names)
            if name not in addressed and _is_subject(self.text, m.start):
                return Decision(name, 0.7, "action beat in the paragraph")
        if last is None or last.paragraph < index - 1:
            before = paragraphs[index - 1] if index else None
            if before is not None and before.kind == Kind.TEXT:
                for m in reversed(self.mentions(before.start, before.end)):
                    name = self.most_recent(m.names)
                    if name not in addressed and _is_subject(self.text, m.start):
                        return Decision(name, 0.6, "acts in the paragraph before")
        turn = self.turn_rule(index, self.turns, addressed) if last is not None else None
        if turn is not None:
            return turn
        for _, name in reversed(self.recent[-_RECENT:]):
            if (last is None or name != last.speaker) and name not in addressed:
                return Decision(name, 0.3, "last character mentioned")
        return _NOBODY

    def turn_rule(self, index: int, turns: Sequence[_Turn], addressed: tuple[str, ...]) -> Decision | None:
        """Who speaks paragraph `index` by turn-taking after `turns` (the last one in conversation
        with it): the same speaker after a dropped line, the one addressed, or the one before."""
        last = turns[-1]
        if not last.speaker:
            return None
        if self.chapter.paragraphs[index].wide_gap and last.paragraph == index - 1 and last.speaker not in addressed:
            return Decision(last.speaker, 0.45, "same speaker after a dropped line")
        for name in last.addressed:
            if name != last.speaker and name not in addressed:
                return Decision(name, 0.6, "addressed in the previous line")
        scene = self.chapter.paragraphs[index].scene
        for turn in reversed(turns[:-1]):
            if self.chapter.paragraphs[turn.paragraph].scene != scene:
                break  # the other side of an exchange is never in another scene
            if turn.speaker and turn.speaker != last.speaker and turn.speaker not in addressed:
                return Decision(turn.speaker, 0.55, _TURN_TAKING)
        return None

    def _in_conversation(self, index: int, turns: Sequence[_Turn]) -> bool:
        """True when the last of `turns` is close enough to paragraph `index` to take turns with."""
        last = turns[-1].paragraph
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
    ) -> _Group:
        """Decisions in one pass: a tag naming one character is certain; the ranker decides the rest
        (the rules do when there is no ranker; their candidates' features still go to `examples`)."""
        decisions = []
        candidates: list[str] = []
        rows: list[np.ndarray | None] = []
        fixed: list[tuple[float, ...] | None] = [None] * len(quotes)
        for k, rule in enumerate(reading.rules):
            tag, (_, how) = reading.tags[k], reading.resolved[k]
            certain = tag and (how in (_NEW_NAME, _GROUP) or (how == "name" and len(self.tag_names(tag.subject)) == 1))
            candidates = candidates or ([] if certain else self.candidates(index, reading))
            if certain or not candidates or (ranker is None and examples is None):
                decisions.append(rule)
                rows.append(None)
                continue
            features = self.features(index, quotes, k, reading, candidates)
            rows.append(features)
            if examples is not None:
                examples.append(Example(self.quote_index + k, tuple(candidates), features))
            if ranker is None:
                decisions.append(rule)
                continue
            decisions.append(_ranked(ranker, rule, rule, candidates, features, ranker.probabilities(features)))
            fixed[k] = tuple((features[:, 2 : -len(HISTORY)] @ ranker.weights[2 : -len(HISTORY)]).tolist())
        decisions = [
            replace(d, tag=t.phrase) if t and t.phrase else d for d, t in zip(decisions, reading.tags, strict=True)
        ]
        return _Group(index, tuple(quotes), reading, tuple(candidates), tuple(rows), tuple(fixed), tuple(decisions))

    def candidates(self, index: int, reading: _Reading) -> list[str]:
        """Who may speak in paragraph `index`: tagged, recent speakers and whom they addressed,
        named nearby."""
        found: dict[str | None, None] = {}
        for rule in reading.rules:
            found[rule.speaker] = None
        for tag, (name, how) in zip(reading.tags, reading.resolved, strict=True):
            found[name] = None
            if tag and how == "name":
                found.update(dict.fromkeys(self.tag_names(tag.subject)))
        for turn in self.conversation(index, self.turns)[-4:]:
            found[turn.speaker] = None
            found.update(dict.fromkeys(turn.addressed))
        for m in reading.narration:
            found.update(dict.fromkeys(m.names))
        for name in self.recently_named()[:_CANDIDATES]:
            found[name] = None
        for m in self.next_mentions(index):
            found.update(dict.fromkeys(m.names))
        found.update(dict.fromkeys(self.participants()))
        found.pop(None, None)
        return list(found)  # type: ignore[arg-type]

    def conversation(self, index: int, history: Sequence[_Turn]) -> list[_Turn]:
        """The last few of `history` in the scene that paragraph `index` belongs to."""
        paragraphs = self.chapter.paragraphs
        scene = paragraphs[index].scene
        turns = []
        for turn in reversed(history[-4:]):
            if paragraphs[turn.paragraph].scene != scene or turn.paragraph < index - _TURN_WINDOW:
                break
            turns.append(turn)
        return turns[::-1]

    def recently_named(self) -> list[str]:
        """Distinct characters of the recent context, the latest first (kept until the context changes)."""
        state = (len(self.recent), self.recent[-1] if self.recent else None)
        if self._named[0] != state:
            self._named = (state, list(dict.fromkeys(name for _, name in reversed(self.recent[-_RECENT:]))))
        return self._named[1]

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
        self_tag = False
        for j, (tag, (_, how)) in enumerate(zip(reading.tags, reading.resolved, strict=True)):
            if tag is not None and how == "name":
                (own if j == k else para).update(self.tag_names(tag.subject))
            self_tag = self_tag or how == "first-person narrator"
        gender = reading.tag_genders[k]
        shared = len(own) > 1
        turns = self.conversation(index, self.turns)
        t1 = turns[-1] if turns else None
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
        if previous is not None and previous.kind == Kind.TEXT and not (t1 and t1.paragraph == index - 1):
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
            before, after = anchored.get(c, (0, 0))
            rows.append(
                (
                    *_rule_columns(rule, c),
                    c in own and not shared,
                    c in own and shared,
                    c in para,
                    gender is not None and g == gender,
                    gender is not None and g is not None and g != gender,
                    self_tag and c == self.narrator,
                    c in reading.addressed,
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
        base = np.array(rows, dtype=float)
        matching = base[:, _TAG_GENDER_COLUMN : _TAG_GENDER_COLUMN + 1]
        rows_array = np.hstack([base, matching * base[:, _GENDERED_COLUMNS], np.zeros((len(rows), len(HISTORY)))])
        offset = len(FEATURES) - len(HISTORY)
        history = self.history(index, turns, quote, k, gender)
        for row, c in enumerate(candidates):
            for column in history.get(c, ()):
                rows_array[row, offset + column] = 1.0
        return rows_array

    def history(
        self, index: int, turns: Sequence[_Turn], quote: Quote, k: int, gender: str | None
    ) -> dict[str, list[int]]:
        """The `HISTORY` features that hold for quote `k` of paragraph `index` after the conversation
        `turns`: for each candidate they hold for, their columns (indices into `HISTORY`)."""
        on: dict[str, list[int]] = {}
        if not turns:
            return on

        def hold(name: str, column: int, gendered: int | None = None) -> list[int]:
            columns = on.setdefault(name, [])
            columns.append(column)
            if gendered is not None and gender is not None and self.roster.gender(name) == gender:
                columns.append(gendered)
            return columns

        t1 = turns[-1]
        t2 = turns[-2] if len(turns) > 1 else None
        if t1.speaker:
            prev1 = hold(t1.speaker, _PREV1, _TAG_GENDER_PREV1)
            if quote.continues and k == 0:
                prev1.append(_CONTINUES_PREV1)
            if t1.paragraph == index - 1:
                prev1.append(_PREV1_ADJACENT)
        if t2 is not None and t2.speaker:
            prev2 = hold(t2.speaker, _PREV2, _TAG_GENDER_PREV2)
            if t1.paragraph == index - 1 and t2.paragraph == index - 2 and t1.speaker != t2.speaker:
                prev2.append(_PREV2_ALTERNATING)
        if len(turns) > 2 and turns[-3].speaker:
            hold(turns[-3].speaker, _PREV3, _TAG_GENDER_PREV3)
        for name in t1.addressed:
            hold(name, _VOCATIVE_PREV, _TAG_GENDER_VOCATIVE_PREV)
        return on

    def run(
        self,
        quotes: list[Quote],
        ranker: Ranker | None,
        examples: list | None,
        truth: Sequence[str | None] | None,
    ) -> list[Decision]:
        """Decisions for every quote: paragraph by paragraph in reading order, then each exchange
        decoded jointly (with a ranker)."""
        spans = []  # (paragraph, first quote, end quote)
        k = 0
        while k < len(quotes):
            end = k
            while end < len(quotes) and quotes[end].paragraph == quotes[k].paragraph:
                end += 1
            spans.append((quotes[k].paragraph, k, end))
            k = end
        self.quoted = {q.paragraph for q in quotes}
        tags = [self.tags(index, quotes[k:end]) for index, k, end in spans]
        self.anchors = [(index, self.certain(t)) for (index, _, _), t in zip(spans, tags, strict=True)]
        self.calls = [self.vocatives(quotes[k:end]) for _, k, end in spans]
        self.runs = _runs([index for index, _, _ in spans])
        groups: list[_Group] = []
        previous_index = -1
        for position, (index, k, end) in enumerate(spans):
            if index > previous_index + 1:
                para_start = self.chapter.paragraphs[previous_index + 1].start
                para_end = self.chapter.paragraphs[index - 1].end
                self.remember(self.mentions(para_start, para_end))
            self.quote_index, self.position = k, position
            previous = groups[-1].decisions[-1] if groups else None
            reading = self.read(index, quotes[k:end], tags[position], previous)
            group = self.decide(index, quotes[k:end], reading, ranker, examples)
            said = group.decisions
            if truth is not None:
                said = tuple(replace(d, speaker=truth[k + j] or d.speaker) for j, d in enumerate(said))
            self.commit(index, quotes[k:end], reading, said)
            groups.append(group)
            previous_index = index
        if ranker is not None:
            groups = self.decode_exchanges(groups, ranker)
        return [d for group in groups for d in group.decisions]

    def decode_exchanges(self, groups: list[_Group], ranker: Ranker) -> list[_Group]:
        """`groups` with each exchange (a run of quote paragraphs in conversation) decoded jointly
        where the first pass doubted a turn."""
        groups = list(groups)
        start = 0
        for position in range(1, len(groups) + 1):
            if position == len(groups) or not self._in_conversation(
                groups[position].paragraph, self.turns[position - 1 : position]
            ):
                # the first pass and the beam agree up to the first doubtful turn
                first = next((i for i in range(start, position) if _doubtful(groups[i])), position)
                if position - first > 1:
                    self.decode(groups, first, position, ranker)
                start = position
        return groups

    def decode(self, groups: list[_Group], start: int, end: int, ranker: Ranker) -> None:
        """Decide the exchange groups[start:end] jointly: a beam over who speaks each paragraph,
        scored by the ranker with the turn history of each hypothesis, anchored by its tags."""
        weights = ranker.weights.tolist()
        beam: list[tuple[float, tuple[_Turn, ...], tuple[str | None, ...]]] = [
            (0.0, tuple(self.turns[max(0, start - 8) : start]), ())
        ]
        for group in groups[start:end]:
            extended = []
            for score, turns, speakers in beam:
                if group.rows[0] is None:
                    speaker = group.decisions[0].speaker
                    options = [(speaker, self.anchor(group, turns, speaker, weights) if len(beam) > 1 else 0.0)]
                else:
                    logp = self.log_probabilities(group, 0, turns, weights)
                    top = sorted(range(len(logp)), key=logp.__getitem__, reverse=True)[:_BEAM]
                    options = [(group.candidates[c], logp[c]) for c in top if logp[c] > logp[top[0]] - _MARGIN]
                for speaker, gain in options:
                    turn = _Turn(group.paragraph, _taking_turns(speaker), group.reading.addressed)
                    extended.append((score + gain, (*turns[-7:], turn), (*speakers, speaker)))
            kept: dict[tuple[str | None, ...], tuple[float, tuple[_Turn, ...], tuple[str | None, ...]]] = {}
            extended.sort(key=lambda h: -h[0])
            for hypothesis in extended:
                if hypothesis[0] < extended[0][0] - _MARGIN:
                    break
                kept.setdefault(tuple(t.speaker for t in hypothesis[1][-3:]), hypothesis)
                if len(kept) == _BEAM:
                    break
            beam = list(kept.values())
        speakers = max(beam, key=lambda h: h[0])[2]
        turns = tuple(self.turns[max(0, start - 8) : start])
        changed = False
        for position, speaker in zip(range(start, end), speakers, strict=True):
            group = groups[position]
            decisions = list(group.decisions)
            before, changed = changed, speaker != decisions[0].speaker
            for k, row in enumerate(group.rows):
                if row is not None and (changed or before):
                    p = np.exp(self.log_probabilities(group, k, turns, weights))
                    best = group.candidates.index(speaker) if k == 0 else int(p.argmax())
                    rule = self.history_rule(group, k, turns)
                    ranked = _ranked(ranker, group.reading.rules[k], rule, group.candidates, row, p, best)
                    decisions[k] = replace(
                        decisions[k], speaker=ranked.speaker, confidence=ranked.confidence, reason=ranked.reason
                    )
            if changed or before:
                groups[position] = replace(group, decisions=tuple(decisions))
            turns = (*turns[-7:], _Turn(group.paragraph, _taking_turns(speaker), group.reading.addressed))

    def history_rule(self, group: _Group, k: int, turns: Sequence[_Turn]) -> Decision:
        """The rules' decision for quote `k` of `group` after `turns`: the first pass's, unless it
        came from turn-taking, then turn-taking over `turns`."""
        rule = group.reading.rules[k]
        if rule.reason not in _FROM_HISTORY:
            return rule
        if not turns or not self._in_conversation(group.paragraph, turns):
            return _NOBODY
        if rule.reason == _CONTINUES:
            return replace(rule, speaker=turns[-1].speaker)
        return self.turn_rule(group.paragraph, turns, group.reading.addressed) or _NOBODY

    def log_probabilities(self, group: _Group, k: int, turns: Sequence[_Turn], weights: list[float]) -> list[float]:
        """log P(candidate speaks quote `k` of `group`) after the turns `turns` (`weights`: the ranker's)."""
        conversation = self.conversation(group.paragraph, turns)
        history = self.history(group.paragraph, conversation, group.quotes[k], k, group.reading.tag_genders[k])
        bonus = _weighed(history, weights)
        rule = self.history_rule(group, k, turns)
        if rule.speaker is not None:
            bonus[rule.speaker] = bonus.get(rule.speaker, 0.0) + weights[0] + weights[1] * rule.confidence
        return _log_softmax(
            [fixed + bonus.get(c, 0.0) for fixed, c in zip(group.fixed[k], group.candidates, strict=True)]
        )

    def anchor(self, group: _Group, turns: Sequence[_Turn], speaker: str | None, weights: list[float]) -> float:
        """How well turn-taking after `turns` predicts the speaker a tag names (log probability
        from the history features alone, among the speakers of the conversation)."""
        conversation = self.conversation(group.paragraph, turns)
        names = [speaker, *(t.speaker for t in conversation), *(conversation[-1].addressed if conversation else ())]
        candidates = [n for n in dict.fromkeys(names) if n]
        if len(candidates) < 2:
            return 0.0
        bonus = _weighed(self.history(group.paragraph, conversation, group.quotes[0], 0, None), weights)
        return _log_softmax([bonus.get(c, 0.0) for c in candidates])[0]

    def anchored(self) -> dict[str, tuple[int, int]]:
        """For each character a tag names in the current run of consecutive quote paragraphs: how
        many turns before and after the current one its nearest such tag is (0: none)."""
        return self.around()[0]

    def participants(self) -> list[str]:
        """Who takes part in the current run of quote paragraphs: named by its tags or called by its quotes."""
        return self.around()[1]

    def around(self) -> tuple[dict[str, tuple[int, int]], list[str]]:
        """`anchored()` and `participants()`, computed once per paragraph."""
        here = self.position
        if self._around[0] != here:
            found: dict[str, list[int]] = {}
            called: dict[str, None] = {}
            start, end = self.runs[here]
            # nearest first, on each side, up to `_TURN_WINDOW` turns within the run of consecutive quote paragraphs
            for position in (
                *range(here - 1, max(start, here - _TURN_WINDOW) - 1, -1),
                *range(here + 1, min(end, here + _TURN_WINDOW + 1)),
            ):
                name = self.anchors[position][1]
                if name is not None:
                    slot = found.setdefault(name, [0, 0])
                    slot[position > here] = slot[position > here] or abs(position - here)
                called.update(dict.fromkeys(self.calls[position]))
            anchored = {name: (before, after) for name, (before, after) in found.items()}
            self._around = (self.position, (anchored, list(dict.fromkeys([*anchored, *called]))))
        return self._around[1]


def _taking_turns(speaker: str | None) -> str | None:
    """Who a turn counts as spoken by when later turns are worked out: nobody for a group, which
    takes no part in turn-taking."""
    return None if speaker == GROUP_SPEAKER else speaker


def _runs(paragraphs: list[int]) -> list[tuple[int, int]]:
    """For each of `paragraphs` (ascending indices), the positions (start, end) of the run of
    consecutive paragraphs it belongs to."""
    runs: list[tuple[int, int]] = []
    start = 0
    for position in range(1, len(paragraphs) + 1):
        if position == len(paragraphs) or paragraphs[position] != paragraphs[position - 1] + 1:
            runs.extend([(start, position)] * (position - start))
            start = position
    return runs


def _doubtful(group: _Group) -> bool:
    """True when the ranker decided the first quote of `group` with a rival within `_MARGIN`."""
    return group.rows[0] is not None and group.decisions[0].confidence < 1 / (1 + math.exp(-_MARGIN))


def _weighed(history: dict[str, list[int]], weights: list[float]) -> dict[str, float]:
    """The score the `HISTORY` features add to each candidate they hold for (`weights`: the ranker's)."""
    offset = len(weights) - len(HISTORY)
    return {name: sum(weights[offset + j] for j in columns) for name, columns in history.items()}


def _log_softmax(scores: list[float]) -> list[float]:
    """log of the softmax of `scores`."""
    top = max(scores)
    total = top + math.log(sum(math.exp(x - top) for x in scores))
    return [x - total for x in scores]


def _rule_columns(rule: Decision, candidate: str) -> tuple[bool, float]:
    """The `rule` and `rule_confidence` features of a candidate."""
    return rule.speaker == candidate, rule.confidence if rule.speaker == candidate else 0.0


def _ranked(
    ranker: Ranker,
    first: Decision,
    rule: Decision,
    candidates: Sequence[str],
    row: np.ndarray,
    p: np.ndarray,
    best: int | None = None,
) -> Decision:
    """The ranker's decision (candidate `best`, its argmax by default), explained by the rule that
    agrees with it or by its strongest features; kind from the first pass's rule `first`."""
    best = int(p.argmax()) if best is None else best
    reason = rule.reason if candidates[best] == rule.speaker else _strongest(ranker, row[best])
    return Decision(candidates[best], float(p[best]), reason, first.kind)


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
    truth: Sequence[str | None] | None = None,
) -> list[Decision]:
    """One decision per quote, in order: certain tags by rule, the rest by `ranker` (rules alone
    when None), each exchange decoded jointly. `examples`, when given, receives the ranker's
    candidates and features (training); `truth`, the speakers the context remembers instead of
    the decisions (training on the true turn history)."""
    return _Speakers(chapter, quotes, roster).run(quotes, ranker, examples, truth)
