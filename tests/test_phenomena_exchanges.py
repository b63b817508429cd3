"""Long exchanges: a two-person conversation keeps its two speakers; a character the two only
talk about ("being mentioned is not being present") never gets a line."""

from __future__ import annotations

from audiodrama.attribution import attribute
from audiodrama.attribution.characters import Roster
from audiodrama.attribution.context import Context
from audiodrama.attribution.quotes import find_quotes
from audiodrama.casting.cast import Cast, Character
from audiodrama.text.chapter import Kind, chapter_from_text

CAST = Cast(
    characters=(
        Character("Anna Price", ("Anna",), "female"),
        Character("Tom Price", ("Tom",), "male"),
        Character("Harriet Lane", ("Harriet",), "female"),
    )
)

ABSENT_COUSIN = """\
Anna and Tom Price sat on in the parlour long after supper. Their cousin Harriet had written again \
from London, and her letter lay open between them. Harriet wanted, as usual, to be fetched home at \
somebody else's expense.

"Well, are you going to fetch her?"

"I am not," said Tom.

"Then who will?"

"Harriet can take the coach like anybody else."

"You know she has no money."

"Harriet never has money. That is the whole of Harriet."

"How can you speak so of your own cousin?"

"Very easily, I find."
"""


def speakers(text: str) -> list[str | None]:
    """The speaker of each spoken segment, in order."""
    script = attribute(chapter_from_text(text), CAST)
    return [s.speaker for s in script.segments if s.kind == Kind.DIALOGUE]


def test_a_character_only_talked_about_never_gets_a_line():
    said = speakers(ABSENT_COUSIN)
    assert "Harriet Lane" not in said


def test_a_two_person_exchange_alternates_between_its_two_speakers():
    said = speakers(ABSENT_COUSIN)
    assert said == ["Anna Price", "Tom Price"] * 4


def test_a_name_opening_a_line_as_its_subject_is_not_whom_the_line_addresses():
    def called(line: str) -> tuple[str, ...]:
        chapter = chapter_from_text(line + "\n")
        quotes = find_quotes(chapter)
        return Context(chapter, quotes, Roster.from_cast(CAST)).vocatives(quotes)

    assert called('"Harriet can take the coach like anybody else."') == ()
    assert called('"Harriet never has money."') == ()
    assert called('"Harriet, come here."') == ("Harriet Lane",)
    assert called('"Tom I am glad you came."') == ("Tom Price",)
    assert called('"Tom have you seen her?"') == ("Tom Price",)
    assert called('"Come here, Tom."') == ("Tom Price",)
