"""`audiodrama book`: an EPUB becomes a series manifest with one episode per chapter, the chapters' own
files (italics kept), the cover and a cast discovered over the whole book; `batch` then builds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from audiodrama.errors import InputError
from audiodrama.series.book import book_to_series
from audiodrama.series.manifest import load_series
from audiodrama.text.chapter import Kind
from audiodrama.text.reader import read_chapter
from tests.books import BOOK_AUTHOR, BOOK_TITLE, CHAPTER_TITLES, COVER, EXPECTED, write_book
from tests.conftest import run_cli


@pytest.fixture
def series(tmp_path: Path) -> Path:
    """The book's series written by the command, as a user would; its manifest."""
    book = write_book(tmp_path / "leafs-exile.epub")
    result = run_cli("book", book, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = tmp_path / "leafs-exile" / "series.yaml"
    assert result.stderr.startswith("leafs-exile/series.yaml: 3 episodes, ") and "audiodrama batch" in result.stderr
    return manifest


def test_a_book_becomes_a_series_the_manifest_reader_takes(series: Path) -> None:
    loaded = load_series(series)
    assert (loaded.title, loaded.author, loaded.language) == (BOOK_TITLE, BOOK_AUTHOR, "en")
    assert loaded.image == series.parent / "cover.png" and loaded.image.read_bytes() == COVER.read_bytes()
    assert tuple(e.title for e in loaded.episodes) == CHAPTER_TITLES
    assert [e.file.name for e in loaded.episodes] == ["001-chapter-one.html", "002-chapter-two.html",
                                                      "003-chapter-three.html"]
    for episode, expected in zip(loaded.episodes, EXPECTED, strict=True):
        chapter = read_chapter(episode.file)
        assert [chapter.text[p.start : p.end] for p in chapter.paragraphs] == expected
    first = read_chapter(loaded.episodes[0].file)
    assert [first.text[a:b] for a, b in first.emphasis] == ["Not again,"]
    assert {"Naruto", "Sasuke", "Sakura"} <= {c.name for c in loaded.cast.characters}


def test_a_second_run_needs_force(series: Path) -> None:
    book = series.parent.parent / "leafs-exile.epub"
    before = series.read_bytes()
    result = run_cli("book", book, "-o", series.parent)
    assert result.returncode == 2
    assert result.stderr == (f"audiodrama: error: {series}: a series was already written here (use --force to "
                             "write it again, or give another folder with -o)\n")
    assert run_cli("book", book, "-o", series.parent, "--force", "--authors-notes").returncode == 0
    assert series.read_bytes() != before
    assert yaml.safe_load(series.read_text(encoding="utf-8"))["production"] == {"authors_notes": True}


def test_only_epub_books_make_a_series(tmp_path: Path) -> None:
    page = tmp_path / "chapter.html"
    page.write_text("<html><body><p>Hello there.</p></body></html>", encoding="utf-8")
    with pytest.raises(InputError, match="this is a html file, not an EPUB book"):
        book_to_series(page, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_book_without_a_cover_has_no_image(tmp_path: Path) -> None:
    made = book_to_series(write_book(tmp_path / "plain.epub", cover=False), tmp_path / "plain")
    assert made.cover is None and "image" not in yaml.safe_load(made.manifest.read_text(encoding="utf-8"))
    assert load_series(made.manifest).image is None


@pytest.mark.slow
def test_batch_builds_the_book(series: Path) -> None:
    result = run_cli("batch", series, "--jobs", "2", "--quiet")
    assert result.returncode == 0, result.stderr
    out = series.parent / "output" / "series"
    for name in ("001-chapter-one", "002-chapter-two", "003-chapter-three"):
        assert (out / f"{name}.mp3").stat().st_size > 10_000
    first = [json.loads(line) for line in (out / "001-chapter-one.script.jsonl").read_text().splitlines()]
    assert first[0]["format"] == "html"
    assert [(s["speaker"], s["text"]) for s in first if s["kind"] == Kind.THOUGHT] == [("Sasuke", "Not again,")]
    report = json.loads((out / "report.json").read_text())
    assert [e["status"] for e in report["episodes"]] == ["built"] * 3
