"""Property tests: the parser and the YAML loaders take anything and answer with a script, a value or
the product's own InputError, never another exception. `scripts/fuzz.py` runs them much longer
(`AUDIODRAMA_FUZZ_EXAMPLES`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiodrama.attribution import attribute
from audiodrama.casting.cast import CHARACTER_KEYS, load_cast
from audiodrama.errors import InputError
from audiodrama.series.manifest import EPISODE_KEYS, SERIES_KEYS, load_series
from audiodrama.settings import AMBIENCE_KEYS, TOP_KEYS, load_settings
from audiodrama.text.chapter import chapter_from_text, decode
from tests.test_attribution import CAST, assert_tiles

EXAMPLES = int(os.environ.get("AUDIODRAMA_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PROSE = st.lists(st.sampled_from([
    *"ab C.\"“”‘’'«»\n\r\t*-,!?;:…—\x00\x07\x1b\ufeff\u2028\u00a0[]", "Naruto", "Sasuke", " said ", " he ",
    " thought ", "\n\n", "\r\n", "Mr.", "Chapter 1", "* * *", "é", "日本", "🙂", "\u200b"])).map("".join)

YAML_WORDS = [*SERIES_KEYS, *EPISODE_KEYS, *CHARACTER_KEYS, *TOP_KEYS, *AMBIENCE_KEYS, "characters", "narrator",
              "pronunciations", "chapter.txt", "en-us", "male", "150", "-3", "1e999", "0x1F", "3:00", "~", "null",
              "true", "yes", ".nan", "'quoted'", '"dq\\x00"', "&a", "*a", "<<", "!!python/object:os.system",
              "!!str", "!binary", "|", ">", "%YAML 1.1", "---", "..."]
YAML = st.lists(st.one_of(st.sampled_from(YAML_WORDS), st.sampled_from([": ", "- ", "\n", "\n  ", "\n    ", "\t",
                                                                         "{", "}", "[", "]", ", ", "#", "? "]),
                          st.text(max_size=5))).map("".join)


@FUZZ
@given(PROSE | st.text())
def test_any_text_parses_and_tiles(text: str) -> None:
    assert_tiles(text, attribute(chapter_from_text(text), CAST))
    assert_tiles(text, attribute(chapter_from_text(text), None))


@FUZZ
@given(st.binary())
def test_any_bytes_decode_or_are_refused(data: bytes) -> None:
    try:
        text, encoding = decode(data, "chapter.txt")
    except InputError as error:
        assert error.path == "chapter.txt"
        return
    assert_tiles(text, attribute(chapter_from_text(text, "chapter.txt", encoding), None))


FOLDER = Path(tempfile.mkdtemp(prefix="audiodrama-fuzz-"))
(FOLDER / "chapter.txt").write_text('"Hi," said Naruto.\n')


def only_input_errors(load: Callable[[Path], object], text: str) -> None:
    """`load` reads `text` from a file or refuses it with an InputError that names the file."""
    file = FOLDER / "fuzz.yaml"
    file.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load(file)
    except InputError as error:
        assert error.path is not None and "fuzz.yaml" in error.path, error
        assert "\n" not in str(error)


@FUZZ
@given(YAML)
def test_cast_loader_raises_only_input_errors(text: str) -> None:
    only_input_errors(load_cast, text)


@FUZZ
@given(YAML)
def test_settings_loader_raises_only_input_errors(text: str) -> None:
    only_input_errors(load_settings, text)


@FUZZ
@given(YAML)
def test_series_loader_raises_only_input_errors(text: str) -> None:
    only_input_errors(load_series, text)
