"""`audiodrama audition`: a short MP3 per voice, from stock sentences or a chapter's own lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiodrama.casting.audition import audition
from audiodrama.casting.cast import load_cast
from audiodrama.mixing.audio import decode
from tests.conftest import CASTS, SAMPLES, run_cli

pytestmark = pytest.mark.slow
"""Every test here renders seconds of real audio or more."""


def test_audition_writes_one_playable_mp3_per_voice(tmp_path: Path) -> None:
    result = run_cli("audition", CASTS / "seeds.yaml", "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    cast = load_cast(CASTS / "seeds.yaml")
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == len(cast.characters) + 1 and "narrator.mp3" in files and "naruto-uzumaki.mp3" in files
    assert f"{tmp_path / 'kurama.mp3'}: Kurama, en-us+m7 (rate 140, pitch 15)" in result.stdout.splitlines()
    for name in files:
        assert 3 < len(decode(tmp_path / name)) / 22050 < 15, name


def test_audition_of_one_character_takes_their_first_lines_from_a_chapter(tmp_path: Path) -> None:
    cast = load_cast(CASTS / "seeds.yaml")
    stock = audition(cast, tmp_path / "stock", "the fox")
    chapter = audition(cast, tmp_path / "chapter", "Kurama", SAMPLES / "chapter-000.txt")
    assert [a.name for a in stock] == [a.name for a in chapter] == ["Kurama"]
    assert [p.name for p in (tmp_path / "chapter").iterdir()] == ["kurama.mp3"]
    heard = [len(decode(a.mp3)) for a in (*stock, *chapter)]
    assert heard[0] != heard[1]


def test_audition_of_an_unknown_character_is_status_2(tmp_path: Path) -> None:
    result = run_cli("audition", CASTS / "seeds.yaml", "--character", "Narutoo", "-o", tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"audiodrama: error: {CASTS / 'seeds.yaml'}: no character 'Narutoo' in the cast "
                                    "(did you mean 'Naruto'")
    assert not any(tmp_path.iterdir())
