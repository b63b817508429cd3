"""Naming the speaker of each quotation, paragraph by paragraph: tags, pronouns, action beats, vocatives
and turn-taking decide by rule; the ranker decides the rest; exchanges are then decoded jointly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from audiodrama.attribution.characters import Mention, Roster
from audiodrama.attribution.context import CONVERSATION_TURNS, RECENT, Context, Reading
from audiodrama.attribution.decisions import NOBODY, Decision, Example, Found, Rule, basis, taking_turns
from audiodrama.attribution.decoding import Group, decode_exchanges
from audiodrama.attribution.exchanges import Turn, runs
from audiodrama.attribution.features import FIXED_FEATURES, candidate_features, chosen_row, ranked
from audiodrama.attribution.quotes import Quote, gaps
from audiodrama.attribution.ranker import Ranker
from audiodrama.attribution.subjects import is_subject
from audiodrama.attribution.tags import Tag, action_beat, tag_after, tag_before
from audiodrama.text.chapter import Chapter, Kind

_CANDIDATES = 8
"""How many of the characters last mentioned are candidates."""
_TAG_WORDS = 10
"""More words than this after a paragraph's last quote are narration, not just its tag."""
_REMEMBERED = 0.5
"""A speaker decided less surely than this is not taken into the context later lines read (a
guess would mislead the pronouns and turns after it)."""


