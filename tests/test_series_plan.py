"""Planning a batch: voices recorded across episodes never move, and the dry run reads and casts
without synthesising."""

from __future__ import annotations

from pathlib import Path

from audiodrama.casting.autocast import DISTINCT, distance
from audiodrama.casting.cast import voice_for
from audiodrama.casting.chapters import cast_scripts
from audiodrama.script import Script, Segment
from audiodrama.series.manifest import load_series
from audiodrama.series.plan import episode_cast
from audiodrama.series.state import State
from audiodrama.text.chapter import Kind
from tests.conftest import run_cli
from tests.series_helpers import copy_series, out_of, write_manifest


def one_scene(*speakers: str) -> Script:
    return Script(tuple(Segment(Kind.DIALOGUE, s, i, i + 1, "Hi.") for i, s in enumerate(speakers)))


def test_a_new_character_never_moves_an_earlier_voice(tmp_path: Path) -> None:
    (tmp_path / "cast.yaml").write_text("narrator: {voice: en-gb-x-rp}\ncharacters:\n  Yamato: {gender: male}\n")
    (tmp_path / "ch1.txt").write_text("Text.\n")
    series = load_series(write_manifest(tmp_path, "title: Voices\ncast: cast.yaml\nepisodes: [ch1.txt]\n"))
    spec, cast = series.episodes[0], series.cast
    alone = voice_for(cast_scripts(cast, [one_scene("Yamato")]).cast, "Yamato")
    # a newcomer whom casting all scripts together settles first, moving Yamato when they share a scene
    newcomer = next(name for name in (f"Stranger {i}" for i in range(500))
                    if voice_for(cast_scripts(cast, [one_scene("Yamato", name)]).cast, "Yamato") != alone)
    state = State()
    first = episode_cast(series, spec, one_scene("Yamato"), ["Yamato"], state.voices)
    later = episode_cast(series, spec, one_scene("Yamato", newcomer), ["Yamato", newcomer], state.voices)
    assert voice_for(first, "Yamato") == voice_for(later, "Yamato") == alone
    assert distance(voice_for(later, newcomer), alone) >= DISTINCT
    again = episode_cast(series, spec, None, ["Yamato", newcomer], state.voices)
    assert voice_for(again, newcomer) == voice_for(later, newcomer), "recorded, not cast anew"


def test_dry_run_reads_and_casts_but_synthesises_nothing(tmp_path: Path) -> None:
    manifest = copy_series(tmp_path / "series")
    cache = tmp_path / "cache"
    result = run_cli("batch", manifest, "--dry-run", env={"AUDIODRAMA_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. ch1 (ch1.txt): would build, about 0.")
    assert lines[1].startswith("   lines: narrator ") and lines[1].endswith(
        ", Naruto Uzumaki 2, Sasuke Uchiha 1, Sakura Haruno 1")
    assert any(line.startswith("   new speaker (not in the cast): Jiraiya, auto-cast as ") for line in lines)
    assert lines[-1].startswith("3 episodes, about ") and "3 to build; nothing synthesised" in lines[-1]
    assert not cache.exists() and not out_of(manifest).exists()
