"""Decoding whole exchanges: a beam over who speaks each turn of a run of quote paragraphs, scored by
the ranker with each hypothesis's own turn history and anchored by the turns' tags."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from audiodrama.attribution.context import Reading
from audiodrama.attribution.decisions import FROM_HISTORY, NOBODY, Decision, Rule, taking_turns
from audiodrama.attribution.exchanges import Turn
from audiodrama.attribution.features import history_features, ranked, weighed
from audiodrama.attribution.quotes import Quote
from audiodrama.attribution.ranker import FEATURES, Ranker

if TYPE_CHECKING:
    from audiodrama.attribution.context import Context

_BEAM = 4
"""Hypotheses kept when an exchange is decoded jointly."""
MARGIN = math.log(20)
"""A hypothesis this much less likely (log) than the best is dropped."""
_CARRIED_TURNS = 8
"""Turns of history each hypothesis carries (the features look back at most this far)."""
_DISTINCT_TURNS = 3
"""Hypotheses whose last this-many speakers agree are one: only the best of them is kept."""
_RULE, _RULE_CONFIDENCE = FEATURES.index("rule"), FEATURES.index("rule_confidence")
"""Where the rules' features sit among the ranker's weights."""


@dataclass(frozen=True)
class Group:
    """A paragraph with quotes after the first pass, kept for decoding its exchange jointly."""

    paragraph: int
    """Index of the paragraph."""
    quotes: tuple[Quote, ...]
    """Its quotes."""
    reading: Reading
    """What the rules found in it."""
    candidates: tuple[str, ...]
    """Who may speak its ranked quotes."""
    rows: tuple[np.ndarray | None, ...]
    """Each quote's candidate features, None where a tag settles it."""
    fixed: tuple[tuple[float, ...] | None, ...]
    """Each quote's candidate scores from the features that are neither rule nor `HISTORY` (with a ranker)."""
    decisions: tuple[Decision, ...]
    """Each quote's decision."""


def decode_exchanges(ctx: Context, groups: list[Group], ranker: Ranker) -> list[Group]:
    """`groups` with each exchange (a run of quote paragraphs in conversation) decoded jointly
    where the first pass doubted a turn."""
    groups = list(groups)
    start = 0
    for position in range(1, len(groups) + 1):
        if position == len(groups) or not ctx.in_conversation(
            groups[position].paragraph, ctx.turns[position - 1 : position]
        ):
            # the first pass and the beam agree up to the first doubtful turn
            first = next((i for i in range(start, position) if doubtful(groups[i])), position)
            if position - first > 1:
                decode(ctx, groups, first, position, ranker)
            start = position
    return groups


def decode(ctx: Context, groups: list[Group], start: int, end: int, ranker: Ranker) -> None:
    """Decide the exchange groups[start:end] jointly: a beam over who speaks each paragraph,
    scored by the ranker with the turn history of each hypothesis, anchored by its tags."""
    weights = ranker.weights.tolist()
    beam: list[tuple[float, tuple[Turn, ...], tuple[str | None, ...]]] = [
        (0.0, tuple(ctx.turns[max(0, start - _CARRIED_TURNS) : start]), ())
    ]
    for group in groups[start:end]:
        extended = []
        for score, turns, speakers in beam:
            if group.rows[0] is None:
                speaker = group.decisions[0].speaker
                options = [(speaker, anchor(ctx, group, turns, speaker, weights) if len(beam) > 1 else 0.0)]
            else:
                logp = log_probabilities(ctx, group, 0, turns, weights)
                top = sorted(range(len(logp)), key=logp.__getitem__, reverse=True)[:_BEAM]
                options = [(group.candidates[c], logp[c]) for c in top if logp[c] > logp[top[0]] - MARGIN]
            for speaker, gain in options:
                turn = Turn(group.paragraph, taking_turns(speaker), group.reading.addressed)
                extended.append((score + gain, (*turns[1 - _CARRIED_TURNS :], turn), (*speakers, speaker)))
        kept: dict[tuple[str | None, ...], tuple[float, tuple[Turn, ...], tuple[str | None, ...]]] = {}
        extended.sort(key=lambda h: -h[0])
        for hypothesis in extended:
            if hypothesis[0] < extended[0][0] - MARGIN:
                break
            kept.setdefault(tuple(t.speaker for t in hypothesis[1][-_DISTINCT_TURNS:]), hypothesis)
            if len(kept) == _BEAM:
                break
        beam = list(kept.values())
    speakers = max(beam, key=lambda h: h[0])[2]
    turns = tuple(ctx.turns[max(0, start - _CARRIED_TURNS) : start])
    changed = False
    for position, speaker in zip(range(start, end), speakers, strict=True):
        group = groups[position]
        decisions = list(group.decisions)
        before, changed = changed, speaker != decisions[0].speaker
        for k, row in enumerate(group.rows):
            if row is not None and (changed or before):
                p = np.exp(log_probabilities(ctx, group, k, turns, weights))
                best = group.candidates.index(speaker) if k == 0 else int(p.argmax())
                rule = history_rule(ctx, group, k, turns)
                decided = ranked(ranker, group.reading.rules[k], rule, group.candidates, row, p, best)
                decisions[k] = replace(
                    decisions[k], speaker=decided.speaker, confidence=decided.confidence, reason=decided.reason,
                    rule=decided.rule,
                )
        if changed or before:
            groups[position] = replace(group, decisions=tuple(decisions))
        turns = (*turns[1 - _CARRIED_TURNS :], Turn(group.paragraph, taking_turns(speaker), group.reading.addressed))


