"""Saved web pages: the story text of a chapter page (FanFiction.net, Archive of Our Own, Royal Road,
Wattpad, or any page), without the site around it; and a chapter written back as a simple page.

Known sites are read from the element that holds their chapter text; any other page is read whole
when it is nothing but text (a Markdown rendering, an EPUB chapter, a page `audiodrama book` wrote),
else through a main-content extractor (readability).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from lxml import etree

from audiodrama.errors import InputError
from audiodrama.text.chapter import Chapter, Kind
from audiodrama.text.markup import chapter_from_blocks, has_story, local_name, parse_html, story_blocks, styles_of

NO_STORY_HINT = ("save the chapter's own page, not the story's index or its reviews, "
                 "or paste the story into a .txt file")


@dataclass(frozen=True)
class Site:
    """Where a fiction site keeps a chapter's text in its pages."""

    name: str
    """The site, for messages and docs."""
    story: str
    """CSS selector of the elements holding the chapter (title and text), read in document order."""
    notes: str = ""
    """CSS selector of author's notes kept outside those elements (read only when notes are asked for)."""


SITES = (
    Site("FanFiction.net", "#storytext"),
    Site("Archive of Our Own", "#chapters"),
    Site("Royal Road", ".chapter-content", ".author-note-portlet"),
    Site("Wattpad", ".part-content header h1, p[data-p-id]"),
)
"""Known sites, tried in order; a page none of them matches is read as any page."""
_FURNITURE = frozenset(("nav", "header", "footer", "aside", "form", "menu", "iframe"))
"""Elements that say a page has more than its text around it."""


def read_html(text: str, source: str = "", encoding: str = "utf-8", notes: bool = False) -> Chapter:
    """The story in a saved page; InputError when there is none."""
    document = parse_html(text)
    styles = styles_of(style.text or "" for style in document.iter("style"))
    roots = _story_roots(document, notes)
    if roots is None:
        roots = [_main_content(document, text)]
    chapter = chapter_from_blocks(story_blocks(roots, notes, styles), source, encoding, "html")
    if not has_story(chapter):
        raise InputError("no story text found in this page", path=source or None, hint=NO_STORY_HINT)
    return chapter


def _story_roots(document: etree._Element, notes: bool) -> list[etree._Element] | None:
    """The elements a known site keeps the chapter in (and its notes, when asked for), in page order."""
    for site in SITES:
        found = document.cssselect(site.story)
        if not found:
            continue
        if notes and site.notes:
            found += document.cssselect(site.notes)
        order = {element: index for index, element in enumerate(document.iter())}
        chosen = set(found)
        return sorted((e for e in found if not any(a in chosen for a in e.iterancestors())), key=order.__getitem__)
    return None


def _main_content(document: etree._Element, text: str) -> etree._Element:
    """The page's body when it holds nothing but text, else what readability takes for its main content."""
    body = document.find("body")
    if body is None:
        body = document
    if not any(local_name(e) in _FURNITURE for e in body.iter()):
        return body
    from readability import Document  # only pages of unknown sites need it

    return parse_html(Document(text).summary(html_partial=True))


def chapter_to_html(chapter: Chapter, title: str = "") -> str:
    """The chapter as a simple page that `read_html` reads back to the same text, paragraphs and italics."""
    out = ["<!DOCTYPE html>", '<html><head><meta charset="utf-8"/>', f"<title>{html.escape(title)}</title>",
           '<meta name="generator" content="audiodrama"/></head>', "<body>"]
    for para in chapter.paragraphs:
        body = _with_italics(chapter, para.start, para.end)
        out.append(f"<h2>{body}</h2>" if para.kind == Kind.HEADING else f"<p>{body}</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _with_italics(chapter: Chapter, start: int, end: int) -> str:
    """text[start:end] escaped, its italic stretches in `<i>`."""
    out, pos = [], start
    for a, b in chapter.emphasis:
        if b <= start or a >= end:
            continue
        a, b = max(a, start), min(b, end)
        out += [html.escape(chapter.text[pos:a], quote=False), "<i>", html.escape(chapter.text[a:b], quote=False),
                "</i>"]
        pos = b
    out.append(html.escape(chapter.text[pos:end], quote=False))
    return "".join(out)

