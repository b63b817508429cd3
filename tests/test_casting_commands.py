"""`audiodrama cast init` and `audiodrama cast check`, run as a user would."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from audiodrama.attribution import discover_characters
from audiodrama.casting.cast import Cast, Character, load_cast, voice_for
from audiodrama.casting.chapters import Casting, Reading, cast_file_text, cast_scripts, read_chapters
from audiodrama.synthesis.voices import Voice
from audiodrama.text.reader import read_chapter
from tests.conftest import CASTS, SAMPLES, run_cli

CHAPTER_0 = SAMPLES / "chapter-000.txt"
CHAPTER_1 = SAMPLES / "chapter-001.txt"


@pytest.fixture(scope="module")
def discovered() -> None:
    if not discover_characters(read_chapter(CHAPTER_0)):
        pytest.skip("the parser's character discovery finds no one in chapter 000 yet")


def test_init_writes_an_editable_cast_with_frozen_voices(tmp_path: Path, discovered: None) -> None:
    target = tmp_path / "cast.yaml"
    result = run_cli("cast", "init", CHAPTER_0, CHAPTER_1, "-o", target)
    assert result.returncode == 0, result.stderr
    text = target.read_text(encoding="utf-8")
    cast = load_cast(target)
    naruto = cast.character("Naruto")
    assert naruto is not None and naruto.gender == "male"
    assert all(c.voice is not None for c in cast.characters)
    counts = [int(n) for n in re.findall(r"^  \S.*:  # (\d+) lines? \(chapter-000\.txt", text, re.MULTILINE)]
    assert len(counts) >= 3 and counts == sorted(counts, reverse=True)
    assert re.search(r"chapter-000\.txt: \d+, chapter-001\.txt: \d+\)", text)
    assert f"{target}: {len(cast.characters)} characters" in result.stderr
    reading = read_chapters([CHAPTER_0, CHAPTER_1], Cast())
    fresh = cast_scripts(reading.cast, reading.scripts).cast
    for character in cast.characters:
        assert character.voice == voice_for(fresh, character.name), character.name


def test_init_never_overwrites_without_force(tmp_path: Path, discovered: None) -> None:
    target = tmp_path / "cast.yaml"
    target.write_text("# mine\n", encoding="utf-8")
    result = run_cli("cast", "init", CHAPTER_0, "-o", target)
    assert result.returncode == 2
    assert result.stderr == f"audiodrama: error: {target}: cast file already exists (use --force to overwrite it)\n"
    assert target.read_text(encoding="utf-8") == "# mine\n"
    assert run_cli("cast", "init", CHAPTER_0, "-o", target, "--force").returncode == 0
    assert load_cast(target).characters


def test_init_creates_the_folder_and_refuses_a_folder_as_the_file(tmp_path: Path) -> None:
    assert run_cli("cast", "init", CHAPTER_0, "-o", tmp_path / "new" / "cast.yaml").returncode == 0
    assert load_cast(tmp_path / "new" / "cast.yaml").narrator == Voice()
    result = run_cli("cast", "init", CHAPTER_0, "-o", tmp_path, "--force")
    assert result.returncode == 2
    assert f"{tmp_path}: cast file to write is a folder (give a file name with -o)" in result.stderr


def test_init_refuses_a_missing_chapter_with_status_2(tmp_path: Path) -> None:
    result = run_cli("cast", "init", tmp_path / "none.txt", "-o", tmp_path / "cast.yaml")
    assert result.returncode == 2
    assert "none.txt: cannot read the chapter" in result.stderr
    assert not (tmp_path / "cast.yaml").exists()


def test_cast_file_text_quotes_what_yaml_would_misread(tmp_path: Path) -> None:
    names = ["Mr. O'Brien", "Yes", "#1 Fan", "Ana: the Second", "12", "Zoë"]
    cast = Cast(characters=tuple(Character(n, aliases=("null", "the 'kid'"), gender="other") for n in names))
    casting = cast_scripts(cast, ())
    reading = Reading(cast, (), {"Yes": Counter({"c.txt": 1})})
    target = tmp_path / "cast.yaml"
    target.write_text(cast_file_text(casting, reading, [Path("c.txt")]), encoding="utf-8")
    loaded = load_cast(target)
    assert [c.name for c in loaded.characters] == ["Yes", *(n for n in names if n != "Yes")]
    assert loaded.character("Yes").aliases == ("null", "the 'kid'")
    assert "  Yes:  # 1 line (c.txt: 1)" in target.read_text().replace('"Yes"', "Yes")
    assert voice_for(loaded, "Zoë") == voice_for(casting.cast, "Zoë")
    empty = cast_file_text(Casting(Cast()), Reading(Cast(), ()), [Path("c.txt")])
    target.write_text(empty, encoding="utf-8")
    assert load_cast(target).characters == ()


def test_check_passes_the_sample_cast() -> None:
    result = run_cli("cast", "check", CASTS / "seeds.yaml", CHAPTER_0, CHAPTER_1)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr
    assert result.stderr.strip().endswith("seeds.yaml: OK")


def test_check_reports_shared_aliases_silent_characters_and_alike_partners(tmp_path: Path,
                                                                          discovered: None) -> None:
    cast = tmp_path / "cast.yaml"
    cast.write_text("""characters:
  Naruto Uzumaki: {aliases: [Naruto, kit], gender: male, voice: en-us+m3}
  Kakashi Hatake: {aliases: [Kakashi, Kit], gender: male}
  Sakura Haruno: {aliases: [Sakura], gender: female, voice: en-us+f3, rate: 175, pitch: 62}
  Sasuke Uchiha: {aliases: [Sasuke], gender: male, voice: en-us+f3, rate: 170, pitch: 60}
  Jiraiya: {aliases: [Ero-sennin], gender: male}
