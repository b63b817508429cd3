"""Auto-casting: stable across chapters, casts and machines, gender-correct, distinct between scene partners."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from audiodrama.attribution import parse_file
from audiodrama.casting import autocast
from audiodrama.casting.autocast import AUTO_BASES, AUTO_VARIANTS, DISTINCT, TOO_ALIKE, assign, distance
from audiodrama.casting.cast import Cast, Character, auto_voice, load_cast, voice_for
from audiodrama.casting.chapters import cast_scripts, scene_partners
from audiodrama.runtime import SYSTEM_ESPEAK_DATA_DIRS
from audiodrama.script import Script, Segment
from audiodrama.synthesis.voices import Voice, VoiceCatalogue
from audiodrama.text.chapter import Kind
from tests.conftest import CASTS, REPO, SAMPLES

NAMES = [f"{first} {last}" for first, last in itertools.product(
    ["Ann", "Bo", "Cid", "Dora", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun"], ["Oak", "Reed", "Stone", "Vale"])]


def data_dirs() -> list[str]:
    import espeakng_loader

    system = [d for d in SYSTEM_ESPEAK_DATA_DIRS if os.path.exists(os.path.join(d, "phontab"))]
    return [*system[:1], espeakng_loader.get_data_path()]


@pytest.mark.parametrize("data_dir", data_dirs())
def test_pool_is_installed_with_its_gender_in_every_espeak_release(data_dir: str) -> None:
    catalogue = VoiceCatalogue.from_data_dir(data_dir)
    for gender, variants in AUTO_VARIANTS.items():
        for variant in variants:
            assert catalogue.resolve(f"en-us+{variant}").gender == gender
    for base in AUTO_BASES:
        assert catalogue.resolve(base).spec == base


def test_auto_voice_is_stable_gendered_and_never_the_narrators() -> None:
    narrator = Voice(voice="en-us+m3")
    for name in NAMES:
        for gender in ("male", "female"):
            voice = auto_voice(name, gender, narrator)
            assert voice == auto_voice(name, gender, narrator)
            assert voice.variant in AUTO_VARIANTS[gender]
            assert distance(voice, narrator) >= DISTINCT


def test_auto_voices_spread_over_the_pool() -> None:
    voices = [auto_voice(name, "female", Voice()) for name in NAMES]
    assert len({v.variant for v in voices}) == len(AUTO_VARIANTS["female"])
    assert len({v.base for v in voices}) >= 5
    assert len({(v.pitch, v.rate) for v in voices}) >= 10


def test_auto_voice_is_the_same_on_every_machine() -> None:
    """Pinned: a change here re-voices every user's uncast characters."""
    assert auto_voice("Yamato", "male", Voice()) == Voice("en-gb-x-gbcwmd+m2", 170, 56, 1.0)
    assert auto_voice("Nurse", "female", Voice()) == Voice("en-us+f1", 180, 50, 1.0)
    code = ("from audiodrama.casting.cast import auto_voice; from audiodrama.synthesis.voices import Voice; "
            "print(auto_voice('Yamato', 'male', Voice()))")
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO,
                             env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        assert "en-gb-x-gbcwmd+m2" in out


def test_auto_voice_does_not_depend_on_other_characters() -> None:
    small = Cast(characters=(Character("Yamato", gender="male"),))
    large = Cast(characters=tuple(Character(n, gender="male") for n in ["Aa", "Yamato", "Zz", "Bb"]))
    assert voice_for(small, "Yamato") == voice_for(large, "yamato")


def one_scene(*speakers: str) -> Script:
    segments = tuple(Segment(Kind.DIALOGUE, s, i, i + 1, "Hi.") for i, s in enumerate(speakers))
    return Script(segments)


def test_scene_partners_are_kept_apart() -> None:
    names = NAMES[:8]
    cast = Cast(narrator=Voice("en-gb-x-rp+f3"), characters=tuple(Character(n, gender="female") for n in names))
    casting = cast_scripts(cast, [one_scene(*names)])
    voices = [voice_for(casting.cast, n) for n in names]
    for a, b in itertools.combinations([*voices, cast.narrator], 2):
        assert distance(a, b) >= DISTINCT, (a, b)


