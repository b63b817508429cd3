"""The exchange a quote paragraph belongs to: its turns, and who the run of consecutive quote
paragraphs around it tags, calls by name and only talks about."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from audiodrama.attribution.characters import Mention
from audiodrama.attribution.quotes import Quote

_TALKED_ABOUT = re.compile(r"['’]s\b|\s+[a-z]+\b(?!\s+(?:you|I|we|ye|thou)\b)")
"""What follows a name opening a quote when the quote talks about its character, not to them: a
possessive or a lower-case word ("Harriet's letter", "Harriet can go"), unless a question turns on
the one addressed ("Sasuke have you seen Naruto")."""


@dataclass(frozen=True)
class Turn:
    """A paragraph with quotes, once decided."""

    paragraph: int
    """Index of the paragraph."""
    speaker: str | None
    """Who speaks its first quote."""
    addressed: tuple[str, ...]
    """Whom its quotes address by name."""


@dataclass(frozen=True)
class Around:
    """Who the run of quote paragraphs around a turn tags, calls and talks about."""

    anchored: dict[str, tuple[int, int]]
    """Each character a tag names beyond doubt: turns before and after to its nearest such tag (0: none)."""
    participants: list[str]
    """Characters tagged or called by name."""
    talked: Counter[str]
    """How many of the other turns name each character inside their quotes without calling them."""


def runs(paragraphs: list[int]) -> list[tuple[int, int]]:
    """For each of `paragraphs` (ascending indices), the positions (start, end) of the run of
    consecutive paragraphs it belongs to."""
    runs: list[tuple[int, int]] = []
    start = 0
    for position in range(1, len(paragraphs) + 1):
        if position == len(paragraphs) or paragraphs[position] != paragraphs[position - 1] + 1:
            runs.extend([(start, position)] * (position - start))
            start = position
    return runs


def is_vocative(text: str, mention: Mention, quote: Quote) -> bool:
    """True when a name inside a quote addresses someone: it opens the quote, follows a call
    ("Hey Kurama can you"), or stands between commas or before the closing punctuation
    ("Yes, Jane.", "Sasuke I'm glad")."""
    before = text[quote.inner_start : mention.start].rstrip()
    after = text[mention.end : mention.end + 2]
    if not before and _TALKED_ABOUT.match(text, mention.end):
        return False  # "Harriet can take the coach", "Harriet's letter": the line's subject
    called = before.lower().endswith(("dear", "oh", "hey", "my"))
    opens = not before or before[-1] in ",.!?;—-"
    closes = not after or after[0] in ",.!?;—-"
    return (opens and closes) or called or mention.start == quote.inner_start
