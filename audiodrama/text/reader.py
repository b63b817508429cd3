"""Reading a chapter file of any supported format: plain text, Markdown, a saved web page or an EPUB
book, told apart by content as well as by extension. Every command that takes a chapter reads it here."""

from __future__ import annotations

from pathlib import Path

from audiodrama.errors import InputError
from audiodrama.text.chapter import Chapter, chapter_from_text, decode
from audiodrama.text.epub import read_epub
from audiodrama.text.html import read_html
from audiodrama.text.markdown import read_markdown

FORMATS = ("text", "markdown", "html", "epub")
"""The formats a chapter may come in (`Chapter.format`)."""
MARKDOWN_SUFFIXES = frozenset((".md", ".markdown", ".mdown", ".mkd", ".mkdn"))
HTML_SUFFIXES = frozenset((".html", ".htm", ".xhtml", ".xht", ".shtml"))
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OFFICE_HINT = "save it as plain text or HTML with File, Save As"
_UNREAD = (
    (b"%PDF-", "a PDF", "copy its text into a .txt file, or use the story's EPUB or web page"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Word (.doc) document", _OFFICE_HINT),
    (b"{\\rtf", "an RTF document", _OFFICE_HINT),
)
"""Formats recognised by their first bytes and refused: (magic, what it is, what to do)."""
_MOBI = b"BOOKMOBI"
"""At byte 60 of a Kindle (.mobi, .azw, .azw3) book."""


def detect_format(path: str | Path, head: bytes) -> str:
    """The format of the file at `path` that begins with `head` (its first few kilobytes): a zip is an
    EPUB (the EPUB reader refuses other archives), a page that starts as HTML is HTML whatever its name;
    otherwise the extension decides between Markdown, HTML and plain text. InputError for PDF, Word,
    RTF and Kindle files, which are not read."""
    if head.startswith(_ZIP):
        return "epub"
    for magic, what, hint in _UNREAD:
        if head.startswith(magic):
            raise InputError(f"this is {what}, which audiodrama does not read", path=path, hint=hint)
    if head[60:68] == _MOBI:
        raise InputError("this is a Kindle book, which audiodrama does not read", path=path,
                         hint="convert it to EPUB (Calibre does), if it is DRM-free")
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    suffix = Path(path).suffix.lower()
    if start.startswith((b"<!doctype html", b"<html")) or (start.startswith(b"<?xml") and b"<html" in start):
        return "html"
    if suffix in HTML_SUFFIXES:
        return "html"
    return "markdown" if suffix in MARKDOWN_SUFFIXES else "text"


def read_chapter(path: str | Path, notes: bool = False) -> Chapter:
    """Read and cut the chapter at `path`, whatever its format; with `notes`, author's notes in markup
    are kept as story. InputError when it is missing, unreadable, of a format not read, or has no story."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the chapter: {exc.strerror or exc}", path=path, hint="check the path") from exc
    format = detect_format(path, data[:4096])
    if format == "epub":
        return read_epub(path, notes)
    text, encoding = decode(data, str(path))
    if format == "html":
        return read_html(text, str(path), encoding, notes)
    if format == "markdown":
        return read_markdown(text, str(path), encoding, notes)
    return chapter_from_text(text, source=str(path), encoding=encoding)