def test_a_crowded_scene_still_avoids_voices_too_alike() -> None:
    names = NAMES[:30]
    casting = cast_scripts(Cast(characters=tuple(Character(n, gender="male") for n in names)), [one_scene(*names)])
    voices = [voice_for(casting.cast, n) for n in names]
    assert min(distance(a, b) for a, b in itertools.combinations(voices, 2)) >= TOO_ALIKE


def test_a_clash_is_resolved_the_same_way_whatever_the_order() -> None:
    first = autocast.preferences("Ann Oak", "male")[0]
    clash = next(n for n in NAMES[1:] if distance(autocast.preferences(n, "male")[0], first) < DISTINCT)
    pair = {frozenset(("Ann Oak", clash))}
    one = assign({"Ann Oak": "male", clash: "male"}, {}, Voice(), pair)
    other = assign({clash: "male", "Ann Oak": "male"}, {}, Voice(), pair)
    assert one == other and distance(one["Ann Oak"], one[clash]) >= DISTINCT
    alone = assign({"Ann Oak": "male", clash: "male"}, {}, Voice())
    assert alone == {"Ann Oak": first, clash: autocast.preferences(clash, "male")[0]}


def test_fixed_voices_are_avoided_by_their_partners() -> None:
    fixed = auto_voice("Ann Oak", "male", Voice())
    cast = Cast(characters=(Character("Boss", voice=fixed), Character("Ann Oak", gender="male")))
    casting = cast_scripts(cast, [one_scene("Boss", "Ann Oak")])
    assert voice_for(casting.cast, "Boss") == fixed
    assert distance(voice_for(casting.cast, "Ann Oak"), fixed) >= DISTINCT


@pytest.fixture(scope="module")
def seed_scripts() -> tuple[Cast, list[Script]]:
    cast = load_cast(CASTS / "seeds.yaml")
    return cast, [parse_file(SAMPLES / f"chapter-00{i}.txt", cast) for i in (0, 1)]


def test_seed_auto_cast_is_the_same_in_every_chapter_and_cast(seed_scripts: tuple[Cast, list[Script]]) -> None:
    cast, scripts = seed_scripts
    auto = [c.name for c in cast.characters if c.voice is None]
    per_chapter = [dict(cast_scripts(cast, [script]).auto) for script in scripts]
    together = dict(cast_scripts(cast, scripts).auto)
    shared = set(per_chapter[0]) & set(per_chapter[1])
    assert shared, "a character auto-cast in both seed chapters"
    for name in auto:
        heard = [voices[name] for voices in (*per_chapter, together) if name in voices]
        assert len(set(heard)) == 1, (name, heard)
    slower_narrator = replace(cast.narrator, rate=150)
    other_cast = Cast(narrator=slower_narrator, characters=tuple(c for c in cast.characters if c.name in auto))
    elsewhere = dict(cast_scripts(other_cast, scripts).auto)
    assert {name: elsewhere[name] for name in auto} == {name: together[name] for name in auto}


def test_seed_speakers_are_distinct_from_their_scene_partners(seed_scripts: tuple[Cast, list[Script]]) -> None:
    cast, scripts = seed_scripts
    casting = cast_scripts(cast, scripts)
    pairs = scene_partners(scripts)
    assert len(pairs) >= 10
    for a, b in map(sorted, pairs):
        assert distance(voice_for(casting.cast, a), voice_for(casting.cast, b)) >= TOO_ALIKE, (a, b)
    for name, voice in casting.auto:
        partners = [voice_for(casting.cast, p) for pair in pairs if name in pair for p in pair - {name}]
        assert min(distance(voice, other) for other in [cast.narrator, *partners]) >= DISTINCT, name


def test_uncast_speakers_are_cast_and_reported() -> None:
    cast = Cast(characters=(Character("Ann Oak", gender="female"),))
    casting = cast_scripts(cast, [one_scene("Ann Oak", "Jiraiya")], genders={"Jiraiya": "male"})
    assert casting.uncast == ("Jiraiya",)
    jiraiya = voice_for(casting.cast, "Jiraiya")
    assert jiraiya.variant in AUTO_VARIANTS["male"]
    assert casting.report() == [f"speaker 'Jiraiya' is not in the cast; auto-cast as {jiraiya.describe()} "
                                "(add it to the cast file to keep or change that)"]
