"""Production settings: the settings file, radio-play rendering, a title read first, intro and outro music."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from audiodrama.casting.cast import load_cast
from audiodrama.episode import produce
from audiodrama.errors import InputError
from audiodrama.settings import Settings, load_settings
from tests.conftest import CASTS, run_cli
from tests.measure import write_tone

pytestmark = pytest.mark.slow
"""Every test here renders seconds of real audio or more."""

SHORT = Path(__file__).parent / "fixtures" / "short-chapter.txt"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "music").mkdir()
    for sound in ("my-rain.flac", "music/intro.mp3"):  # named files must exist
        (tmp_path / sound).touch()
    settings = load_settings(write(tmp_path, (
        "pauses: {scene_break: 3000, paragraph: 800}\n"
        "levels: {target_lufs: -19}\n"
        "ambience: {level_db: -40, default_bed: null, files: {rain: my-rain.flac}, rules: {rain: [drizzle]}}\n"
        "radio_play: true\nannounce_title: true\nintro: music/intro.mp3\nbitrate: 128k\n")))
    assert settings.pauses.scene_break == 3000 and settings.pauses.paragraph == 800
    assert settings.levels.target_lufs == -19
    assert settings.ambience.level_db == -40 and settings.ambience.default_bed is None
    assert settings.ambience.files == (("rain", tmp_path / "my-rain.flac"),)
    assert settings.ambience.rules[0].keywords == ("drizzle",)
    assert settings.radio_play and settings.announce_title
    assert settings.intro == tmp_path / "music" / "intro.mp3"
    assert settings.bitrate == "128k"


@pytest.mark.parametrize(("text", "message"), [
    ("pauses: {scene_brake: 3}\n", "1:10: unknown key 'scene_brake' in pauses (did you mean 'scene_break'?)"),
    ("levels: {target_lufs: 3}\n", "1:23: target_lufs in levels must be from -36 to -6, not 3"),
    ("radio_play: maybe\n", "1:13: radio_play must be true or false, not 'maybe'"),
    ("bitrate: 100k\n", "1:10: bitrate must be one of"),
    ("pauses: [1, 2]\n", "1:9: pauses must be a mapping"),
])
def test_bad_settings_are_located(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_settings(path)
    assert f"{path}:{message}" in str(caught.value)


def test_cli_bad_settings_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "pauses: {scene_brake: 3}\n")
    result = run_cli("produce", SHORT, "--cast", CASTS / "seeds.yaml", "--settings", path, "-o", tmp_path / "o")
    assert result.returncode == 2
    assert "unknown key 'scene_brake'" in result.stderr and "Traceback" not in result.stderr


def test_radio_play_drops_bare_tags_only(tmp_path: Path) -> None:
    cast = load_cast(CASTS / "seeds.yaml")
    full = produce(SHORT, cast, tmp_path / "full")
    radio = produce(SHORT, cast, tmp_path / "radio", dataclasses.replace(Settings(), radio_play=True))
    full_texts = [c.segment.text for c in full.timeline.cues]
    radio_texts = [c.segment.text for c in radio.timeline.cues]
    dropped = [t for t in full_texts if t not in radio_texts]
    assert "said Naruto" in dropped
    assert all(c.segment.kind == "tag" for c in full.timeline.cues if c.segment.text in dropped)
    assert [c.segment.text for c in full.timeline.cues if c.segment.kind == "dialogue"] == [
        c.segment.text for c in radio.timeline.cues if c.segment.kind == "dialogue"]
    assert radio.timeline.seconds < full.timeline.seconds


def test_title_and_music_frame_the_episode(tmp_path: Path) -> None:
    intro = write_tone(tmp_path / "in.wav", 3.0, 330, amplitude=0.3)
    outro = write_tone(tmp_path / "out.wav", 2.0, 330, amplitude=0.3)
    settings = dataclasses.replace(Settings(), announce_title=True, intro=intro, outro=outro)
    episode = produce(SHORT, load_cast(CASTS / "seeds.yaml"), tmp_path / "ep", settings)
    cues = episode.timeline.cues
    assert [c.segment.kind for c in cues[:2]] == ["music", "heading"]
    assert cues[1].segment.text == "At Valley of The End"
    assert cues[-1].segment.kind == "music" and cues[-1].segment.text == "Outro"
    assert cues[0].frames == pytest.approx(3.0 * 22050, abs=2)
    srt = episode.files.srt.read_text()
    assert "Intro" not in srt and srt.startswith("1\n")


def test_missing_music_is_an_input_error(tmp_path: Path) -> None:
    settings = dataclasses.replace(Settings(), intro=tmp_path / "nope.mp3")
    with pytest.raises(InputError, match="music file not found"):
        produce(SHORT, load_cast(CASTS / "seeds.yaml"), tmp_path / "ep", settings)
