"""The cast file: loading, validation with located messages, auto-casting, pronunciations."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiodrama.cast import Cast, Character, Voice, auto_voice, load_cast, pronounce, voice_for
from audiodrama.errors import InputError
from audiodrama.voices import catalogue
from tests.conftest import CASTS, run_cli


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cast.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_cast_loads_with_voices_resolved() -> None:
    cast = load_cast(CASTS / "seeds.yaml")
    naruto = cast.character("naruto")
    assert naruto is not None and naruto.name == "Naruto Uzumaki"
    assert naruto.voice == Voice(voice="en-us+m3", rate=180, pitch=58, volume=1.0)
    assert cast.character("the fox").name == "Kurama"
    assert cast.narrator.voice == "en-gb-x-rp"
    assert ("Kyuubi", "Kyoo-bee") in cast.pronunciations


def test_main_characters_of_sample_cast_have_distinct_voices() -> None:
    cast = load_cast(CASTS / "seeds.yaml")
    mains = ["Naruto Uzumaki", "Sasuke Uchiha", "Sakura Haruno", "Kurama", "Tsunade", "Kakashi Hatake"]
    specs = {voice_for(cast, name).voice for name in mains} | {cast.narrator.voice}
    assert len(specs) == len(mains) + 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("characters:\n  Naruto:\n    pich: 40\n",
         "3:5: unknown key 'pich' in character 'Naruto' (did you mean 'pitch'?)"),
        ("characters:\n  Naruto:\n    voice: en-us+f9\n", "3:12: voice 'en-us+f9' is not installed; close matches:"),
        ("characters:\n  Naruto: {rate: fast}\n", "2:18: rate of character 'Naruto' must be a whole number"),
        ("characters:\n  Naruto: {pitch: 140}\n", "2:19: pitch of character 'Naruto' must be from 0 to 100"),
        ("characters:\n  Naruto: {gender: boy}\n", "gender of 'Naruto' must be one of male, female, other"),
        ("characters: [\n", "YAML syntax error"),
        ("narrator:\n\tvoice: en-us\n", "2:1: YAML syntax error"),
        ("characters:\n  A: {}\n  A: {}\n", "3:3: duplicate key 'A'"),
        ("colour: red\n", "1:1: unknown key 'colour' in the cast file"),
        ("characters:\n  A: !!python/object:os.system {}\n", "2:6: YAML tag"),
        ("a: &x [1]\nb: *x\n", "anchors and aliases"),
        ("", "cast file is empty"),
    ],
)
def test_bad_cast_is_refused_with_its_place(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_cast(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_close_voice_matches_are_suggested() -> None:
    with pytest.raises(ValueError, match=r"close matches: en-us\+f5, en-us\+f4, en-us\+f3"):
        catalogue().resolve("en-us+f9")


def test_cli_reports_bad_cast_on_one_line_with_status_2(tmp_path: Path) -> None:
    cast = write(tmp_path, "characters:\n  Naruto:\n    pich: 40\n")
    chapter = tmp_path / "chapter.txt"
    chapter.write_text('"Hello," said Naruto.\n', encoding="utf-8")
    result = run_cli("produce", chapter, "--cast", cast, "-o", tmp_path / "out", "-q")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "Traceback" not in result.stderr
    assert f"{cast}:3:5: unknown key 'pich'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_auto_voice_is_stable_gendered_and_never_the_narrators() -> None:
    narrator = Voice(voice="en-us+m3")
    for name in ["Alice", "Bob", "Kurama", "Mr. Darcy", "Nurse"]:
        for gender, prefix in (("male", "+m"), ("female", "+f")):
            voice = auto_voice(name, gender, narrator)
            assert voice == auto_voice(name, gender, narrator)
            assert prefix in voice.voice
            assert voice.voice != narrator.voice
            catalogue().resolve(voice.voice)


def test_auto_voice_does_not_depend_on_other_characters() -> None:
    small = Cast(characters=(Character("Yamato", gender="male"),))
    large = Cast(characters=tuple(Character(n, gender="male") for n in ["Aa", "Yamato", "Zz", "Bb"]))
    assert voice_for(small, "Yamato") == voice_for(large, "yamato")


def test_pronunciations_replace_whole_words_only() -> None:
    rules = (("Kyuubi", "Kyoo-bee"), ("Jonin", "Joe-nin"))
    assert pronounce("The Kyuubi roared. KYUUBI!", rules) == "The Kyoo-bee roared. KYOO-BEE!"
    assert pronounce("Kyuubis and Jonin-level", rules) == "Kyuubis and Jonin-level"
    assert pronounce("a jonin", rules) == "a Joe-nin"
