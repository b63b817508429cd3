"""Markdown chapters: CommonMark read as a page, so `*italics*` stay emphasis, `***` breaks a scene and
`#` lines are headings; bold stays plain text and author's notes are left out unless asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiodrama.errors import InputError
from audiodrama.text.chapter import Kind
from audiodrama.text.markdown import read_markdown
from audiodrama.text.reader import read_chapter

CHAPTER = """# Chapter 1: Rain

A/N: this one is short, sorry!

It rained all day. *Will it ever stop?* Anna wondered.
The gutters overflowed.

"We should go," said Ben. **NOW.**

* * *

_Not yet,_ she thought, and stayed by the window. She had read *Jane Eyre* twice &amp; wept.

~~~
Not code: a fence of tildes opens a code block in Markdown.
~~~
"""


def test_markdown_paragraphs_headings_breaks_and_italics(tmp_path: Path) -> None:
    path = tmp_path / "chapter-1.md"
    path.write_text(CHAPTER, encoding="utf-8")
    chapter = read_chapter(path)
    assert chapter.format == "markdown"
    assert [(chapter.text[p.start : p.end], p.kind) for p in chapter.paragraphs] == [
        ("Chapter 1: Rain", Kind.HEADING),
        ("It rained all day. Will it ever stop? Anna wondered. The gutters overflowed.", Kind.TEXT),
        ('"We should go," said Ben. NOW.', Kind.TEXT),
        ("* * *", Kind.SCENE_BREAK),
        ("Not yet, she thought, and stayed by the window. She had read Jane Eyre twice & wept.", Kind.TEXT),
        ("Not code: a fence of tildes opens a code block in Markdown.", Kind.TEXT),
    ]
    assert [chapter.text[a:b] for a, b in chapter.emphasis] == ["Will it ever stop?", "Not yet,", "Jane Eyre"]


def test_markdown_authors_notes_kept_when_asked_for() -> None:
    assert read_markdown(CHAPTER, notes=True).text.startswith("Chapter 1: Rain\n\nA/N: this one is short, sorry!\n\n")


def test_markdown_without_prose_is_refused() -> None:
    with pytest.raises(InputError, match="no story text found in this Markdown file"):
        read_markdown("# Title\n\n---\n\n![cover](cover.png)\n", "empty.md")
