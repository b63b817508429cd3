"""The ranker's features of each candidate speaker of a quotation, built by name in the ranker's order."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from audiodrama.attribution.context import Reading
from audiodrama.attribution.decisions import Decision, Found
from audiodrama.attribution.exchanges import Turn, is_vocative
from audiodrama.attribution.quotes import Quote
from audiodrama.attribution.ranker import BASE, FEATURES, GENDERED, HISTORY, Ranker
from audiodrama.attribution.subjects import is_subject
from audiodrama.text.chapter import Kind

if TYPE_CHECKING:
    from audiodrama.attribution.context import Context

_FAR = math.log(20000)
"""Log distance (characters) at which the distance feature saturates."""
RULE_FEATURES = ("rule", "rule_confidence")
"""The features that say what the hand-written rules chose: scored apart when an exchange is decoded."""
_GENDERED_COLUMNS = [BASE.index(name) for name in GENDERED]
"""Where the features `GENDERED` repeats sit in `BASE`."""
_TAG_GENDER_COLUMN = BASE.index("tag_gender")
"""Where the tag-gender feature sits in `BASE`: the gendered features are the others times it."""
_HISTORY_COLUMNS = {name: FEATURES.index(name) for name in HISTORY}
"""Where each `HISTORY` feature sits among `FEATURES`."""
FIXED_FEATURES = slice(FEATURES.index(RULE_FEATURES[-1]) + 1, len(FEATURES) - len(HISTORY))
"""The features scored once per quote: neither the rules' (first) nor the turn history's (last)."""


def candidate_features(ctx: Context, index: int, quotes: list[Quote], k: int, reading: Reading,
                       candidates: list[str]) -> np.ndarray:
    """One row of `FEATURES` per candidate speaker of quote `k` of paragraph `index`."""
    text, quote, rule = ctx.text, quotes[k], reading.rules[k]
    own, para = set(), set()
    self_tag = False
    for j, (tag, (_, how)) in enumerate(zip(reading.tags, reading.resolved, strict=True)):
        if tag is not None and how is Found.NAME:
            (own if j == k else para).update(ctx.tag_names(tag.subject))
        self_tag = self_tag or how is Found.NARRATOR
    gender = reading.tag_genders[k]
    shared = len(own) > 1
    turns = ctx.conversation(index, ctx.turns)
    t1 = turns[-1] if turns else None
    in_quote = {
        name
        for q in quotes
        for m in ctx.mentions(q.inner_start, q.inner_end)
        if not is_vocative(text, m, q)
        for name in m.names
    }
    before = [m for m in reading.narration if m.end <= quote.start]
    subjects = {n for m in before if is_subject(text, m.start) for n in m.names}
    named_before = {n for m in before for n in m.names}
    named_after = {n for m in reading.narration if m.start >= quote.end for n in m.names}
    previous = ctx.chapter.paragraphs[index - 1] if index else None
    previous_subjects = set()
    if previous is not None and previous.kind == Kind.TEXT and not (t1 and t1.paragraph == index - 1):
        previous_subjects = {
            n for m in ctx.mentions(previous.start, previous.end) if is_subject(text, m.start) for n in m.names
        }
    next_named = {n for m in ctx.next_mentions(index) for n in m.names}
    ranks = {name: r for r, name in enumerate(ctx.recently_named())}
    around = ctx.around()
    anchored = around.anchored
    said = max(1, len(ctx.turns))
    rows = []
    for c in candidates:
        g = ctx.roster.gender(c)
        before, after = anchored.get(c, (0, 0))
        chosen, chosen_confidence = rule_columns(rule, c)
        values = {
            "rule": chosen,
            "rule_confidence": chosen_confidence,
            "tag_name": c in own and not shared,
            "tag_name_shared": c in own and shared,
            "para_tag_name": c in para,
            "tag_gender": gender is not None and g == gender,
            "tag_gender_other": gender is not None and g is not None and g != gender,
            "tag_narrator": self_tag and c == ctx.narrator,
            "vocative_here": c in reading.addressed,
            "in_quote": c in in_quote and c not in reading.addressed,
            "subject_before": c in subjects,
            "mention_before": c in named_before,
            "mention_after": c in named_after,
            "prev_para_subject": c in previous_subjects,
            "next_para": c in next_named,
            "recency": 1.0 / (1 + ranks[c]) if c in ranks else 0.0,
            "distance": min(1.0, math.log1p(quote.start - ctx.last_seen[c]) / _FAR) if c in ctx.last_seen else 1.0,
            "speaker_share": ctx.spoke[c] / said,
            "mentions": math.log1p(ctx.mentioned[c]) / 5,
            "narrator": c == ctx.narrator,
            "tagged_even_before": before > 0 and before % 2 == 0,
            "tagged_odd_before": before % 2 == 1,
            "tagged_even_after": after > 0 and after % 2 == 0,
            "tagged_odd_after": after % 2 == 1,
            "tagged_in_exchange": c in anchored,
            "talked_about": min(3, around.talked[c]) / 3,
            "talked_about_only": c in around.talked and c not in anchored,
            "outsider": len(anchored) > 1 and c not in anchored,
        }
        rows.append([values[name] for name in BASE])
    base = np.array(rows, dtype=float)
    matching = base[:, _TAG_GENDER_COLUMN : _TAG_GENDER_COLUMN + 1]
    rows_array = np.hstack([base, matching * base[:, _GENDERED_COLUMNS], np.zeros((len(rows), len(HISTORY)))])
    history = history_features(ctx, index, turns, quote, k, gender)
    for row, c in enumerate(candidates):
        for name in history.get(c, ()):
            rows_array[row, _HISTORY_COLUMNS[name]] = 1.0
    return rows_array


def history_features(
    ctx: Context, index: int, turns: Sequence[Turn], quote: Quote, k: int, gender: str | None
) -> dict[str, list[str]]:
    """The `HISTORY` features that hold for quote `k` of paragraph `index` after the conversation
    `turns`: for each candidate they hold for, their names."""
    on: dict[str, list[str]] = {}
    if not turns:
        return on

    def hold(name: str, feature: str) -> list[str]:
        features = on.setdefault(name, [])
        features.append(feature)
        if gender is not None and ctx.roster.gender(name) == gender:
            features.append(f"tag_gender_{feature}")
        return features

    t1 = turns[-1]
    t2 = turns[-2] if len(turns) > 1 else None
    if t1.speaker:
        prev1 = hold(t1.speaker, "prev1")
        if quote.continues and k == 0:
            prev1.append("continues")
        if t1.paragraph == index - 1:
            prev1.append("prev1_adjacent")
    if t2 is not None and t2.speaker:
        prev2 = hold(t2.speaker, "prev2")
        if t1.paragraph == index - 1 and t2.paragraph == index - 2 and t1.speaker != t2.speaker:
            prev2.append("prev2_alternating")
    if len(turns) > 2 and turns[-3].speaker:
        hold(turns[-3].speaker, "prev3")
    for name in t1.addressed:
        hold(name, "vocative_prev")
    return on


def chosen_row(candidates: Sequence[str], rows: np.ndarray | None, speaker: str | None) -> np.ndarray | None:
    """The features of the candidate chosen (`speaker`) among `candidates` (`rows`: theirs), when the ranker chose."""
    return rows[candidates.index(speaker)] if rows is not None and speaker in candidates else None


def rule_columns(rule: Decision, candidate: str) -> tuple[bool, float]:
    """The `rule` and `rule_confidence` features of a candidate."""
    return rule.speaker == candidate, rule.confidence if rule.speaker == candidate else 0.0


def weighed(history: dict[str, list[str]], weights: list[float]) -> dict[str, float]:
    """The score the `HISTORY` features add to each candidate they hold for (`weights`: the ranker's)."""
    return {name: sum(weights[_HISTORY_COLUMNS[feature]] for feature in features)
            for name, features in history.items()}


def ranked(
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
    if candidates[best] == rule.speaker:
        return Decision(candidates[best], float(p[best]), rule.reason, first.kind, rule=rule.rule)
    return Decision(candidates[best], float(p[best]), strongest(ranker, row[best]), first.kind)


def strongest(ranker: Ranker, row: np.ndarray) -> str:
    """The reason for a ranked decision: the two features that raised the candidate most."""
    contributions = row * ranker.weights
    top = [FEATURES[i] for i in np.argsort(-contributions)[:2] if contributions[i] > 0]
    return "ranked: " + (", ".join(top) or "least unlikely")
