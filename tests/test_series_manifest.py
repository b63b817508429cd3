"""The series manifest: episodes from a glob or a list, per-episode overrides, every mistake located
(file:line:column, exit 2), and the seed series."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiodrama.errors import InputError
from audiodrama.series.manifest import load_series
from audiodrama.synthesis.voices import Voice
from tests.conftest import REPO, run_cli
from tests.series_helpers import copy_series


def test_glob_takes_chapters_in_natural_order(tmp_path: Path) -> None:
    for name in ("ch10.txt", "ch2.txt", "ch1.txt", "notes.md"):
        (tmp_path / name).write_text("Some text.\n")
    (tmp_path / "series.yaml").write_text("title: Glob\nepisodes: ch*.txt\n")
    series = load_series(tmp_path / "series.yaml")
    assert [(e.number, e.name) for e in series.episodes] == [(1, "ch1"), (2, "ch2"), (3, "ch10")]
    assert series.output == tmp_path / "output" / "series"


def test_episode_overrides_apply_to_that_episode_only(tmp_path: Path) -> None:
    manifest = copy_series(tmp_path)
    manifest.write_text(manifest.read_text() + (
        "  - file: ch2.txt\n    name: ch2-retold\n    title: Retold\n"
        "    cast:\n      narrator: {voice: en-us, rate: 150}\n      characters:\n        Naruto: {rate: 120}\n"
        "    production:\n      pauses: {paragraph: 900}\n      ambience: {enabled: false}\n"))
    series = load_series(manifest)
    plain, retold = series.episodes[1], series.episodes[3]
    assert (retold.number, retold.name, retold.title) == (4, "ch2-retold", "Retold")
    assert retold.cast.narrator == Voice("en-us", 150) and plain.cast.narrator == series.cast.narrator
    naruto = retold.cast.character("Naruto")
    assert naruto is not None and naruto.voice == Voice("en-us+m3", 120, 50)
    assert retold.cast.character("Sakura") == plain.cast.character("Sakura")
    assert retold.settings.pauses.paragraph == 900 and not retold.settings.ambience.enabled
    assert retold.settings.pauses.scene_break == plain.settings.pauses.scene_break
    assert plain.settings.pauses.paragraph == 650 and plain.settings.ambience.enabled


MANIFEST_ERRORS = [
    ("titel: X\nepisodes: [ch1.txt]\n", "1:1: unknown key 'titel' in the series manifest (did you mean 'title'?)"),
    ("episodes: [ch1.txt]\n", "1:1: the series manifest needs `title`"),
    ("title: X\nepisodes: [ch1.txt, missing.txt]\n", "2:21: chapter file not found"),
    ("title: X\nepisodes: '*.doc'\n", "2:11: no chapter file matches '*.doc'"),
    ("title: X\nlanguage: english!\nepisodes: [ch1.txt]\n", "2:11: language must be a code like en or en-us"),
    ("title: X\nexplicit: maybe\nepisodes: [ch1.txt]\n", "2:11: explicit must be true or false, not 'maybe'"),
    ("title: X\nbase_url: example.com\nepisodes: [ch1.txt]\n", "2:11: base_url must be an http:// or https://"),
    ("title: X\nimage: ch1.txt\nepisodes: [ch1.txt]\n", "2:8: cover image must be a JPEG or PNG file"),
    ("title: X\nepisodes:\n  - {file: ch1.txt, name: ../escape}\n",
     "3:27: episode name '../escape' would write outside the output folder"),
    ("title: X\nepisodes:\n  - {file: ch1.txt, name: /tmp/abs}\n",
     "3:27: episode name '/tmp/abs' would write outside the output folder"),
    ("title: X\nepisodes: [ch1.txt, {file: ch2.txt, name: ch1}]\n",
     "2:43: episodes ch1.txt and ch2.txt would both write ch1.mp3"),
    ("title: X\nepisodes:\n  - {fil: ch1.txt}\n", "3:6: unknown key 'fil' in an episode (did you mean 'file'?)"),
    ("title: X\nepisodes:\n  - {title: One}\n", "3:5: an episode needs a `file`"),
    ("title: X\nproduction: {bitrate: 100k}\nepisodes: [ch1.txt]\n", "2:23: bitrate must be one of"),
    ("title: X\nepisodes:\n  - file: ch1.txt\n    cast: {characters: {Naruto: {gender: robot}}}\n",
     "4:42: gender of 'Naruto' must be one of"),
]


@pytest.mark.parametrize(("text", "message"), MANIFEST_ERRORS)
def test_manifest_errors_are_located(tmp_path: Path, text: str, message: str) -> None:
    copy_series(tmp_path)
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(text)
    with pytest.raises(InputError) as error:
        load_series(manifest)
    assert f"{manifest}:{message}" in str(error.value)


def test_manifest_error_through_the_cli(tmp_path: Path) -> None:
    manifest = tmp_path / "bad.yaml"
    manifest.write_text("title: X\nepisodes:\n  - {file: ../chapter.txt, nam: x}\n")
    (tmp_path.parent / "chapter.txt").write_text("Text.\n")
    result = run_cli("batch", manifest)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"audiodrama: error: {manifest}:3:28: unknown key 'nam' in an episode "
                                     "(did you mean 'name'?)")


def test_seed_series_example_is_valid() -> None:
    series = load_series(REPO / "series" / "seeds.yaml")
    assert [e.file.name for e in series.episodes] == ["chapter-000.txt", "chapter-001.txt"]
    assert series.base_url and series.cast.character("Naruto") is not None
