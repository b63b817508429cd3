"""The cast is heard: pitch and gender measured on rendered clips, pronunciations change the audio,
and recasting one character re-synthesises only that character's lines."""

from __future__ import annotations

import wave
from dataclasses import replace
from pathlib import Path

import pytest

from audiodrama.casting.autocast import AUTO_PITCHES, AUTO_VARIANTS
from audiodrama.casting.cast import Cast, Character, Delivery, load_cast
from audiodrama.episode import produce
from audiodrama.script import Script, Segment, to_jsonl
from audiodrama.settings import Settings
from audiodrama.synthesis.clips import ClipRequest, synthesize_all
from audiodrama.synthesis.voices import Voice
from audiodrama.text.chapter import Kind
from tests.conftest import CASTS
from tests.measure import fundamental_hz, wav_samples

pytestmark = pytest.mark.slow
"""Every test here renders seconds of real audio or more."""

SENTENCE = "The quick brown fox jumps over the lazy dog, and then it runs away into the forest."
CHAPTER = """The Gate

"We leave at dawn," said Sasuke. "Pack light."

Naruto grinned. "Dawn is early, Sasuke."

"Then sleep now," Sasuke said, and turned away.

"The Kyuubi is restless tonight," said Naruto.
"""


def clip_f0(path: Path) -> float:
    """Median fundamental frequency (Hz) of a WAV clip."""
    return fundamental_hz(*wav_samples(path))


def render(*voices: Voice, text: str = SENTENCE) -> list[Path]:
    return [clip.path for clip in synthesize_all([ClipRequest(text, v, v.describe()) for v in voices], jobs=2)]


def test_pitch_measured_on_the_clip_follows_the_cast() -> None:
    low, middle, high = map(clip_f0, render(*(Voice("en-us+m3", 170, p) for p in (30, 50, 70))))
    assert low * 1.1 < middle and middle * 1.1 < high, (low, middle, high)


def test_auto_cast_variants_sound_their_gender_at_every_auto_pitch() -> None:
    lowest, highest = min(AUTO_PITCHES), max(AUTO_PITCHES)
    males = render(*(Voice(f"en-us+{v}", 170, highest) for v in AUTO_VARIANTS["male"]))
    females = render(*(Voice(f"en-us+{v}", 170, lowest) for v in AUTO_VARIANTS["female"]))
    assert max(map(clip_f0, males)) < 135 < min(map(clip_f0, females))


def test_pronunciations_change_what_is_synthesised(tmp_path: Path) -> None:
    chapter = write_chapter(tmp_path)
    cast = load_cast(CASTS / "seeds.yaml")
    plain = replace(cast, pronunciations=())
    lexicon = replace(cast, pronunciations=(("kyuubi", "Kyoo-bee"),))
    spoken = {}
    for name, version in (("plain", plain), ("lexicon", lexicon)):
        episode = produce(chapter, version, tmp_path / name)
        cue = next(c for c in episode.timeline.cues if "Kyuubi" in c.segment.text)
        spoken[name] = (cue.source, cue.segment.text)
    voice = Voice("en-us+m3", 180, 58)
    assert spoken["lexicon"][0] != spoken["plain"][0]
    assert render(voice, text="The Kyoo-bee is restless tonight,") == [spoken["lexicon"][0]]
    assert render(voice, text="The Kyuubi is restless tonight,") == [spoken["plain"][0]]


def test_espeak_phonemes_are_spoken_as_phonemes() -> None:
    voice = Voice("en-us+m3")
    respelled, phonemes = render(voice, text="The Kyoo-bee roared loudly.")[0], render(
        voice, text="The [[kj'u:bi]] roared loudly.")[0]
    assert seconds(phonemes) == pytest.approx(seconds(respelled), rel=0.15)


def seconds(path: Path) -> float:
    with wave.open(str(path)) as clip:
        return clip.getnframes() / clip.getframerate()


def write_chapter(folder: Path) -> Path:
    chapter = folder / "gate.txt"
    chapter.write_text(CHAPTER, encoding="utf-8")
    return chapter


def test_recasting_one_character_resynthesises_only_their_lines(tmp_path: Path) -> None:
    chapter = write_chapter(tmp_path)
    cast = load_cast(CASTS / "seeds.yaml")
    settings = Settings(jobs=2, cache_dir=tmp_path / "cache")
    first = produce(chapter, cast, tmp_path / "one", settings)
    assert first.synthesized == first.lines
    sasuke = {c.segment.text for c in first.timeline.cues if c.segment.speaker == "Sasuke Uchiha"}
    assert len(sasuke) == 3
    recast = replace(cast, characters=tuple(replace(c, voice=Voice("en-gb-scotland+m6", 150, 40))
                                            if c.name == "Sasuke Uchiha" else c for c in cast.characters))
    second = produce(chapter, recast, tmp_path / "two", settings)
    assert second.synthesized == len(sasuke)
    assert produce(chapter, recast, tmp_path / "three", settings).synthesized == 0
    others = [{c.source for c in e.timeline.cues if c.segment.speaker != "Sasuke Uchiha"} for e in (first, second)]
    assert others[0] == others[1]
    moved = {c.source for c in second.timeline.cues if c.segment.speaker == "Sasuke Uchiha"}
    assert len(moved) == 3 and not moved & {c.source for c in first.timeline.cues}


def test_thoughts_are_voiced_with_the_characters_thought_settings(tmp_path: Path) -> None:
    chapter = tmp_path / "thinks.txt"
    chapter.write_text("Hinata waited. Where is he? She looked away.\n", encoding="utf-8")
    segments = (Segment(Kind.NARRATION, None, 0, 15, "Hinata waited."),
                Segment(Kind.THOUGHT, "Hinata", 15, 28, "Where is he?", 0.9, "test"),
                Segment(Kind.NARRATION, None, 29, 45, "She looked away."))
    script = tmp_path / "thinks.script.jsonl"
    script.write_text(to_jsonl(Script(segments, str(chapter), "")), encoding="utf-8")
    speaking = Voice("en-us+f2", 170, 50)
    thinking = Voice("en-us+whisperf", 140, 50, 0.7)
    cast = Cast(characters=(Character("Hinata", gender="female", voice=speaking,
                                      thought=Delivery("en-us+whisperf", 140, None, 0.7)),))
    episode = produce(script, cast, tmp_path / "out", Settings(jobs=2))
    cue = next(c for c in episode.timeline.cues if c.segment.kind == Kind.THOUGHT)
    assert [cue.source] == render(thinking, text="Where is he?") != render(speaking, text="Where is he?")
