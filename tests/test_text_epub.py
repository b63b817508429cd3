"""EPUB books: chapters in reading order from the spine and the table of contents, front and back matter
and footnotes left out, italics kept; locked, broken and disguised archives refused in one line."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from audiodrama.errors import InputError
from audiodrama.text.chapter import Kind
from audiodrama.text.epub import read_book
from audiodrama.text.reader import read_chapter
from tests.books import (
    BOOK_AUTHOR,
    BOOK_TITLE,
    CHAPTER_TITLES,
    COVER,
    EPUB2_EXPECTED,
    EPUB2_FILES,
    EXPECTED,
    write_book,
    write_zip,
)
from tests.conftest import run_cli


def texts(blocks) -> list[str]:
    return [b.text for b in blocks]


def test_epub3_chapters_follow_the_table_of_contents(tmp_path: Path) -> None:
    book = read_book(write_book(tmp_path / "book.epub"))
    assert (book.title, book.author, book.language) == (BOOK_TITLE, BOOK_AUTHOR, "en")
    assert book.cover == (".png", COVER.read_bytes())
    assert tuple(c.title for c in book.chapters) == CHAPTER_TITLES
    assert [texts(c.blocks) for c in book.chapters] == [list(e) for e in EXPECTED]
    assert [b.kind for b in book.chapters[1].blocks] == [Kind.HEADING, None, None, Kind.SCENE_BREAK, None]


def test_the_whole_book_as_one_chapter_keeps_italics_and_headings(tmp_path: Path) -> None:
    chapter = read_chapter(write_book(tmp_path / "book.epub"))
    assert chapter.format == "epub"
    paragraphs = [chapter.text[p.start : p.end] for p in chapter.paragraphs]
    assert paragraphs == [text for chapter_texts in EXPECTED for text in chapter_texts]
    assert [chapter.text[a:b] for a, b in chapter.emphasis] == ["Not again,", "What a mess,"]
    assert [chapter.text[p.start : p.end] for p in chapter.paragraphs if p.kind == Kind.HEADING] == list(CHAPTER_TITLES)
    for left_out in ("Copyright", "Afterword", "Valley of the End", "by Seed Author", "leave a comment"):
        assert left_out not in chapter.text


def test_epub2_with_ncx_two_chapters_in_one_file_and_italic_class(tmp_path: Path) -> None:
    book = read_book(write_zip(tmp_path / "old.epub", EPUB2_FILES))
    assert (book.title, book.author, book.language, book.cover) == ("Two in One", "A. Writer", "en-GB", None)
    assert [texts(c.blocks) for c in book.chapters] == [list(e) for e in EPUB2_EXPECTED]
    assert book.chapters[0].blocks[2].emphasis == ((0, len("Will it ever stop?")),)


def test_a_book_without_table_of_contents_takes_one_chapter_per_file(tmp_path: Path) -> None:
    files = dict(EPUB2_FILES)
    files["OEBPS/content.opf"] = files["OEBPS/content.opf"].replace(' toc="ncx"', "").replace(
        '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>', "")
    del files["OEBPS/toc.ncx"]
    book = read_book(write_zip(tmp_path / "flat.epub", files))
    assert [c.title for c in book.chapters] == ["Chapter 1"]  # the cover page is the guide's, left out
    assert texts(book.chapters[0].blocks) == EPUB2_EXPECTED[0] + EPUB2_EXPECTED[1]


def encrypted(algorithm: str, member: str) -> dict[str, str]:
    """The EPUB 2 book's files with an encryption.xml saying `member` is encrypted with `algorithm`."""
    return {**EPUB2_FILES, "META-INF/encryption.xml": (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
        f'<enc:EncryptionMethod Algorithm="{algorithm}"/>'
        f'<enc:CipherData><enc:CipherReference URI="{member}"/></enc:CipherData>'
        "</enc:EncryptedData></encryption>")}


def test_fonts_scrambled_by_the_publisher_are_not_drm(tmp_path: Path) -> None:
    files = encrypted("http://www.idpf.org/2008/embedding", "OEBPS/Fonts/a.ttf")
    assert len(read_book(write_zip(tmp_path / "fonts.epub", files)).chapters) == 2


def _drm(tmp_path: Path) -> Path:
    files = encrypted("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "OEBPS/Text/story%20one.xhtml")
    return write_zip(tmp_path / "locked.epub", files)


def _adobe(tmp_path: Path) -> Path:
    return write_zip(tmp_path / "adobe.epub", {**EPUB2_FILES, "META-INF/rights.xml": "<rights/>"})


def _not_epub(tmp_path: Path) -> Path:
    return write_zip(tmp_path / "photos.epub", {"notes.txt": "a zip of other things"})


def _docx(tmp_path: Path) -> Path:
    return write_zip(tmp_path / "story.docx", {"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"})


def _bomb(tmp_path: Path) -> Path:
    path = write_zip(tmp_path / "bomb.epub", EPUB2_FILES)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OEBPS/Text/zeros.xhtml", bytes(8 * 2**20))
    return path


def _pdf(tmp_path: Path) -> Path:
    path = tmp_path / "chapter.pdf"
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    return path


def _damaged(tmp_path: Path) -> Path:
    path = write_book(tmp_path / "book.epub")
    path.write_bytes(path.read_bytes()[:-200])  # the central directory cut off
    return path


BAD_BOOKS = {
    "drm": (_drm, "this EPUB is locked with DRM"),
    "adobe-drm": (_adobe, "this EPUB is locked with DRM"),
    "zip-not-epub": (_not_epub, "this zip archive is not an EPUB"),
    "docx": (_docx, "this is a Word document (.docx), which audiodrama does not read"),
    "bomb": (_bomb, "unpacks to far more than it holds"),
    "pdf": (_pdf, "this is a PDF, which audiodrama does not read"),
    "damaged": (_damaged, "this is not a readable EPUB"),
}


@pytest.mark.parametrize("name", sorted(BAD_BOOKS))
def test_bad_books_are_refused_by_the_reader(tmp_path: Path, name: str) -> None:
    make, message = BAD_BOOKS[name]
    path = make(tmp_path)
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        read_chapter(path)
    assert caught.value.path == str(path)
    assert caught.value.hint


@pytest.mark.parametrize("name", sorted(BAD_BOOKS))
def test_bad_books_give_one_line_exit_2_and_write_nothing(tmp_path: Path, name: str) -> None:
    make, message = BAD_BOOKS[name]
    path = make(tmp_path)
    script, series = tmp_path / "out.yaml", tmp_path / "series"
    for args in (("script", path, "-o", script), ("book", path, "-o", series), ("cast", "init", path, "-o", script)):
        result = run_cli(*args)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"audiodrama: error: {path}: ") and message in result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert not script.exists() and not series.exists()
