"""What attribution decides for each quotation, and why: the decision type, the rules and the ways a
tag finds its character, as enums the later steps act on (the words a reviewer reads are their values).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from audiodrama.text.chapter import Kind

GROUP_SPEAKER = "Group"
"""The speaker of a line several characters say at once ("her friends yelled")."""


class Rule(Enum):
    """A rule that names the speaker of a quote without a tag of its own; its value is the reason a
    reviewer reads."""

    CONTINUES = "speech continues from the last paragraph"
    ACTION_BEAT = "action beat in the paragraph"
    ACTS_BEFORE = "acts in the paragraph before"
    DROPPED_LINE = "same speaker after a dropped line"
    ADDRESSED = "addressed in the previous line"
    TURN_TAKING = "turn-taking"
    LAST_MENTIONED = "last character mentioned"
    NOBODY = "no speaker found"


FROM_HISTORY = frozenset((Rule.CONTINUES, Rule.TURN_TAKING, Rule.DROPPED_LINE, Rule.ADDRESSED))
"""Rules that follow the turn history: worked out again for each hypothesis when an exchange is decoded."""


class Found(Enum):
    """How a speech tag's subject led to its character."""

    NAME = "name"
    """By a name or alias of the roster."""
    NEW_NAME = "a name the cast lacks"
    """By a proper name outside the roster: the name is the speaker."""
    GROUP = "several speakers"
    """By a subject naming several people: the speaker is `GROUP_SPEAKER`."""
    NARRATOR = "first-person narrator"
    """By "I": the chapter's first-person narrator."""
    PRONOUN = "pronoun"
    """By a pronoun, resolved to the character of its gender at hand."""
    DESCRIPTOR = "descriptor"
    """By a descriptor ("the old man", "her husband"), resolved by its gender."""
    NOTHING = ""
    """No tag, or a subject that names nobody."""


NAMING = frozenset((Found.NAME, Found.NEW_NAME, Found.GROUP, Found.NARRATOR))
"""Ways a tag says who speaks, not which gender."""


@dataclass(frozen=True)
class Decision:
    """Who speaks one quotation, and why."""

    speaker: str | None
    """Canonical name, or None when nobody can be inferred."""
    confidence: float
    """How sure, in [0, 1]."""
    reason: str
    """A few words for a reviewer: "tag: said Naruto", "turn-taking"."""
    kind: Kind = Kind.DIALOGUE
    """`dialogue` or `thought`."""
    tag: tuple[int, int] | None = None
    """(start, end) of the bare speech tag beside the quote ("said Naruto"), if there is one."""
    rule: Rule | None = None
    """The rule that decided, when one of `Rule` did (tags and the ranker explain themselves in `reason`)."""
    basis: str = ""
    """What decided, as the calibration of `confidence` groups decisions (`basis()`)."""

    @classmethod
    def by_rule(cls, rule: Rule, speaker: str | None, confidence: float) -> Decision:
        """A decision made by `rule`, which gives its reason."""
        return cls(speaker, confidence, rule.value, rule=rule)


NOBODY = Decision.by_rule(Rule.NOBODY, None, 0.0)
"""The decision when no rule finds a speaker."""


@dataclass(frozen=True)
class Example:
    """One quotation the ranker decided, kept for training."""

    quote: int
    """Index of the quote in the chapter."""
    candidates: tuple[str, ...]
    """The candidate speakers, in feature-row order."""
    features: np.ndarray
    """Candidates x `FEATURES`."""


def basis(found: Found, rule: Rule | None, ranked: bool) -> str:
    """What decided a quote, for calibration: how its tag named the character (`Found`), else the
    rule (`SAME_PARAGRAPH` for a quote whose paragraph's other quote is tagged), prefixed with
    `ranked` when the ranker chose among candidates."""
    source = found.name if found is not Found.NOTHING else rule.name if rule else "SAME_PARAGRAPH"
    return f"ranked {source}" if ranked else source


def taking_turns(speaker: str | None) -> str | None:
    """Who a turn counts as spoken by when later turns are worked out: nobody for a group, which
    takes no part in turn-taking."""
    return None if speaker == GROUP_SPEAKER else speaker
