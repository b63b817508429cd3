"""Script formats: the fixed JSONL, the editable YAML round trip, located errors, the text view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audiodrama.attribution import parse_file
from audiodrama.casting.cast import Cast, Character
from audiodrama.errors import InputError
from audiodrama.script import is_script_file, load_script, to_jsonl, to_text, to_yaml
from tests.conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures" / "parser"
CAST = Cast(
    characters=(Character("Naruto Uzumaki", ("Naruto",), "male"), Character("Sasuke Uchiha", ("Sasuke",), "male"))
)


@pytest.fixture(scope="module")
def script():
    return parse_file(FIXTURES / "chapter-000.txt", CAST)


def test_jsonl_has_the_fixed_keys_in_reading_order(script):
    rows = [json.loads(line) for line in to_jsonl(script).splitlines()]
    assert {"kind", "speaker", "start", "end", "text", "confidence", "reason"} <= set(rows[0])
    assert [r["start"] for r in rows] == sorted(r["start"] for r in rows)
    first = next(r for r in rows if r["kind"] == "dialogue")
    assert (first["speaker"], first["text"], first["reason"]) == (
        "Naruto Uzumaki",
        "Are you ready Sasuke?",
        "tag: said Naruto",
    )


def test_yaml_round_trip_keeps_an_edited_speaker(script, tmp_path):
    path = tmp_path / "chapter-000.script.yaml"
    path.write_text(to_yaml(script).replace("speaker: Sasuke Uchiha", "speaker: Kakashi Hatake", 1), encoding="utf-8")
    assert is_script_file(path)
    loaded = load_script(path)
    assert len(loaded.segments) == len(script.segments)
    changed = [(a, b) for a, b in zip(script.segments, loaded.segments, strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1].speaker == "Kakashi Hatake"
    assert loaded.title == script.title


def test_jsonl_loads_back_identically(script, tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(to_jsonl(script), encoding="utf-8")
    assert load_script(path).segments == script.segments


def test_cast_and_chapter_files_are_not_scripts(tmp_path):
    cast = tmp_path / "cast.yaml"
    cast.write_text("characters:\n  Naruto:\n    gender: male\n", encoding="utf-8")
    assert not is_script_file(cast)
    assert not is_script_file(FIXTURES / "chapter-000.txt")


def test_bad_yaml_segment_is_located(script, tmp_path):
    path = tmp_path / "bad.yaml"
    text = to_yaml(script).replace("kind: dialogue", "kind: shouting", 1)
    path.write_text(text, encoding="utf-8")
    line = text[: text.index("kind: shouting")].count("\n") + 1
    with pytest.raises(InputError, match=rf"bad.yaml:{line}:3: unknown kind 'shouting'"):
        load_script(path)


def test_bad_jsonl_line_is_located(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"kind": "narration", "start": 0, "end": 3, "text": "abc"}\n{"kind": "dialogue", oops}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2:\d+"):
        load_script(path)


def test_text_view_names_speakers(script):
    view = to_text(script)
    assert "NARUTO UZUMAKI: Are you ready Sasuke?" in view
    assert view.startswith("# At Valley of The End")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda text: text + "segments: []\n", r"bad.script.yaml:\d+:1: duplicate key 'segments'"),
        (lambda text: text.replace("title:", "title: &t", 1), r"bad.script.yaml:\d+:\d+: YAML anchors and aliases"),
        (lambda text: text.replace("title:", "notes: x\ntitle:", 1), r"bad.script.yaml:3:1: unknown key 'notes'"),
    ],
    ids=["duplicate key", "anchor", "unknown key"],
)
def test_edited_yaml_script_goes_through_the_safe_reader(script, tmp_path, change, message):
    """An edited YAML script is read like every other YAML file: one located line, exit 2, no traceback."""
    path = tmp_path / "bad.script.yaml"
    path.write_text(change(to_yaml(script)), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_script(path)
    result = run_cli("produce", str(path), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
