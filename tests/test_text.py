"""Reading chapters: encodings, paragraphs in both layouts, scene breaks, headings."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiodrama.errors import InputError
from audiodrama.text.chapter import Kind, chapter_from_text
from audiodrama.text.reader import read_chapter

FIXTURES = Path(__file__).parent / "fixtures" / "parser"


def bodies(chapter, kind=Kind.TEXT):
    return [chapter.text[p.start : p.end] for p in chapter.paragraphs if p.kind == kind]


def test_hard_wrapped_paragraphs_join_their_lines():
    text = 'It is a truth universally\nacknowledged, that a man\n\n"My dear," said his lady.\n'
    assert bodies(chapter_from_text(text)) == [
        "It is a truth universally\nacknowledged, that a man",
        '"My dear," said his lady.',
    ]


def test_one_paragraph_per_line_fan_fiction():
    long_line = "Naruto ran through the forest as fast as his tired legs would carry him, " * 2
    text = f'{long_line}\n"Sakura?" he said weakly.\n{long_line}\n'
    assert len(bodies(chapter_from_text(text))) == 3


@pytest.mark.parametrize("mark", ["***", "* * *", "---", "*        *        *"])
def test_scene_break_markers(mark):
    chapter = chapter_from_text(f"First scene here.\n\n{mark}\n\nSecond scene here.\n")
    assert bodies(chapter, Kind.SCENE_BREAK) == [mark]
    assert [p.scene for p in chapter.paragraphs] == [0, 1, 1]


def test_run_of_blank_lines_breaks_the_scene():
    chapter = chapter_from_text("One.\n\nTwo.\n\n\n\nThree.\n\nFour.\n")
    assert [p.scene for p in chapter.paragraphs] == [0, 0, 1, 1]
    assert chapter.paragraphs[2].wide_gap


def test_seed_location_headings():
    chapter = read_chapter(FIXTURES / "chapter-000.txt")
    headings = bodies(chapter, Kind.HEADING)
    for expected in (
        "At Valley of The End.",
        "Naruto's Mind Scape.",
        "In the Hokage Tower",
        "With Sakura",
        "In the woods.",
    ):
        assert expected in headings
    assert chapter.title == "At Valley of The End"
    assert not any('"' in h for h in headings)


@pytest.mark.parametrize("number", ["III", "[III]", "(4)", "IV."])
def test_a_section_number_alone_on_its_line_is_a_heading_opening_a_scene(number):
    chapter = chapter_from_text(f'"Up," said Brenda.\n\n{number}\n\n"Where\'s mummy gone?"\n')
    assert bodies(chapter, Kind.HEADING) == [number]
    assert [p.scene for p in chapter.paragraphs] == [0, 1, 1]


def test_title_falls_back_to_the_file_stem(tmp_path):
    path = tmp_path / "episode-7.txt"
    path.write_text("Just one plain sentence of narration here, nothing more to it.\n", encoding="utf-8")
    assert read_chapter(path).title == "episode-7"


def test_cp1252_fallback_and_offsets(tmp_path):
    path = tmp_path / "old.txt"
    path.write_bytes("“Café,” she said.".encode("cp1252"))
    chapter = read_chapter(path)
    assert chapter.encoding == "cp1252"
    assert chapter.text.startswith("“Café")


def test_bom_stays_as_character_zero(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffHello there.\n".encode())
    chapter = read_chapter(path)
    assert chapter.text == path.read_text(encoding="utf-8")
    assert chapter.paragraphs[0].start == 1


def test_binary_file_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "cover.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    with pytest.raises(InputError, match=r"cover\.png"):
        read_chapter(path)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"nothing\.txt"):
        read_chapter(tmp_path / "nothing.txt")
