"""Production settings a user can reach: the speech engine and its time limit, read from a settings file."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from audiodrama.casting.cast import Cast
from audiodrama.episode import produce
from audiodrama.errors import InputError
from audiodrama.mixing.audio import decode
from audiodrama.settings import Settings, load_settings
from tests.measure import rms_db
from tests.test_episode_options import SHORT, write


def test_engine_and_timeout_are_read_from_a_settings_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "engine: espeak-ng\ntimeout: 5\n"))
    assert (settings.engine, settings.timeout) == ("espeak-ng", 5.0)
    assert dataclasses.replace(settings, engine="pyttsx3", timeout=60.0) == Settings()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("engine: os:system\n", r"settings.yaml:1:9: engine must be one of pyttsx3, espeak-ng, not 'os:system'"),
        ("timeout: 0\n", r"settings.yaml:1:10: timeout must be from 1 to 3600, not 0"),
    ],
    ids=["code path", "no time"],
)
def test_a_settings_file_names_only_known_engines_and_sane_time_limits(tmp_path: Path, text: str,
                                                                      message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_settings(write(tmp_path, text))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="no espeak-ng command installed (make test installs it)")
def test_the_espeak_ng_command_engine_voices_an_episode(tmp_path: Path) -> None:
    """`engine: espeak-ng` in a settings file reaches synthesis: every line is spoken anew by the
    command-line engine (its clips have their own cache keys) and the episode is audible."""
    cache = tmp_path / "cache"
    library = produce(SHORT, Cast(), tmp_path / "library", Settings(cache_dir=cache))
    command = produce(SHORT, Cast(), tmp_path / "command",
                      dataclasses.replace(load_settings(write(tmp_path, "engine: espeak-ng\n")), cache_dir=cache))
    assert library.synthesized == library.lines and command.synthesized == command.lines
    assert library.mp3.read_bytes() != command.mp3.read_bytes()
    assert rms_db(decode(command.mp3, 22050)) > -40
