"""Italic thoughts: unquoted italic sentences in a chapter with markup become `thought` segments read by
the character the tag or the context names; stressed words, titles, italic speech and flashbacks stay
as they were."""

from __future__ import annotations

from audiodrama.attribution import attribute
from audiodrama.casting.cast import Cast, Character
from audiodrama.text.chapter import Kind, chapter_from_text
from audiodrama.text.markdown import read_markdown

CAST = Cast(characters=(Character("Naruto Uzumaki", ("Naruto",), "male"),
                        Character("Sakura Haruno", ("Sakura",), "female"), Character("Kurama", ("the fox",), "male")))


def thoughts(markdown: str, cast: Cast | None = CAST) -> list[tuple[str | None, str, str]]:
    script = attribute(read_markdown(markdown), cast)
    return [(s.speaker, s.text, s.reason) for s in script.segments if s.kind == Kind.THOUGHT]


def test_the_tag_after_the_thought_names_the_thinker() -> None:
    found = thoughts("Sakura sighed. *Why me?* Naruto thought. *Kit, wake up,* the fox growled.\n")
    assert found == [("Naruto Uzumaki", "Why me?", "italics; tag: Naruto thought"),
                     ("Kurama", "Kit, wake up,", "italics; tag: the fox growled")]


def test_a_name_the_cast_lacks_is_taken_as_written() -> None:
    assert thoughts("*Too loud,* Jiraiya muttered.\n")[0][:2] == ("Jiraiya", "Too loud,")


def test_a_pronoun_tag_takes_the_last_character_of_its_gender() -> None:
    found = thoughts("Naruto ran past Sakura into the woods.\n\n*I have to hurry,* she thought.\n")
    assert found == [("Sakura Haruno", "I have to hurry,", "italics; she thought: Sakura Haruno")]


def test_a_pronoun_without_a_cast_character_takes_the_name_acting_before_it() -> None:
    found = thoughts("Chapter Three\n\nTsunade looked at the sky. *What a mess,* she thought.\n")
    assert found == [("Tsunade", "What a mess,", "italics; she thought: Tsunade")]


def test_first_person_thoughts_are_the_narrators_own() -> None:
    assert thoughts("Sakura waved at me. *Not today,* I thought.\n")[0][:2] == (None, "Not today,")


def test_without_a_tag_the_speaker_of_the_paragraph_or_the_last_named_thinks() -> None:
    found = thoughts('"Wait," said Sakura. *He never listens.*\n\nNaruto left the room.\n\n*Finally alone.*\n')
    assert [(who, reason) for who, _, reason in found] == [
        ("Sakura Haruno", "italics; speaks in the same paragraph"),
        ("Naruto Uzumaki", "italics; last character mentioned")]


def test_stressed_words_titles_italic_speech_bold_and_flashbacks_stay_as_they_are() -> None:
    flashback = " ".join(["He remembered the old days in the village when the rain fell for weeks."] * 5)
    markdown = (
        "Naruto was *really* tired. He read *Icha Icha Paradise* again.\n\n"
        '*"Run!"* yelled Sakura.\n\n'
        "**STOP THAT.** Naruto froze.\n\n"
        f"*{flashback}*\n"
    )
    script = attribute(read_markdown(markdown), CAST)
    assert not [s for s in script.segments if s.kind == Kind.THOUGHT]
    assert [s.speaker for s in script.segments if s.kind == Kind.DIALOGUE] == ["Sakura Haruno"]


def test_a_bare_tag_after_a_thought_is_a_tag_segment_and_the_segments_tile_the_chapter() -> None:
    chapter = read_markdown("Naruto sat down. *So tired,* he thought. Then he slept.\n")
    script = attribute(chapter, CAST)
    assert [(s.kind, s.text) for s in script.segments] == [
        (Kind.NARRATION, "Naruto sat down."), (Kind.THOUGHT, "So tired,"), (Kind.TAG, "he thought."),
        (Kind.NARRATION, "Then he slept.")]
    covered = "".join(chapter.text[s.start : s.end] for s in script.segments)
    assert "".join(covered.split()) == "".join(chapter.text.split())


def test_plain_text_asterisks_are_not_emphasis() -> None:
    script = attribute(chapter_from_text("Naruto sat down. *So tired,* he thought.\n"), CAST)
    assert Kind.THOUGHT not in {s.kind for s in script.segments}
