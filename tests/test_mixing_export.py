"""Mixing and export with real ffmpeg: pauses by context, streamed MP3, tags, transcripts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mutagen.id3 import ID3

from audiodrama.export.mp3 import Tags, scene_chapters, write_episode, write_tags
from audiodrama.export.transcripts import transcript
from audiodrama.mixing.audio import decode, encode_mp3
from audiodrama.mixing.mastering import LoudnessTarget
from audiodrama.mixing.timeline import Pauses, Placement, build_timeline, pause_before, render
from audiodrama.script import Segment
from tests.measure import silences, write_tone

RATE = 22050


def seg(paragraph: int, scene: int = 0, speaker: str | None = None, text: str = "words") -> Segment:
    kind = "dialogue" if speaker else "narration"
    return Segment(kind, speaker, 0, 1, text, paragraph=paragraph, scene=scene)


def test_pause_follows_context() -> None:
    pauses = Pauses()
    first = seg(0)
    assert pause_before(None, first, False, pauses) == pauses.start
    assert pause_before(first, seg(0), False, pauses) == pauses.within_paragraph
    assert pause_before(first, seg(0, speaker="A"), True, pauses) == pauses.speaker_change
    assert pause_before(first, seg(1), False, pauses) == pauses.paragraph
    assert pause_before(first, seg(1, scene=1), False, pauses) == pauses.scene_break
    assert len({pauses.within_paragraph, pauses.speaker_change, pauses.paragraph, pauses.scene_break}) == 4


def test_streamed_mp3_has_the_timeline_pauses_and_length(tmp_path: Path) -> None:
    clip_a = write_tone(tmp_path / "a.wav", 1.0, 220)
    clip_b = write_tone(tmp_path / "b.wav", 0.5, 440, rate=16000)  # another rate is resampled
    lines = [
        Placement(seg(0), clip_a, RATE, RATE, "narrator", 1.0),
        Placement(seg(0, speaker="A"), clip_b, 8000, 16000, "A", 1.0),
        Placement(seg(1), clip_a, RATE, RATE, "narrator", 0.5),
        Placement(seg(2, scene=1), clip_a, RATE, RATE, "narrator", 1.0),
    ]
    pauses = Pauses()
    timeline = build_timeline(lines, pauses, RATE)
    expected = (pauses.start + 1000 + pauses.speaker_change + 500 + pauses.paragraph + 1000 + pauses.scene_break
                + 1000 + pauses.end) / 1000
    assert timeline.seconds == pytest.approx(expected, abs=0.001)
    mp3 = tmp_path / "episode.mp3"
    encode_mp3(render(timeline), RATE, mp3)
    audio = decode(mp3, RATE)
    assert len(audio) / RATE == pytest.approx(expected, abs=0.08)
    gaps = [length for start, length in silences(audio, RATE) if 0.2 < start < expected - 1.6]
    wanted = [pauses.speaker_change, pauses.paragraph, pauses.scene_break]
    assert gaps == pytest.approx([w / 1000 for w in wanted], abs=0.06)
    half = audio[int(3.3 * RATE): int(3.9 * RATE)]
    full = audio[int(0.9 * RATE): int(1.5 * RATE)]
    assert np.sqrt(np.mean(half**2)) / np.sqrt(np.mean(full**2)) == pytest.approx(0.5, abs=0.05)


def test_failed_encode_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "episode.mp3"

    def blocks():
        yield np.zeros(1000, dtype=np.int16)
        raise RuntimeError("mixer failed")

    with pytest.raises(RuntimeError):
        write_episode(lambda gain, ceiling, dips: blocks(), 0.0, LoudnessTarget(-16, -1, -2), RATE, target, "64k",
                      Tags(title="t"))
    assert list(tmp_path.iterdir()) == []


def test_tags_read_back(tmp_path: Path) -> None:
    mp3 = tmp_path / "e.mp3"
    encode_mp3(iter([np.zeros(RATE, dtype=np.int16)]), RATE, mp3)
    write_tags(mp3, Tags(title="Chapter 1", album="The Leaf's Exile", artist="Anon", track=3, comment="x"))
    tags = ID3(mp3)
    assert str(tags["TIT2"]) == "Chapter 1"
    assert str(tags["TALB"]) == "The Leaf's Exile"
    assert str(tags["TRCK"]) == "3"


def test_transcripts_carry_speakers_and_timings(tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "a.wav", 1.0, 220)
    lines = [Placement(seg(0, text="It began."), clip, RATE, RATE, "n", 1.0),
             Placement(seg(1, speaker="Naruto Uzumaki", text="Believe it!"), clip, RATE, RATE, "a", 1.0)]
    timeline = build_timeline(lines, Pauses(start=500, paragraph=650), RATE)
    srt = transcript(timeline, vtt=False)
    vtt = transcript(timeline, vtt=True)
    assert srt.startswith("1\n00:00:00,500 --> 00:00:01,500\nNarrator: It began.\n")
    assert "2\n00:00:02,150 --> 00:00:03,150\nNaruto Uzumaki: Believe it!" in srt
    assert vtt.startswith("WEBVTT\n")
    assert "00:00:02.150 --> 00:00:03.150\n<v Naruto Uzumaki>Believe it!" in vtt


def test_chapter_frames_mark_each_scene(tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "a.wav", 1.0, 220)
    heading = Segment("heading", None, 0, 5, "In the Hokage Tower", paragraph=0, scene=0)
    lines = [Placement(heading, clip, RATE, RATE, "n", 1.0),
             Placement(seg(1), clip, RATE, RATE, "n", 1.0),
             Placement(seg(2, scene=1), clip, RATE, RATE, "n", 1.0)]
    timeline = build_timeline(lines, Pauses(), RATE)
    mp3 = tmp_path / "e.mp3"
    encode_mp3(render(timeline), RATE, mp3)
    write_tags(mp3, Tags(title="Episode"), scene_chapters(timeline))
    tags = ID3(mp3)
    toc = tags.getall("CTOC")[0]
    assert toc.child_element_ids == ["chp0", "chp1"]
    first, second = (tags[f"CHAP:{cid}"] for cid in toc.child_element_ids)
    assert (first.start_time, str(first.sub_frames["TIT2"])) == (0, "In the Hokage Tower")
    assert second.start_time == round(timeline.cues[2].start * 1000 / RATE)
    assert first.end_time == second.start_time
    assert second.end_time == round(timeline.seconds * 1000)
    assert str(second.sub_frames["TIT2"]) == "Scene 2"