class Speakers(Context):
    """The paragraph-by-paragraph pass over a chapter's quotes, in the context it keeps."""

    def tags(self, index: int, quotes: list[Quote]) -> tuple[Tag | None, ...]:
        """The speech tag of each quote of paragraph `index`, if any."""
        para = self.chapter.paragraphs[index]
        spans = gaps(para.start, para.end, quotes)
        tags: list[Tag | None] = []
        for k, q in enumerate(quotes):
            after_end = quotes[k + 1].start if k + 1 < len(quotes) else para.end
            tag = tag_after(self.text, q.end, after_end, self.subject_at) if q.closed else None
            if tag is None:
                tag = tag_before(self.text, spans[k][0], q.start, self.subject_at, self.known_subject_at)
            if tag is None and k == 0 and not q.continues and self.introduced(index, q):
                # "... so she merely said:" closing the narration paragraph before; a bare
                # subject and verb only, for a long sentence's subject is too often another
                previous = self.chapter.paragraphs[index - 1]
                tag = tag_before(self.text, previous.start, previous.end, self.subject_at, self.known_subject_at)
                if tag is not None and tag.phrase is None:
                    tag = None
            if tag is None:
                tag = action_beat(self.text, spans[k][0], q.start)
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
    ) -> Reading:
        """What the rules see in one paragraph: tags, vocatives, narration mentions, their decisions."""
        para = self.chapter.paragraphs[index]
        spans = gaps(para.start, para.end, quotes)
        narration = [m for a, b in spans for m in self.mentions(a, b)]
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
        resolved: list[tuple[str | None, Found]] = []
        read_up_to = 0
        for tag in tags:
            if tag is None:
                resolved.append((None, Found.NOTHING))
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
                confidence = 0.95 if how is Found.NAME else 0.8
                reason = f"action beat: {tag.subject}" if tag.action else f"tag: {tag.verb} {tag.subject}"
                decisions.append(Decision(name, confidence, reason, kind))
            else:
                decisions.append(None)
        rules = tuple(d or _beside(decisions, k) or default for k, d in enumerate(decisions))
        return Reading(tags, tuple(resolved), addressed, tuple(narration), rules)

    def acts_after_speaking(self, index: int) -> bool:
        """True when paragraph `index` (with quotes) goes on narrating after its last quote, beyond a
        short tag ("she stopped talking as she saw the state he was in"): its speaker may well speak
        again next."""
        k = self.quote_index - 1
        if k < 0 or self.quotes[k].paragraph != index:
            return False
        return len(self.text[self.quotes[k].end : self.chapter.paragraphs[index].end].split()) > _TAG_WORDS

    def commit(self, index: int, quotes: list[Quote], reading: Reading, decisions: list[Decision]) -> None:
        """Take the paragraph's final decisions into the context later paragraphs read (its speaker
        only when decided at least `_REMEMBERED` surely)."""
        self.remember(list(reading.narration))
        speaker = taking_turns(decisions[0].speaker)
        if speaker and decisions[0].confidence >= _REMEMBERED:
            self.recent.append((quotes[0].start, speaker))
            self.last_seen[speaker] = quotes[0].start
            self.spoke[speaker] += 1
        self.turns.append(Turn(index, speaker, reading.addressed))

    def default_speaker(
        self, index: int, quotes: list[Quote], narration: list[Mention], addressed: tuple[str, ...], previous
    ) -> Decision:
        """The speaker of a paragraph without a usable tag."""
        paragraphs = self.chapter.paragraphs
        last = self.turns[-1] if self.turns and self.in_conversation(index, self.turns) else None
        if quotes[0].continues and previous is not None and previous.speaker:
            return Decision.by_rule(Rule.CONTINUES, previous.speaker, previous.confidence)
        for m in narration:
            name = self.most_recent(m.names)
            if name not in addressed and is_subject(self.text, m.start):
                return Decision.by_rule(Rule.ACTION_BEAT, name, 0.7)
        absent = self.absent()
        if last is None or last.paragraph < index - 1:
            before = paragraphs[index - 1] if index else None
            if before is not None and before.kind == Kind.TEXT:
                for m in reversed(self.mentions(before.start, before.end)):
                    name = self.most_recent(m.names)
                    if name not in addressed and name not in absent and is_subject(self.text, m.start):
                        return Decision.by_rule(Rule.ACTS_BEFORE, name, 0.6)
        turn = self.turn_rule(index, self.turns, addressed) if last is not None else None
        if turn is not None:
            return turn
        for _, name in reversed(self.recent[-RECENT:]):
            if (last is None or name != last.speaker) and name not in addressed and name not in absent:
                return Decision.by_rule(Rule.LAST_MENTIONED, name, 0.3)
        return NOBODY

    def decide(
        self, index: int, quotes: list[Quote], reading: Reading, ranker: Ranker | None, examples: list | None
    ) -> Group:
        """Decisions in one pass: a tag naming one character is certain; the ranker decides the rest
        (the rules do when there is no ranker; their candidates' features still go to `examples`)."""
        decisions = []
        candidates: list[str] = []
        rows: list[np.ndarray | None] = []
        fixed: list[tuple[float, ...] | None] = [None] * len(quotes)
        for k, rule in enumerate(reading.rules):
            tag, (_, how) = reading.tags[k], reading.resolved[k]
            certain = tag and (how in (Found.NEW_NAME, Found.GROUP)
                               or (how is Found.NAME and len(self.tag_names(tag.subject)) == 1))
            candidates = candidates or ([] if certain else self.candidates(index, reading))
            if certain or not candidates or (ranker is None and examples is None):
                decisions.append(rule)
                rows.append(None)
                continue
            features = candidate_features(self, index, quotes, k, reading, candidates)
            rows.append(features)
            if examples is not None:
                examples.append(Example(self.quote_index + k, tuple(candidates), features))
            if ranker is None:
                decisions.append(rule)
                continue
            decisions.append(ranked(ranker, rule, rule, candidates, features, ranker.probabilities(features)))
            fixed[k] = tuple((features[:, FIXED_FEATURES] @ ranker.weights[FIXED_FEATURES]).tolist())
        decisions = [
            replace(d, tag=t.phrase if t and t.phrase else d.tag,
                    basis=basis(how, d.rule, row is not None and ranker is not None))
            for d, t, (_, how), row in zip(decisions, reading.tags, reading.resolved, rows, strict=True)
        ]
        return Group(index, tuple(quotes), reading, tuple(candidates), tuple(rows), tuple(fixed), tuple(decisions))

    def candidates(self, index: int, reading: Reading) -> list[str]:
        """Who may speak in paragraph `index`: tagged, recent speakers and whom they addressed,
        named nearby."""
        found: dict[str | None, None] = {}
        for rule in reading.rules:
            found[rule.speaker] = None
        for tag, (name, how) in zip(reading.tags, reading.resolved, strict=True):
            found[name] = None
            if tag and how is Found.NAME:
                found.update(dict.fromkeys(self.tag_names(tag.subject)))
        for turn in self.conversation(index, self.turns)[-CONVERSATION_TURNS:]:
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
        named = [self.named_in(quotes[k:end]) for _, k, end in spans]
        self.calls = [called for called, _ in named]
        self.talk = [talked for _, talked in named]
        self.runs = runs([index for index, _, _ in spans])
        groups: list[Group] = []
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
        if ranker is None:
            return [d for group in groups for d in group.decisions]
        return [ranker.calibrated(d, chosen_row(group.candidates, row, d.speaker))
                for group in decode_exchanges(self, groups, ranker) for d, row in zip(group.decisions, group.rows,
                                                                                     strict=True)]


def _beside(decisions: list[Decision | None], k: int) -> Decision | None:
    """For a quote without a tag of its own, the decision of the nearest tagged quote of its
    paragraph, before it ("Yes," said Sasuke, "I will.") else after it, as the same speaker's."""
    own = next((d for d in (*decisions[k - 1 :: -1][:k], *decisions[k + 1 :]) if d), None)
    return own and Decision(own.speaker, own.confidence - 0.1, f"same paragraph as {own.reason}", own.kind)


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
    return Speakers(chapter, quotes, roster).run(quotes, ranker, examples, truth)
