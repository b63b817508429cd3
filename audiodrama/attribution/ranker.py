"""The learned speaker ranker: a logistic model scoring each candidate speaker of a quotation.

The weights are trained by `scripts/train_attribution.py` on the dev corpus and shipped as
`audiodrama/data/speaker_model.json`; inference is a dot product and a softmax (numpy only).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from audiodrama.attribution.decisions import Decision

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "speaker_model.json"

HISTORY = (
    "tag_gender_prev1",  # a gender-matching tag, and the candidate spoke the last turn
    "continues",  # the quote carries on the candidate's unclosed speech
    "prev1",  # the candidate spoke the last quote paragraph
    "prev1_adjacent",  # ... and that paragraph is the one just before
    "prev2",  # the candidate spoke the quote paragraph before the last (turn parity)
    "prev2_alternating",  # ... the last two turns alternate and are consecutive paragraphs
    "prev3",  # the candidate spoke three quote paragraphs ago
    "vocative_prev",  # the last quote paragraph addressed the candidate
    "tag_gender_prev2",  # a gender-matching tag, and the candidate spoke the turn before the last
    "tag_gender_prev3",  # a gender-matching tag, and the candidate spoke three turns ago
    "tag_gender_vocative_prev",  # a gender-matching tag, and the last turn addressed the candidate
)
"""The features that depend on who spoke the turns before: the last columns, recomputed for each
hypothesis when an exchange is decoded jointly."""

BASE = (
    "rule",  # the hand-written rules chose the candidate
    "rule_confidence",  # the rules' confidence when they chose it
    "tag_name",  # the quote's own tag names the candidate (an alias nobody else has)
    "tag_name_shared",  # the tag's name is an alias the candidate shares with others
    "para_tag_name",  # another quote of the paragraph has a name tag for the candidate
    "tag_gender",  # a pronoun or descriptor tag of the candidate's gender
    "tag_gender_other",  # a pronoun or descriptor tag of the other gender
    "tag_narrator",  # a first-person tag ("said I") and the candidate narrates
    "vocative_here",  # the paragraph's quotes address the candidate by name
    "in_quote",  # the candidate is named inside the paragraph's quotes, not as a vocative
    "subject_before",  # a subject of the narration before the quote, in its paragraph
    "mention_before",  # named in the narration before the quote, in its paragraph
    "mention_after",  # named in the narration after the quote, in its paragraph
    "prev_para_subject",  # a subject of the narration paragraph just before
    "next_para",  # named in the next paragraph
    "recency",  # 1 / (1 + rank among the characters last mentioned or speaking)
    "distance",  # log characters since the candidate was last mentioned or spoke (capped)
    "speaker_share",  # share of the chapter's quote paragraphs so far that the candidate spoke
    "mentions",  # log count of the candidate's mentions so far
    "narrator",  # the candidate is the first-person narrator
    "tagged_even_before",  # a tag names the candidate an even number of turns before, same exchange
    "tagged_odd_before",  # ... an odd number of turns before
    "tagged_even_after",  # a tag names the candidate an even number of turns later
    "tagged_odd_after",  # ... an odd number of turns later
    "tagged_in_exchange",  # a tag names the candidate in the same run of quote paragraphs
    "talked_about",  # share of the run's other turns (up to 3) that name the candidate inside quotes, not calling
    "talked_about_only",  # ... and no tag names the candidate in the run
    "outsider",  # tags name two or more characters in the run, the candidate not
)
"""The features that neither depend on the turn history nor on the tag's gender."""

GENDERED = (
    "vocative_here",
    "in_quote",
    "subject_before",
    "mention_before",
    "mention_after",
    "prev_para_subject",
    "recency",
    "distance",
    "speaker_share",
    "mentions",
    "tagged_in_exchange",
)
"""Features of `BASE` that also count apart when a pronoun or descriptor tag points at the
candidate's gender ("said she": who the pronoun refers to weighs salience differently)."""

FEATURES = (*BASE, *(f"gendered_{name}" for name in GENDERED), *HISTORY)
"""Feature names, in the order of the weight vector."""
ANY_BASIS = "*"
"""The confidence model's bias for decisions whose basis it has no bias of its own for."""


@dataclass(frozen=True)
class Confidence:
    """A logistic model of the probability that a decision is right, from what decided it (its basis),
    its raw confidence and, for the ranker's decisions, the chosen candidate's features."""

    bias: dict[str, float]
    """Per decision basis (`Decision.basis`; `ANY_BASIS` for the rest), the intercept."""
    raw: float
    """The weight of the raw confidence's log odds."""
    features: np.ndarray
    """One weight per name in `FEATURES`, applied to the chosen candidate's row."""

    def __call__(self, basis: str, raw: float, row: np.ndarray | None) -> float:
        """P(right) of a decision."""
        raw = min(max(raw, 1e-4), 1 - 1e-4)
        score = self.bias.get(basis, self.bias[ANY_BASIS]) + self.raw * math.log(raw / (1 - raw))
        if row is not None:
            score += float(row @ self.features)
        return 1 / (1 + math.exp(-score))

    def to_dict(self) -> dict:
        """The model file's `confidence` entry."""
        return {"bias": {b: round(w, 5) for b, w in self.bias.items()}, "raw": round(self.raw, 5),
                "features": dict(zip(FEATURES, (round(float(w), 5) for w in self.features), strict=True))}

    @classmethod
    def from_dict(cls, d: dict) -> Confidence:
        """The model from a model file's `confidence` entry."""
        return cls(dict(d["bias"]), float(d["raw"]), np.array([d["features"][f] for f in FEATURES], dtype=float))


@dataclass(frozen=True)
class Ranker:
    """A linear scorer over candidate features; probabilities are a softmax over the candidates."""

    weights: np.ndarray
    """One weight per name in `FEATURES`."""
    confidence: Confidence | None = None
    """The calibration that turns a decision's raw confidence into the probability that it is
    right; None: confidences stay raw."""

    def calibrated(self, decision: Decision, row: np.ndarray | None) -> Decision:
        """`decision` with its confidence calibrated (`row`: the chosen candidate's features when
        the ranker chose; unchanged without calibration or speaker)."""
        if self.confidence is None or decision.speaker is None:
            return decision
        return replace(decision, confidence=self.confidence(decision.basis, decision.confidence, row))

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """P(candidate speaks) for each row of `features` (candidates x FEATURES)."""
        scores = features @ self.weights
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()

    def to_json(self, **info) -> str:
        """The model file's text, with `info` (training data, figures) kept beside the weights."""
        weights = dict(zip(FEATURES, (round(float(w), 5) for w in self.weights), strict=True))
        confidence = self.confidence.to_dict() if self.confidence else None
        return json.dumps({"weights": weights, "confidence": confidence, **info}, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Ranker:
        """A ranker from a model file's text; ValueError when its features are not `FEATURES`."""
        model = json.loads(text)
        weights = model["weights"]
        if tuple(weights) != FEATURES:
            raise ValueError("the speaker model was trained on other features; retrain it")
        confidence = Confidence.from_dict(model["confidence"]) if model.get("confidence") else None
        return cls(np.array([weights[f] for f in FEATURES], dtype=float), confidence)


@cache
def shipped_ranker() -> Ranker | None:
    """The model shipped with the package, or None when there is none (rules only)."""
    return Ranker.from_json(MODEL_PATH.read_text(encoding="utf-8")) if MODEL_PATH.exists() else None
