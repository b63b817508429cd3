"""The batch report's lines to review point at the chapter file's own lines."""

from __future__ import annotations

from pathlib import Path

from audiodrama.episode import read_source
from audiodrama.series.manifest import load_series
from audiodrama.series.report import review_lines
from tests.conftest import REPO
from tests.series_helpers import write_manifest


def test_review_lines_of_a_crlf_chapter_are_its_file_lines(tmp_path: Path) -> None:
    lf = tmp_path / "lf.txt"
    lf.write_bytes((REPO / "samples" / "chapter-000.txt").read_bytes().replace(b"\r\n", b"\n"))
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(lf.read_bytes().replace(b"\n", b"\r\n"))
    series = load_series(write_manifest(tmp_path, "title: Line ends\nepisodes: [lf.txt, crlf.txt]\n"))
    reviews = [review_lines(spec, read_source(spec.file, spec.cast)) for spec in series.episodes]
    lines = lf.read_text().splitlines()
    assert reviews[0] and all(r.text[:30] in lines[r.line - 1] for r in reviews[0])
    # (the line ends nudge a few confidences, so the lines are compared, not the whole reviews)
    assert [(r.line, r.text) for r in reviews[1]] == [(r.line, r.text) for r in reviews[0]]
