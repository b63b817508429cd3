"""The voice catalogue read from espeak-ng's data, and `audiodrama voices`."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiodrama.synthesis.voices import UnknownVoiceError, Voice, VoiceCatalogue, catalogue
from tests.conftest import run_cli


def test_catalogue_knows_variants_and_their_genders() -> None:
    voices = catalogue()
    genders = {v.id: v.gender for v in voices.variants}
    assert {genders[f"m{i}"] for i in range(1, 8)} == {"male"}
    assert {genders[f"f{i}"] for i in range(1, 6)} == {"female"}
    assert genders["whisperf"] == "female" and genders["croak"] == "male"
    assert genders["shelby"] == "female"  # declares no gender; its pitch range says so
    assert len(voices.variants_for("female")) >= 10
    assert len(voices.english()) >= 6


def test_a_variant_file_without_gender_is_judged_by_its_pitch(tmp_path: Path) -> None:
    (tmp_path / "lang").mkdir()
    (tmp_path / "lang" / "en-us").write_text("name English (America)\nlanguage en-us\n")
    variants = tmp_path / "voices" / "!v"
    variants.mkdir(parents=True)
    (variants / "high").write_text("name high\npitch 180 260\n")
    (variants / "low").write_text("name low\npitch 70 110\n")
    (variants / "f9").write_text("name nine\n")
    (variants / "odd").write_text("// nothing said\nname odd\n")
    found = VoiceCatalogue.from_data_dir(tmp_path)
    assert {v.id: v.gender for v in found.variants} == {"f9": "female", "high": "female", "low": "male",
                                                      "odd": "other"}
    assert found.resolve("English (America)+HIGH").spec == "en-us+high"


def test_resolve_refuses_unknown_voices_with_close_matches() -> None:
    with pytest.raises(UnknownVoiceError, match=r"voice 'en-gb-x-pr' is not installed; close matches: en-gb-x-rp"):
        catalogue().resolve("en-gb-x-pr")
    with pytest.raises(UnknownVoiceError, match="see `audiodrama voices`"):
        catalogue().resolve("zzzzzz")


def test_voice_parts() -> None:
    voice = Voice("en-gb+f3", 170, 44)
    assert (voice.base, voice.variant) == ("en-gb", "f3")
    assert Voice("en-us").variant == ""
    assert voice.describe() == "en-gb+f3 (rate 170, pitch 44)"
    assert Voice(volume=0.5).describe() == "en-us (rate 165, pitch 50, volume 0.5)"


def test_voices_command_lists_ids_names_languages_genders_and_variants() -> None:
    result = run_cli("voices", "--lang", "en", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.stdout.splitlines() if "│" in line]
    assert ["en-gb-x-rp", "English (Received Pronunciation)", "en", "male", "yes"] in rows
    assert ["en-029", "English (Caribbean)", "en", "male", ""] in rows
    assert ["+f3", "female3", "female", "yes"] in rows
    assert ["+whisper", "whisper", "male", ""] in rows
    assert not any(row[0] == "fr" for row in rows)


def test_voices_command_reads_the_bundled_espeak_when_forced() -> None:
    bundled = run_cli("voices", env={"AUDIODRAMA_BUNDLED": "1", "COLUMNS": "200"})
    assert bundled.returncode == 0, bundled.stderr
    assert "│ +mike2 " in bundled.stdout  # only espeak-ng 1.52 has it
    assert "│ +m8 " in bundled.stdout and "│ en-gb-x-gbclan " in bundled.stdout
