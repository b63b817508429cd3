"""The context a reader keeps while reading a chapter: who was mentioned lately, the turns of the
conversation, whom the quotes address, what a tag's subject refers to."""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from audiodrama.attribution.characters import Mention, Roster, first_person_narrator
from audiodrama.attribution.decisions import GROUP_SPEAKER, NAMING, Decision, Found, Rule
from audiodrama.attribution.discovery import proper_name_at
from audiodrama.attribution.epithets import Epithets
from audiodrama.attribution.exchanges import Around, Turn, is_vocative
from audiodrama.attribution.quotes import Quote
from audiodrama.attribution.tags import DESCRIPTOR, GENDERED_NOUNS, GROUP, PAIR, PRONOUNS, Tag, tag_gender
from audiodrama.attribution.titles import title_gender
from audiodrama.text.chapter import Chapter

RECENT = 40
"""How many of the latest mentions the context keeps at hand."""
TURN_WINDOW = 8
"""How many paragraphs back a quote paragraph still counts as a turn of the same exchange."""
CONVERSATION_TURNS = 4
"""How many of the latest turns of a scene count as its conversation."""
_AT_HAND = 1500
"""How near (characters) another character of the gender must have been named for a pronoun tag
to pass over the one who spoke the turn before."""
_ARTICLE = re.compile(r"(?:the|a|an)\s+", re.IGNORECASE)
"""An article before a cast alias in a tag ("said the March Hare")."""
_TALKED_ABOUT_TURNS = 2
"""In how many turns of a run a character must be talked about to count as absent from it (one
mention may be a call without its comma: "Whatever you say kit")."""
_MY_WORDS = re.compile(r"\s+(?:[a-z]+\s+)?(?:reply|answer|remark|retort|rejoinder|response|comment|exclamation)\b")
"""What makes "my" the subject of a tag: the words it owns ("was my reply", "was my calm retort")."""


@dataclass(frozen=True)
class Reading:
    """What the rules find in one paragraph with quotes."""

    tags: tuple[Tag | None, ...]
    """Each quote's speech tag, if any."""
    resolved: tuple[tuple[str | None, Found], ...]
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
        pointing = [tag_gender(tag) if tag is not None and how not in NAMING
                    else _NOT_POINTING for tag, (_, how) in zip(self.tags, self.resolved, strict=True)]
        later: list[str | None] = [None] * (len(pointing) + 1)  # first gender from each quote on
        for k in range(len(pointing) - 1, -1, -1):
            later[k] = pointing[k] if pointing[k] not in (None, _NOT_POINTING) else later[k + 1]
        return tuple(later[0] if own is _NOT_POINTING else own if own is not None else later[k + 1]
                     for k, own in enumerate(pointing))


_NOT_POINTING = object()
"""Marks a quote without a pronoun or descriptor tag."""