""", encoding="utf-8")
    result = run_cli("cast", "check", cast, CHAPTER_0)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert f"{cast}: alias: 'kit' names both 'Naruto Uzumaki' and 'Kakashi Hatake'; keep it on one of them" in lines
    assert f"{cast}: silent: 'Jiraiya' never speaks in the chapters given" in lines
    alike = [line for line in lines if ": alike: " in line]
    assert alike == [f"{cast}: alike: 'Sakura Haruno' and 'Sasuke Uchiha' share a scene but sound alike: "
                     "en-us+f3 (rate 175, pitch 62) and en-us+f3 (rate 170, pitch 60); "
                     "change one's voice, pitch or rate"]


def test_check_reports_speakers_missing_from_the_cast(tmp_path: Path, discovered: None) -> None:
    cast = tmp_path / "cast.yaml"
    cast.write_text("characters:\n  Naruto Uzumaki: {aliases: [Naruto], gender: male}\n", encoding="utf-8")
    result = run_cli("cast", "check", cast, CHAPTER_0)
    assert result.returncode == 1
    missing = [line for line in result.stdout.splitlines() if ": missing: " in line]
    assert any(re.fullmatch(rf"{re.escape(str(cast))}: missing: 'Sakura' speaks \(\d+ in chapter-000\.txt\) "
                            r"but is not in the cast; auto-cast as en-[\w-]+\+\w+ \(rate \d+, pitch \d+\) "
                            r"until you add it", line) for line in missing), missing
    assert not any("Naruto" in line for line in missing)


def test_check_without_chapters_flags_any_two_voices_too_alike(tmp_path: Path) -> None:
    cast = tmp_path / "cast.yaml"
    cast.write_text("narrator: {voice: en-us+m3, pitch: 50}\ncharacters:\n  A: {voice: en-us+m3, pitch: 55}\n"
                    "  B: {voice: en-gb+m3, pitch: 55}\n", encoding="utf-8")
    result = run_cli("cast", "check", cast)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{cast}: alike: the narrator and 'A' are in one cast but sound alike: en-us+m3 (rate 165, pitch 50) and "
        "en-us+m3 (rate 165, pitch 55); change one's voice, pitch or rate"]
    assert load_cast(cast).narrator == Voice("en-us+m3")
