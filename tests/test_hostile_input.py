"""Hostile input through the command line, as users meet it: scraped chapters, hand-edited YAML, odd
output folders. A refusal is one line on stderr naming the file (and the place in it), exit status 2,
no traceback, and the episode produced before it stays byte for byte with no temporary file left."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli

CHAPTER = '"Are you ready?" said Naruto.\n\nSasuke nodded and drew his sword.\n'
ONE_LINE_MB = 10_000_000


def assert_refused(result: subprocess.CompletedProcess[str], *where: str) -> None:
    """One line on stderr saying what and where, exit status 2, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("audiodrama: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for part in where:
        assert part in lines[0], lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def older(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder holding `chapter` produced before the hostile input arrives."""
    folder = tmp_path_factory.mktemp("older")
    (folder / "chapter.txt").write_text(CHAPTER)
    result = run_cli("produce", folder / "chapter.txt", "-o", folder / "out", "-q")
    assert result.returncode == 0, result.stderr
    return folder / "out"


@pytest.fixture
def out(older: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the older output; afterwards every file in it is as it was and nothing was added."""
    target = tmp_path / "out"
    shutil.copytree(older, target)
    before = snapshot(target)
    yield target
    assert snapshot(target) == before


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


@pytest.mark.parametrize(("data", "message"), [
    (PNG, "chapter.txt:1:1: this is a binary file"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 8, "chapter.txt:1:1: this is a binary file"),
    (bytes(range(256)) * 40, "chapter.txt:1:1: this is a binary file"),
    (b"", "chapter.txt: the chapter is empty"),
    (b"  \n\t\r\n\r\n   \n", "chapter.txt: the chapter is empty"),
    (b'"..." !!\n\n* * *\n', "chapter.txt: the chapter is empty"),
], ids=["png", "jpeg", "binary", "empty", "whitespace", "punctuation"])
def test_unusable_chapter_is_refused(tmp_path: Path, out: Path, data: bytes, message: str) -> None:
    chapter = tmp_path / "chapter.txt"
    chapter.write_bytes(data)
    assert_refused(run_cli("produce", chapter, "-o", out, "-q"), message)


@pytest.mark.parametrize(("data", "spoken"), [
    ("“Café,” said Naruto. “Naïve.”\n".encode("cp1252"), ["Café,", "Naïve."]),
    ("«Garçon,» said Naruto. Été.\n".encode("latin-1"), ["Garçon,"]),
    ("\ufeff\"Hi,\" said Naruto.\n".encode(), ["Hi,"]),
    ("\"Hi,\" said Naruto.\n".encode("utf-16"), ["Hi,"]),
    (b'"Hi," said Naruto.\r\n\r\n"Go," said Sasuke.\r\n', ["Hi,", "Go,"]),
    (b'"Hi," said Naruto.\r\r"Go," said Sasuke.\r', ["Hi,", "Go,"]),
], ids=["cp1252", "latin-1", "utf-8-bom", "utf-16", "crlf", "lone-cr"])
def test_encodings_and_line_ends_are_read(tmp_path: Path, data: bytes, spoken: list[str]) -> None:
    chapter = tmp_path / "chapter.txt"
    chapter.write_bytes(data)
    result = run_cli("script", chapter, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows if r["kind"] == "dialogue"] == spoken
    assert rows[0]["speaker"] == "Naruto"
    expected = [0, 1] if b"Sasuke" in data else [0] * len(spoken)  # line ends of every kind part paragraphs
    assert [r["paragraph"] for r in rows if r["kind"] == "dialogue"] == expected


@pytest.mark.parametrize(("text", "kinds"), [
    ("He walked on. The rain had stopped.\n\nShe followed him home.\n", {"narration"}),
    ('"Are you coming?"\n\n"No."\n\n"Then I go alone."\n', {"dialogue"}),
], ids=["no-dialogue", "all-dialogue"])
def test_chapters_without_narration_or_dialogue_are_produced(tmp_path: Path, text: str, kinds: set[str]) -> None:
    chapter = tmp_path / "chapter.txt"
    chapter.write_text(text)
    result = run_cli("produce", chapter, "-o", tmp_path / "out", "-q")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "out" / "chapter.script.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in rows} == kinds
    assert (tmp_path / "out" / "chapter.mp3").stat().st_size > 10_000


def test_ten_megabyte_chapter_on_one_line_of_narration(tmp_path: Path) -> None:
    sentence = "He walked on and the sun was bright over the village, and nobody saw him at all. "
    text = sentence * (ONE_LINE_MB // len(sentence))
    chapter = tmp_path / "chapter.txt"
    chapter.write_text(text)
    result = run_cli("script", chapter, "--format", "jsonl", "-o", tmp_path / "script.jsonl", timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "script.jsonl").read_text().splitlines()]
    assert rows[0]["start"] == 0 and rows[-1]["end"] == len(text.rstrip())


def test_ten_megabyte_chapter_on_one_line_of_dialogue(tmp_path: Path) -> None:
    sentence = '"Hello there, friend," said Naruto. He walked on and the sun was bright. '
    chapter = tmp_path / "chapter.txt"
    chapter.write_text(sentence * (ONE_LINE_MB // len(sentence)))
    result = run_cli("script", chapter, "--format", "jsonl", "-o", tmp_path / "script.jsonl", timeout=30)
    assert result.returncode == 0, result.stderr


def many_speakers(count: int) -> str:
    """A chapter in which `count` differently named characters each say a line, in one scene."""
    names = [f"{first}{second}{third}".capitalize() for first in ("bal", "cor", "dem", "fen", "gal", "hob",
                                                                   "jor", "kel", "lum", "mar", "nik", "pel")
             for second in ("ar", "en", "ir", "on", "ur", "yl", "ash") for third in "bdgklmnprstvz"]
    assert len(names) >= count
    return "\n\n".join(f'"I have something to say," said {name}.' for name in names[:count]) + "\n"


def test_hundreds_of_characters_are_read_and_tiled(tmp_path: Path) -> None:
    text = many_speakers(500)
    chapter = tmp_path / "chapter.txt"
    chapter.write_text(text)
    result = run_cli("script", chapter, "--format", "jsonl", timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len({r["speaker"] for r in rows if r["kind"] == "dialogue"}) == 500


def test_thousands_of_characters_are_cast(tmp_path: Path) -> None:
    chapter = tmp_path / "chapter.txt"
    chapter.write_text(many_speakers(1000))
    result = run_cli("cast", "init", chapter, "-o", tmp_path / "cast.yaml", timeout=30)
    assert result.returncode == 0, result.stderr


# --- YAML: cast, settings and manifest -------------------------------------------------------------------

PWNED = "PWNED"
"""A file the Python tags below would create if any YAML tag were ever constructed."""


def python_tags(folder: Path) -> list[str]:
    """Values that construct Python objects in an unsafe loader; each would create `folder/PWNED`."""
    target = folder / PWNED
    return [f"!!python/object/apply:os.system [\"touch {target}\"]",
            f"!!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path [\"{target}\"]]",
            f"!!python/object/new:subprocess.Popen [[touch, \"{target}\"]]"]


CAST_CASES = {
    "syntax": ("characters:\n  Naruto: [unclosed\n", "cast.yaml:3:1: YAML syntax error"),
    "tab": ("characters:\n\tNaruto: {}\n", "cast.yaml:2:1: YAML syntax error: found character '\\t'"),
    "duplicate": ("title: A\ntitle: B\n", "cast.yaml:2:1: duplicate key 'title'"),
    "wrong-type": ("characters: [Naruto, Sasuke]\n", "cast.yaml:1:13: characters must be a mapping"),
    "rate": ("narrator: {rate: fast}\n", "cast.yaml:1:18: rate of narrator must be a whole number"),
    "unknown-voice": ("characters:\n  Naruto: {voice: en-zz-nowhere}\n",
                      "cast.yaml:2:19: voice 'en-zz-nowhere' is not installed"),
    "billion-laughs": ("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n",
                       "cast.yaml:1:4: YAML anchors and aliases"),
    "deep": ("characters: " + "[" * 200 + "]" * 200 + "\n", "cast.yaml:1:"),
    "huge-number": ("narrator: {rate: " + "9" * 5000 + "}\n", "cast.yaml:1:18: rate of narrator is a number too long"),
}


@pytest.mark.parametrize("case", CAST_CASES)
def test_bad_cast_file_is_refused(tmp_path: Path, out: Path, older: Path, case: str) -> None:
    text, message = CAST_CASES[case]
    (tmp_path / "cast.yaml").write_text(text)
    assert_refused(run_cli("produce", older.parent / "chapter.txt", "--cast", tmp_path / "cast.yaml", "-o", out,
                           "-q"), message)


def test_cast_file_not_utf8(tmp_path: Path, out: Path, older: Path) -> None:
    (tmp_path / "cast.yaml").write_bytes("title: Café\n".encode("latin-1"))
    assert_refused(run_cli("produce", older.parent / "chapter.txt", "--cast", tmp_path / "cast.yaml", "-o", out,
                           "-q"), "cast.yaml: cast file is not UTF-8 text")


@pytest.mark.parametrize("kind", ["cast", "settings", "manifest"])
def test_python_tags_never_execute(tmp_path: Path, out: Path, older: Path, kind: str) -> None:
    for number, tag in enumerate(python_tags(tmp_path)):
        (tmp_path / "chapter.txt").write_text(CHAPTER)
        line = {"cast": f"title: {tag}\n", "settings": f"intro: {tag}\n",
                "manifest": f"title: Series\nauthor: {tag}\nepisodes: [chapter.txt]\n"}[kind]
        file = tmp_path / f"{kind}-{number}.yaml"
        file.write_text(line)
        command = {"cast": ("produce", older.parent / "chapter.txt", "--cast", file, "-o", out, "-q"),
                   "settings": ("produce", older.parent / "chapter.txt", "--settings", file, "-o", out, "-q"),
                   "manifest": ("batch", file)}[kind]
        assert_refused(run_cli(*command), f"{file.name}:", "is not allowed")
        assert not (tmp_path / PWNED).exists()


@pytest.mark.parametrize(("text", "message"), [
    ("pauses: {paragraph: -5}\n", "settings.yaml:1:21: paragraph in pauses must be from 0"),
    ("ambience: {files: {rain: nowhere.ogg}}\n", "settings.yaml:1:26: file of bed 'rain' not found"),
    ("intro: missing.mp3\n", "settings.yaml:1:8: intro music file not found"),
    ("levels: {target_lufs: [1, 2]}\n", "settings.yaml:1:23: target_lufs in levels must be a single value"),
])
def test_bad_settings_file_is_refused(tmp_path: Path, out: Path, older: Path, text: str, message: str) -> None:
    (tmp_path / "settings.yaml").write_text(text)
    assert_refused(run_cli("produce", older.parent / "chapter.txt", "--settings", tmp_path / "settings.yaml",
                           "-o", out, "-q"), message)


@pytest.mark.parametrize(("key", "message"), [
    ("ambience: {files: {room: corrupt.ogg}}", "corrupt.ogg: cannot read this ambience file"),
    ("intro: corrupt.ogg", "corrupt.ogg: cannot read this music file"),
])
def test_corrupt_sound_file_is_refused(tmp_path: Path, out: Path, older: Path, key: str, message: str) -> None:
    (tmp_path / "corrupt.ogg").write_bytes(b"OggS" + bytes(range(256)) * 4)
    (tmp_path / "settings.yaml").write_text(key + "\n")
    assert_refused(run_cli("produce", older.parent / "chapter.txt", "--settings", tmp_path / "settings.yaml",
                           "-o", out, "-q"), message)


# --- series manifests -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("episodes", "message"), [
    ("[{file: chapter.txt, name: ../escaped}]", "series.yaml:2:38: episode name '../escaped' would write outside"),
    ("[{file: chapter.txt, name: /tmp/escaped}]", "series.yaml:2:38: episode name '/tmp/escaped' would write"),
    ("[{file: chapter.txt, name: sub/escaped}]", "series.yaml:2:38: episode name 'sub/escaped' would write"),
    ("[{file: chapter.txt, name: \"line\\nbreak\"}]", "series.yaml:2:38: episode name 'line\\nbreak' is not a usable"),
    ("[{file: chapter.txt, name: " + "x" * 300 + "}]", "series.yaml:2:38: episode name 'xxx"),
    ("[../" + "a" * 4000 + ".txt]", "series.yaml:2:12: chapter file cannot be read: File name too long"),
], ids=["dot-dot", "absolute", "slash", "newline", "too-long", "path-too-long"])
def test_manifest_names_outside_the_output_folder_are_refused(tmp_path: Path, episodes: str, message: str) -> None:
    series = tmp_path / "series"
    series.mkdir()
    (series / "chapter.txt").write_text(CHAPTER)
    (series / "series.yaml").write_text(f"title: Series\nepisodes: {episodes}\n")
    assert_refused(run_cli("batch", series / "series.yaml"), message)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["chapter.txt", "series", "series.yaml"]


@pytest.mark.parametrize(("image", "data", "message"), [
    ("cover.png", None, "series.yaml:2:8: cover image not found"),
    ("cover.png", b"GIF89a" + bytes(100), "series.yaml:2:8: cover image 'cover.png' is not a JPEG or PNG picture"),
])
def test_missing_or_corrupt_cover_is_refused(tmp_path: Path, image: str, data: bytes | None, message: str) -> None:
    (tmp_path / "chapter.txt").write_text(CHAPTER)
    if data is not None:
        (tmp_path / image).write_bytes(data)
    (tmp_path / "series.yaml").write_text(f"title: Series\nimage: {image}\nepisodes: [chapter.txt]\n")
    assert_refused(run_cli("batch", tmp_path / "series.yaml"), message)
    assert not (tmp_path / "output").exists()


# --- output folders -------------------------------------------------------------------------------------


def test_output_folder_that_is_a_file(tmp_path: Path, older: Path) -> None:
    (tmp_path / "out").write_text("not a folder")
    assert_refused(run_cli("produce", older.parent / "chapter.txt", "-o", tmp_path / "out", "-q"),
                   "out: output folder is a file")
    assert (tmp_path / "out").read_text() == "not a folder"


def test_folder_in_the_way_of_the_episode(tmp_path: Path, older: Path) -> None:
    (tmp_path / "out" / "chapter.mp3").mkdir(parents=True)
    assert_refused(run_cli("produce", older.parent / "chapter.txt", "-o", tmp_path / "out", "-q"),
                   "chapter.mp3: a folder is in the way")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["chapter.mp3"]


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder nobody may write in: read-only permissions, or (root ignores those) one in sysfs."""
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir(mode=0o555)
        return folder
    if not Path("/sys/kernel").is_dir():
        pytest.skip("running as root without sysfs: no folder root cannot write")
    return Path("/sys/kernel")


def test_unwritable_output_folder_is_refused_before_any_work(tmp_path: Path, older: Path) -> None:
    folder = unwritable_folder(tmp_path)
    assert_refused(run_cli("produce", older.parent / "chapter.txt", "-o", folder, "-q"),
                   f"{folder}: output folder is not writable")


def test_script_to_a_device_writes_into_it(tmp_path: Path, older: Path) -> None:
    result = run_cli("script", older.parent / "chapter.txt", "-o", os.devnull)
    assert result.returncode == 0, result.stderr
    assert Path(os.devnull).is_char_device(), "the device must never be replaced by a file"
