"""Markdown chapters: rendered by markdown-it (CommonMark) and read as a page, so `*italics*` are kept
as emphasis, `***` and `---` lines break scenes and `#` lines are headings."""

from __future__ import annotations

from markdown_it import MarkdownIt

from audiodrama.errors import InputError
from audiodrama.text.chapter import Chapter
from audiodrama.text.markup import chapter_from_blocks, has_story, parse_html, story_blocks

_RENDERER = MarkdownIt("commonmark")


def read_markdown(text: str, source: str = "", encoding: str = "utf-8", notes: bool = False) -> Chapter:
    """The story in a Markdown chapter; InputError when it has none."""
    page = parse_html(f"<html><body>{_RENDERER.render(text)}</body></html>")
    chapter = chapter_from_blocks(story_blocks([page.find("body")], notes), source, encoding, "markdown")
    if not has_story(chapter):
        raise InputError("no story text found in this Markdown file", path=source or None,
                         hint="give a chapter with prose in it")
    return chapter