class Context:
    """Walks the chapter in reading order keeping the context a reader keeps."""

    def __init__(self, chapter: Chapter, quotes: list[Quote], roster: Roster) -> None:
        self.chapter = chapter
        self.text = chapter.text
        self.roster = roster
        self.recent: list[tuple[int, str]] = []
        self.turns: list[Turn] = []
        self.narrator = first_person_narrator(chapter, quotes, roster)
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
        self._around: tuple[int, Around] = (-1, Around({}, [], Counter()))
        """`around()` and the position it was computed for."""
        self.runs: list[tuple[int, int]] = []
        """For each paragraph with quotes, the positions (start, end) of its run of consecutive ones."""
        self.quoted: set[int] = set()
        """Paragraphs with quotes."""
        self.calls: list[tuple[str, ...]] = []
        """Whom the quotes of each paragraph with quotes address by name (shared names resolved
        by the context at the start)."""
        self.talk: list[tuple[str, ...]] = []
        """Whom the quotes of each paragraph with quotes name without calling them (talk about)."""

    def mentions(self, start: int, end: int) -> list[Mention]:
        """The character mentions within text[start:end], in order."""
        i = bisect.bisect_left(self.mention_starts, start)
        j = bisect.bisect_left(self.mention_starts, end, i)
        return [m for m in self.all_mentions[i:j] if m.end <= end]

    def subject_at(self, pos: int, limit: int, new_names: bool = True) -> tuple[int, int] | None:
        """The span of a name or alias (after an article too: "the March Hare"), descriptor or subject
        pronoun starting at `pos`, else (with `new_names`) of a proper name the roster lacks ("said Mr. Hobbs")."""
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
        return proper_name_at(self.text, pos, limit) if new_names else None

    def known_subject_at(self, pos: int, limit: int) -> tuple[int, int] | None:
        """`subject_at` without the proper names the roster lacks."""
        return self.subject_at(pos, limit, new_names=False)

    def resolve(self, tag: Tag, avoid: str | None) -> tuple[str | None, Found]:
        """The character a tag's subject refers to, and how it was found; a pronoun or descriptor
        avoids `avoid` (who spoke the turn before) when someone else of that gender is at hand."""
        word = tag.subject.lower()
        if (GROUP.fullmatch(tag.subject) or PAIR.fullmatch(tag.subject)) and not self.roster.lookup(tag.subject):
            return GROUP_SPEAKER, Found.GROUP
        if word in PRONOUNS:
            gender = PRONOUNS[word]
            if gender == "self":
                return self.narrator, Found.NARRATOR
            return self.by_gender(gender, tag.start, avoid), Found.PRONOUN
        names = self.tag_names(tag.subject)
        if names:
            name = self.most_recent(names)
            linked = self.epithets.discovered(name, tag.subject, tag.start, tag_gender(tag))
            return (linked, Found.DESCRIPTOR) if linked else (name, Found.NAME)
        descriptor = DESCRIPTOR.match(tag.subject)
        if descriptor is None:
            if not proper_name_at(tag.subject, 0, len(tag.subject)):
                return None, Found.NOTHING
            return " ".join(tag.subject.split()), Found.NEW_NAME
        gender = GENDERED_NOUNS[descriptor.group(1).lower()]
        possessor = PRONOUNS.get(tag.subject.split()[0].lower())
        owner = self.by_gender(possessor, tag.start, None) if possessor in ("male", "female") else None
        linked = self.epithets.described(tag.subject, tag.start, gender, avoid, owner)
        if linked is not None:
            return linked, Found.DESCRIPTOR
        if possessor == gender:
            avoid = self.by_gender(possessor, tag.start, None)
        return self.by_gender(gender, tag.start, avoid), Found.DESCRIPTOR

    @functools.cached_property
    def epithets(self) -> Epithets:
        """What the chapter's descriptors stand for, learnt on first use."""
        return Epithets(self.text, self.roster, self.all_mentions)

    def tag_names(self, subject: str) -> tuple[str, ...]:
        """The characters a tag's subject names: by name or alias, else (a proper name the roster
        lacks) by one of its words or that word without a final s ("Master Charles Bates" =
        "Charley Bates", "Mrs. Maylies" = "Mrs. Maylie"), else by a misprint of one ("Mr. Browlow"),
        of the gender its title says."""
        names = self.roster.lookup(subject) or self.roster.titled(subject)  # "said Mademoiselle"
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
        """Of several candidates sharing an alias: the one the cast calls so (`Roster.called_so`)
        unless it was left in an earlier scene and another is named in this one; else the one
        mentioned last, else the one mentioned most."""
        if len(names) <= 1:
            return names[0] if names else None
        called = self.roster.called_so(names)
        since = -1 if called is None else self.scene_start()
        latest = next((n for pos, n in reversed(self.recent[-RECENT:]) if n in names and pos >= since), None)
        if called is None:
            return latest or max(names, key=self.mentioned.__getitem__)
        left_behind = self.last_seen.get(called, since) < since
        return latest if latest is not None and left_behind else called

    def scene_start(self) -> int:
        """Offset where the scene of the latest mention begins."""
        now = self.recent[-1][0] if self.recent else 0
        starts = self.chapter.scene_starts
        return starts[max(0, bisect.bisect_right(starts, now) - 1)] if starts else 0

    def by_gender(self, gender: str, before: int, avoid: str | None) -> str | None:
        """The most recently mentioned character of `gender` (mentions before offset `before`),
        other than `avoid` unless nobody else fits who was named within `_AT_HAND` characters."""
        matching: dict[str, int] = {}
        unknown: dict[str, int] = {}
        for pos, name in reversed(self.recent[-RECENT:]):
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

    def recently_named(self) -> list[str]:
        """Distinct characters of the recent context, the latest first (kept until the context changes)."""
        state = (len(self.recent), self.recent[-1] if self.recent else None)
        if self._named[0] != state:
            self._named = (state, list(dict.fromkeys(name for _, name in reversed(self.recent[-RECENT:]))))
        return self._named[1]

    def next_mentions(self, index: int) -> list[Mention]:
        """The mentions of the paragraph after `index`."""
        if index + 1 >= len(self.chapter.paragraphs):
            return []
        after = self.chapter.paragraphs[index + 1]
        return self.mentions(after.start, after.end)

    def conversation(self, index: int, history: Sequence[Turn]) -> list[Turn]:
        """The last few of `history` in the scene that paragraph `index` belongs to."""
        paragraphs = self.chapter.paragraphs
        scene = paragraphs[index].scene
        turns = []
        for turn in reversed(history[-CONVERSATION_TURNS:]):
            if paragraphs[turn.paragraph].scene != scene or turn.paragraph < index - TURN_WINDOW:
                break
            turns.append(turn)
        return turns[::-1]

    def in_conversation(self, index: int, turns: Sequence[Turn]) -> bool:
        """True when the last of `turns` is close enough to paragraph `index` to take turns with."""
        last = turns[-1].paragraph
        paragraphs = self.chapter.paragraphs
        if paragraphs[last].scene != paragraphs[index].scene:
            return False
        return index - last <= 2

    def turn_rule(self, index: int, turns: Sequence[Turn], addressed: tuple[str, ...]) -> Decision | None:
        """Who speaks paragraph `index` by turn-taking after `turns` (the last one in conversation
        with it): the same speaker after a dropped line, the one addressed, or the one before."""
        last = turns[-1]
        if not last.speaker:
            return None
        if self.chapter.paragraphs[index].wide_gap and last.paragraph == index - 1 and last.speaker not in addressed:
            return Decision.by_rule(Rule.DROPPED_LINE, last.speaker, 0.45)
        for name in last.addressed:
            if name != last.speaker and name not in addressed:
                return Decision.by_rule(Rule.ADDRESSED, name, 0.6)
        scene = self.chapter.paragraphs[index].scene
        for turn in reversed(turns[:-1]):
            if self.chapter.paragraphs[turn.paragraph].scene != scene:
                break  # the other side of an exchange is never in another scene
            if turn.speaker and turn.speaker != last.speaker and turn.speaker not in addressed:
                return Decision.by_rule(Rule.TURN_TAKING, turn.speaker, 0.55)
        return None

    def vocatives(self, quotes: list[Quote]) -> tuple[str, ...]:
        """Characters the quotes address by name ("Sakura, stop!", "..., my dear Jane?")."""
        return self.named_in(quotes)[0]

    def named_in(self, quotes: list[Quote]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Characters named inside the quotes: those addressed (vocatives), and those only talked
        about ("Harriet never writes"), each in order of first naming."""
        called: dict[str, None] = {}
        talked: dict[str, None] = {}
        for q in quotes:
            for m in self.mentions(q.inner_start, q.inner_end):
                (called if is_vocative(self.text, m, q) else talked)[self.most_recent(m.names)] = None
        return tuple(called), tuple(talked)

    def anchored(self) -> dict[str, tuple[int, int]]:
        """For each character a tag names in the current run of consecutive quote paragraphs: how
        many turns before and after the current one its nearest such tag is (0: none)."""
        return self.around().anchored

    def participants(self) -> list[str]:
        """Who takes part in the current run of quote paragraphs: named by its tags or called by its quotes."""
        return self.around().participants

    def absent(self) -> set[str]:
        """Who is unlikely to speak the current turn though named before it: characters the run's
        other turns talk about again and again (`_TALKED_ABOUT_TURNS`) and no tag names (being
        mentioned is not being present), and the one a tag names as the next turn's speaker (turns
        alternate)."""
        around = self.around()
        return {name for name, turns in around.talked.items()
                if turns >= _TALKED_ABOUT_TURNS and name not in around.anchored} | {
            name for name, (_, after) in around.anchored.items() if after == 1}

    def around(self) -> Around:
        """Who the current run of quote paragraphs tags, calls and talks about (within
        `TURN_WINDOW` turns on each side), computed once per paragraph."""
        here = self.position
        if self._around[0] != here:
            found: dict[str, list[int]] = {}
            called: dict[str, None] = {}
            talked: Counter[str] = Counter()
            start, end = self.runs[here]
            # nearest first, on each side, up to `TURN_WINDOW` turns within the run of consecutive quote paragraphs
            for position in (
                *range(here - 1, max(start, here - TURN_WINDOW) - 1, -1),
                *range(here + 1, min(end, here + TURN_WINDOW + 1)),
            ):
                name = self.anchors[position][1]
                if name is not None:
                    slot = found.setdefault(name, [0, 0])
                    slot[position > here] = slot[position > here] or abs(position - here)
                called.update(dict.fromkeys(self.calls[position]))
                talked.update(self.talk[position])
            anchored = {name: (before, after) for name, (before, after) in found.items()}
            self._around = (self.position, Around(anchored, list(dict.fromkeys([*anchored, *called])), talked))
        return self._around[1]
