"""The cast file: loading, validation with located messages (library and CLI), thoughts, pronunciations."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiodrama.casting.cast import Cast, Character, Delivery, load_cast, pronounce, voice_for
from audiodrama.errors import InputError
from audiodrama.synthesis.voices import Voice, catalogue
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


BAD_CASTS = [
    ("characters:\n  Naruto Uzumaki:\n    pich: 40\n",
     "3:5: unknown key 'pich' in character 'Naruto Uzumaki' (did you mean 'pitch'?)"),
    ("characters:\n  Naruto:\n    voice: en-us+f9\n",
     "3:12: voice 'en-us+f9' is not installed; close matches: en-us+f5, en-us+f4, en-us+f3 (in character 'Naruto')"),
    ("narrator:\n  voice: en-uk\n", "2:10: voice 'en-uk' is not installed; close matches: en-us"),
    ("characters:\n  Naruto: {rate: fast}\n",
     "2:18: rate of character 'Naruto' must be a whole number from 80 to 450, not 'fast'"),
    ("characters:\n  Naruto: {pitch: 140}\n", "2:19: pitch of character 'Naruto' must be from 0 to 100, not 140"),
    ("narrator: {volume: 2}\n", "1:20: volume of narrator must be from 0 to 1, not 2"),
    ("characters:\n  Naruto: {gender: boy}\n",
     "2:20: gender of 'Naruto' must be one of male, female, other, not 'boy'"),
    ("characters:\n  Naruto: {aliases: kit}\n", "2:21: aliases of 'Naruto' must be a list, like [a, b]"),
    ("characters:\n  Naruto:\n    thought: {rat: 120}\n",
     "3:15: unknown key 'rat' in thoughts of 'Naruto' (did you mean 'rate'?)"),
    ("characters:\n  Naruto:\n    thought: {voice: en-us+whisperr}\n",
     "3:22: voice 'en-us+whisperr' is not installed; close matches: en-us+whisper"),
    ("narrator:\n  voice: en-us\n  aliases: [x]\n", "3:3: unknown key 'aliases' in narrator"),
    ("pronunciations:\n  Kyuubi: '[[kju:bi'\n", "2:11: pronunciation of 'Kyuubi' has unbalanced [[...]]"),
    ("pronunciations:\n  Kyuubi: ''\n", "2:11: pronunciation of 'Kyuubi' is empty"),
    ("characters: [\n", "YAML syntax error"),
    ("narrator:\n\tvoice: en-us\n", "2:1: YAML syntax error"),
    ("characters:\n  A: {}\n  A: {}\n", "3:3: duplicate key 'A'"),
    ("characters:\n  Naruto: {}\n  naruto: {}\n", "3:11: character 'naruto' is listed twice"),
    ("colour: red\n",
     "1:1: unknown key 'colour' in the cast file (allowed: title, engine, narrator, characters, pronunciations)"),
    ("characters:\n  A: !!python/object:os.system {}\n", "2:6: YAML tag"),
    ("a: &x [1]\nb: *x\n", "anchors and aliases"),
    ("", "cast file is empty"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CASTS)
def test_bad_cast_is_refused_with_its_place(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_cast(path)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


@pytest.mark.parametrize(("text", "message"), BAD_CASTS)
def test_cli_reports_bad_cast_on_one_line_with_status_2(tmp_path: Path, text: str, message: str) -> None:
    cast = write(tmp_path, text)
    result = run_cli("cast", "check", cast)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"audiodrama: error: {cast}:")
    assert message in result.stderr


def test_missing_cast_file_is_status_2(tmp_path: Path) -> None:
    result = run_cli("cast", "check", tmp_path / "nope.yaml")
    assert result.returncode == 2
    assert "nope.yaml: cast file not found (check the path)" in result.stderr


def test_close_voice_matches_are_suggested() -> None:
    with pytest.raises(ValueError, match=r"close matches: en-us\+f5, en-us\+f4, en-us\+f3"):
        catalogue().resolve("en-us+f9")


def test_thought_settings_change_only_thoughts(tmp_path: Path) -> None:
    cast = load_cast(write(tmp_path, "characters:\n  Hinata:\n    voice: en-us+f2\n    rate: 170\n"
                                     "    thought: {voice: en-us+whisperf, rate: 140, volume: 0.6}\n"))
    assert voice_for(cast, "Hinata") == Voice("en-us+f2", 170, 50, 1.0)
    assert voice_for(cast, "Hinata", "dialogue") == Voice("en-us+f2", 170, 50, 1.0)
    assert voice_for(cast, "Hinata", "thought") == Voice("en-us+whisperf", 140, 50, 0.6)


def test_settings_without_a_voice_tune_the_auto_cast_voice(tmp_path: Path) -> None:
    cast = load_cast(write(tmp_path, "characters:\n  Hinata: {gender: female, pitch: 70, thought: {rate: 120}}\n"))
    hinata = cast.character("Hinata")
    assert hinata.voice is None and hinata.adjust == Delivery(pitch=70)
    plain = voice_for(Cast(characters=(Character("Hinata", gender="female"),)), "Hinata")
    assert voice_for(cast, "Hinata") == Voice(plain.voice, plain.rate, 70, plain.volume)
    assert voice_for(cast, "Hinata", "thought").rate == 120


def test_voice_names_are_canonicalised(tmp_path: Path) -> None:
    cast = load_cast(write(tmp_path, "narrator: {voice: gmw/en-US}\ncharacters:\n  A: {voice: English (America)+F3}\n"))
    assert cast.narrator.voice == "en-us"
    assert voice_for(cast, "A").voice == "en-us+f3"


def test_pronunciations_replace_whole_words_only() -> None:
    rules = (("Kyuubi", "Kyoo-bee"), ("Jonin", "Joe-nin"))
    assert pronounce("The Kyuubi roared. KYUUBI!", rules) == "The Kyoo-bee roared. KYOO-BEE!"
    assert pronounce("Kyuubis and Jonin-level", rules) == "Kyuubis and Jonin-level"
    assert pronounce("a jonin", rules) == "a Joe-nin"


def test_pronunciations_are_case_aware_and_applied_once() -> None:
    rules = (("US", "you-ess"), ("Uchiha", "Oo-chee-ha"), ("Uchiha Sasuke", "Oo-chee-ha Sass-kay"),
             ("Kyuubi", "[[kj'u:bi]]"), ("Oo", "never"))
    assert pronounce("Let us go to the US.", rules) == "Let us go to the you-ess."
    assert pronounce("Uchiha Sasuke and the Uchiha", rules) == "Oo-chee-ha Sass-kay and the Oo-chee-ha"
    assert pronounce("KYUUBI!", rules) == "[[kj'u:bi]]!"
    assert pronounce("No lexicon.", ()) == "No lexicon."
