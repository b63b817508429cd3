"""Titles that go with names ("Mr. Darcy", "Aunt Polly", "Inspector Jones"), and the gender they say."""

from __future__ import annotations

from audiodrama.text.chapter import word_set

MALE_TITLES = word_set("mr sir lord monsieur m master king prince duke count baron uncle father brother")
FEMALE_TITLES = word_set(
    "mrs miss ms lady madame mme mademoiselle mlle queen princess duchess countess aunt mother sister mistress"
)
OTHER_TITLES = word_set(
    "dr doctor st messrs capt captain col colonel gen general lt prof professor sgt sergeant rev inspector major"
)
TITLES = MALE_TITLES | FEMALE_TITLES | OTHER_TITLES
"""Every title, lower case and without its full stop."""
ABBREVIATED_TITLES = word_set("mr mrs ms dr st mme mlle messrs capt col gen lt prof sgt rev")
"""Titles written short with a full stop ("Mrs.", "Dr."), lower case and without it."""

TITLE_PATTERN = "|".join(
    f"{title.capitalize()}\\.?" for title in sorted(TITLES, key=lambda t: (-len(t), t)) if len(title) > 1
)
"""A regex alternation for a title as it begins a name ("Mrs.", "Mrs", "Captain"); one-letter
abbreviations ("M.") are left out, as they are read as initials."""


def title_gender(name: str) -> str | None:
    """`male` or `female` when a name begins with a title that says so ("Mrs. Maylie"), else None."""
    words = name.split()
    first = words[0].lower().rstrip(".") if len(words) > 1 else ""
    return "male" if first in MALE_TITLES else "female" if first in FEMALE_TITLES else None