def history_rule(ctx: Context, group: Group, k: int, turns: Sequence[Turn]) -> Decision:
    """The rules' decision for quote `k` of `group` after `turns`: the first pass's, unless it
    came from turn-taking, then turn-taking over `turns`."""
    rule = group.reading.rules[k]
    if rule.rule not in FROM_HISTORY:
        return rule
    if not turns or not ctx.in_conversation(group.paragraph, turns):
        return NOBODY
    if rule.rule is Rule.CONTINUES:
        return replace(rule, speaker=turns[-1].speaker)
    return ctx.turn_rule(group.paragraph, turns, group.reading.addressed) or NOBODY


def log_probabilities(ctx: Context, group: Group, k: int, turns: Sequence[Turn], weights: list[float]) -> list[float]:
    """log P(candidate speaks quote `k` of `group`) after the turns `turns` (`weights`: the ranker's)."""
    conversation = ctx.conversation(group.paragraph, turns)
    history = history_features(ctx, group.paragraph, conversation, group.quotes[k], k, group.reading.tag_genders[k])
    bonus = weighed(history, weights)
    rule = history_rule(ctx, group, k, turns)
    if rule.speaker is not None:
        chosen = weights[_RULE] + weights[_RULE_CONFIDENCE] * rule.confidence
        bonus[rule.speaker] = bonus.get(rule.speaker, 0.0) + chosen
    return log_softmax(
        [fixed + bonus.get(c, 0.0) for fixed, c in zip(group.fixed[k], group.candidates, strict=True)]
    )


def anchor(ctx: Context, group: Group, turns: Sequence[Turn], speaker: str | None, weights: list[float]) -> float:
    """How well turn-taking after `turns` predicts the speaker a tag names (log probability
    from the history features alone, among the speakers of the conversation)."""
    conversation = ctx.conversation(group.paragraph, turns)
    names = [speaker, *(t.speaker for t in conversation), *(conversation[-1].addressed if conversation else ())]
    candidates = [n for n in dict.fromkeys(names) if n]
    if len(candidates) < 2:
        return 0.0
    bonus = weighed(history_features(ctx, group.paragraph, conversation, group.quotes[0], 0, None), weights)
    return log_softmax([bonus.get(c, 0.0) for c in candidates])[0]


def doubtful(group: Group) -> bool:
    """True when the ranker decided the first quote of `group` with a rival within `MARGIN`."""
    return group.rows[0] is not None and group.decisions[0].confidence < 1 / (1 + math.exp(-MARGIN))


def log_softmax(scores: list[float]) -> list[float]:
    """log of the softmax of `scores`."""
    top = max(scores)
    total = top + math.log(sum(math.exp(x - top) for x in scores))
    return [x - total for x in scores]
