"""Episodes from a saved chapter page and from an EPUB, rendered with the real engine and ffmpeg: the
script holds only the story, italic thoughts are heard as thoughts, and an edited script still renders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from audiodrama.casting.cast import Cast, Character
from audiodrama.episode import Episode, produce
from audiodrama.mixing.audio import decode
from audiodrama.settings import Settings
from audiodrama.text.chapter import Kind
from audiodrama.text.reader import read_chapter
from tests.books import write_book
from tests.measure import rms_db
from tests.test_text_html import FFN, FFN_STORY

CAST = Cast(characters=(Character("Naruto", gender="male"), Character("Sasuke", gender="male"),
                        Character("Sakura", gender="female")))


def heard(episode: Episode) -> dict[int, float]:
    """Loudness (dB) of each voiced line in the decoded MP3, by the line's start offset."""
    rate = episode.timeline.sample_rate
    audio = decode(episode.mp3, rate)
    return {cue.segment.start: rms_db(audio[cue.start : cue.end]) for cue in episode.timeline.cues}


def rows(episode: Episode) -> list[dict]:
    return [json.loads(line) for line in episode.files.script.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_a_saved_page_makes_an_episode_of_the_story_with_thoughts(tmp_path: Path) -> None:
    page = tmp_path / "chapter-1.html"
    page.write_text(FFN, encoding="utf-8")
    episode = produce(page, CAST, tmp_path / "out")
    script = rows(episode)
    text = read_chapter(page).text
    assert [text[p["start"] : p["end"]] for p in script if p["kind"] != Kind.SCENE_BREAK][:2] == [
        FFN_STORY[0], '"Are you ready, Sasuke?"']
    assert not any(word in " ".join(r["text"] for r in script) for word in ("Disclaimer", "A/N", "review", "storyid"))
    thoughts = [r for r in script if r["kind"] == Kind.THOUGHT]
    assert [(r["speaker"], r["text"]) for r in thoughts] == [("Sasuke", "Idiot,"), ("Sasuke", "He never listens.")]
    levels = heard(episode)
    assert all(levels[r["start"]] > -40 for r in thoughts)  # heard, not dropped
    cues = {cue.segment.start: cue for cue in episode.timeline.cues}
    assert cues[thoughts[0]["start"]].segment.kind == Kind.THOUGHT

    edited = tmp_path / "chapter-1.script.jsonl"
    script[[r["start"] for r in script].index(thoughts[1]["start"])]["speaker"] = "Naruto"
    edited.write_text("".join(json.dumps(r) + "\n" for r in script), encoding="utf-8")
    again = produce(edited, CAST, tmp_path / "edited")
    assert [c.segment.speaker for c in again.timeline.cues if c.segment.kind == Kind.THOUGHT] == ["Sasuke", "Naruto"]
    assert rows(again)[0]["format"] == "html" and rows(again)[0]["source"] == str(page)


@pytest.mark.slow
def test_an_epub_makes_an_episode_of_the_whole_book(tmp_path: Path) -> None:
    book = write_book(tmp_path / "leafs-exile.epub")
    episode = produce(book, CAST, tmp_path / "out", Settings(announce_title=False))
    script = rows(episode)
    assert script[0]["format"] == "epub"
    assert [r["text"] for r in script if r["kind"] == Kind.HEADING] == ["Chapter One", "Chapter Two", "Chapter Three"]
    assert [(r["speaker"], r["text"]) for r in script if r["kind"] == Kind.THOUGHT] == [
        ("Sasuke", "Not again,"), ("Tsunade", "What a mess,")]  # "she": the name before it, which the cast lacks
    assert len(decode(episode.mp3, 22050)) / 22050 > 5
    assert np.isfinite(list(heard(episode).values())).all()
