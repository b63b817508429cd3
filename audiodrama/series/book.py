"""A book straight to a series: an EPUB's chapters as chapter files, its cover, a cast discovered over the
whole book and a `series.yaml` (docs/series-format.md) that `audiodrama batch` builds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from audiodrama.casting.chapters import init_cast
from audiodrama.errors import InputError
from audiodrama.files import atomic_path, ensure_writable_dir, write_text_atomic
from audiodrama.series.manifest import LANGUAGE
from audiodrama.text.epub import read_book
from audiodrama.text.html import chapter_to_html
from audiodrama.text.markup import chapter_from_blocks
from audiodrama.text.reader import detect_format

MANIFEST = "series.yaml"
CAST = "cast.yaml"
CHAPTERS = "chapters"
"""Folder, beside the manifest, of the chapter files."""


@dataclass(frozen=True)
class BookSeries:
    """What `book_to_series` wrote."""

    manifest: Path
    """The series manifest."""
    chapters: tuple[Path, ...]
    """One chapter file (HTML, italics kept) per episode, in reading order."""
    cast: Path
    """The cast file `cast init` wrote from every chapter."""
    characters: int
    """Characters in it."""
    cover: Path | None
    """The cover image, when the book has one (JPEG or PNG)."""


def book_to_series(epub: Path, out_dir: Path, notes: bool = False, force: bool = False) -> BookSeries:
    """Write `out_dir/series.yaml` with one episode per chapter of `epub`, titled as its table of contents
    says, `out_dir/chapters/NNN-title.html`, the cover and `out_dir/cast.yaml`. The book is read whole
    before anything is written (a book that cannot be used writes nothing); an earlier run's manifest
    or cast is overwritten only with `force`. `notes` keeps author's notes as story."""
    try:
        with open(epub, "rb") as stream:
            format = detect_format(epub, stream.read(4096))
    except OSError as exc:
        raise InputError(f"cannot read the book: {exc.strerror or exc}", path=epub, hint="check the path") from exc
    if format != "epub":
        raise InputError(f"this is a {format} file, not an EPUB book", path=epub,
                         hint="give an EPUB; `audiodrama produce` takes a single chapter as text, Markdown or HTML")
    book = read_book(epub, notes)
    manifest, cast = out_dir / MANIFEST, out_dir / CAST
    for path in (manifest, cast):
        if path.exists() and not force:
            raise InputError("a series was already written here", path=path,
                             hint="use --force to write it again, or give another folder with -o")
    folder = ensure_writable_dir(out_dir / CHAPTERS)
    chapters = []
    for number, chapter in enumerate(book.chapters, 1):
        path = folder / f"{number:03d}-{_slug(chapter.title)}.html"
        text = chapter_from_blocks(chapter.blocks, str(path), "utf-8", "html")
        write_text_atomic(path, chapter_to_html(text, chapter.title))
        chapters.append(path)
    cover = None
    if book.cover is not None:
        cover = out_dir / f"cover{book.cover[0]}"
        with atomic_path(cover) as temporary:
            temporary.write_bytes(book.cover[1])
    casting = init_cast(chapters, cast, force=True)
    write_text_atomic(manifest, manifest_text(book.title, book.author, book.language, cover, notes, epub,
                                              [(p, c.title) for p, c in zip(chapters, book.chapters, strict=True)]))
    return BookSeries(manifest, tuple(chapters), cast, len(casting.cast.characters), cover)


def manifest_text(title: str, author: str, language: str, cover: Path | None, notes: bool, epub: Path,
                  episodes: list[tuple[Path, str]]) -> str:
    """The series manifest, paths relative to it, with a comment on what to do next."""
    data: dict[str, object] = {"title": title}
    if author:
        data["author"] = author
    if LANGUAGE.fullmatch(language.replace("_", "-")):  # a form the manifest does not take is left out
        data["language"] = language.replace("_", "-")
    if cover is not None:
        data["image"] = cover.name
    data["cast"] = CAST
    if notes:
        data["production"] = {"authors_notes": True}
    data["episodes"] = [{"file": f"{CHAPTERS}/{path.name}", "title": name} for path, name in episodes]
    head = (f"# Series written by `audiodrama book` from {epub.name}: one episode per chapter.\n"
            f"# Edit titles, {CAST} and the chapter files as you like, add `base_url` for a feed, then run\n"
            f"# `audiodrama batch {MANIFEST}`. Reference: docs/series-format.md\n")
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _slug(title: str) -> str:
    """A short file-name form of a title: `Chapter 1: The Start` gives `chapter-1-the-start`."""
    return re.sub(r"[^a-z0-9]+", "-", title.casefold())[:40].strip("-") or "chapter"
