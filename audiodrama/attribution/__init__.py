"""Attribution: cut a chapter into narration, quotations and italic thoughts, and name who speaks each.

`parse_file(path, cast)` is the entry the CLI calls; `attribute(chapter, cast)` does the work on an
already-read chapter; `discover_characters(chapter)` lists the characters a chapter names, for
chapters given without a cast.
"""

from __future__ import annotations

import bisect
from dataclasses import replace
from pathlib import Path

from audiodrama.attribution.characters import CastList, Roster
from audiodrama.attribution.decisions import GROUP_SPEAKER
from audiodrama.attribution.discovery import DiscoveredCharacter, discover_characters
from audiodrama.attribution.quotes import Quote, find_quotes
from audiodrama.attribution.ranker import shipped_ranker
from audiodrama.attribution.speakers import decide_speakers
from audiodrama.attribution.thoughts import Thought, find_thoughts
from audiodrama.script import Script, Segment
from audiodrama.text.chapter import BLANK, Chapter, Kind
from audiodrama.text.reader import read_chapter

__all__ = ["DiscoveredCharacter", "attribute", "discover_characters", "parse_file"]


def parse_file(path: str | Path, cast: CastList | None = None, notes: bool = False) -> Script:
    """Read the chapter at `path` (any format; author's notes kept with `notes`) and attribute every
    quotation (InputError if it cannot be read)."""
    return attribute(read_chapter(path, notes), cast)


def roster_for(chapter: Chapter, quotes: list[Quote], cast: CastList | None) -> Roster:
    """The cast's characters, or (no cast, or one without characters) those the chapter names."""
    if cast is not None and cast.characters:
        return Roster.from_cast(cast)
    return Roster(discover_characters(chapter, quotes))


def attribute(chapter: Chapter, cast: CastList | None = None) -> Script:
    """The chapter as a script: segments tiling it, each quotation and italic thought with a speaker,
    confidence, reason, and the genders the text suggests for speakers the cast lacks (auto-casting
    needs them)."""
    quotes = find_quotes(chapter)
    roster = roster_for(chapter, quotes, cast)
    decisions = decide_speakers(chapter, quotes, roster, shipped_ranker())
    segments = list(_segments(chapter, quotes, decisions))
    if chapter.emphasis:
        thoughts = find_thoughts(chapter, quotes, [d.speaker for d in decisions], roster)
        segments = list(_with_thoughts(chapter.text, segments, thoughts))
    script = Script(tuple(segments), chapter.source, chapter.title, chapter.format)
    if cast is None or not cast.characters:  # the roster is what the chapter names
        return replace(script, genders=tuple((p.name, p.gender) for p in roster.people.values()))
    named = {character.name for character in cast.characters} | {GROUP_SPEAKER}  # a group has no gender
    if all(speaker in named for speaker in script.speakers):
        return script
    return replace(script, genders=tuple((c.name, c.gender) for c in discover_characters(chapter, quotes)))


def _segments(chapter: Chapter, quotes: list[Quote], decisions):
    """Narration, quotations, headings and breaks in reading order, tiling the chapter."""
    text = chapter.text
    q = 0
    for index, para in enumerate(chapter.paragraphs):
        if para.kind != Kind.TEXT:
            kind = Kind.SCENE_BREAK if para.kind == Kind.SCENE_BREAK else Kind.HEADING
            spoken = "" if kind == Kind.SCENE_BREAK else _fold(text[para.start : para.end])
            yield Segment(kind, None, para.start, para.end, spoken, 1.0, "", index, para.scene)
            continue
        pos = para.start
        tags = []
        for k in range(q, len(quotes)):
            if quotes[k].paragraph != index:
                break
            if decisions[k].tag is not None:
                tags.append(decisions[k].tag)
        tags.sort()
        starts = [a for a, _ in tags]
        while q < len(quotes) and quotes[q].paragraph == index:
            quote = quotes[q]
            decision = decisions[q]
            yield from _narration(text, pos, quote.start, tags, starts, index, para.scene)
            yield Segment(
                decision.kind,
                decision.speaker,
                quote.start,
                quote.end,
                _fold(text[quote.inner_start : quote.inner_end]),
                round(decision.confidence, 3),
                decision.reason,
                index,
                para.scene,
            )
            pos = quote.end
            q += 1
        yield from _narration(text, pos, para.end, tags, starts, index, para.scene)


def _narration(text: str, start: int, end: int, tags: list[tuple[int, int]], starts: list[int], paragraph: int,
               scene: int):
    """The text between two quotes: bare speech tags among `tags` (sorted; `starts` their starts) as `tag`
    segments (with the punctuation around them when nothing else is there), the rest narration; nothing
    for blanks."""
    pos = start
    for a, b in tags[bisect.bisect_left(tags, (start, -1)): bisect.bisect_right(starts, end)]:
        if b > end:
            continue
        if a < pos:
            continue  # a tag already covered (one tag found for two quotes)
        if not _unspoken(text[pos:a]):
            yield from _plain(text, pos, a, paragraph, scene)
            pos = a
        later = bisect.bisect_left(starts, b)
        stop = min(end, starts[later]) if later < len(starts) else end
        if _unspoken(text[b:stop]):
            b = stop
        yield from _plain(text, pos, b, paragraph, scene, Kind.TAG)
        pos = b
    yield from _plain(text, pos, end, paragraph, scene)


def _with_thoughts(text: str, segments: list[Segment], thoughts: list[Thought]):
    """The segments with narration cut around the italic thoughts inside it; a bare tag right after a
    thought ("he thought") becomes a `tag` segment."""
    starts = [t.start for t in thoughts]
    for segment in segments:
        first, last = bisect.bisect_left(starts, segment.start), bisect.bisect_left(starts, segment.end)
        inside = [t for t in thoughts[first:last] if t.end <= segment.end] if segment.kind == Kind.NARRATION else []
        if not inside:
            yield segment
            continue
        pos, where = segment.start, (segment.paragraph, segment.scene)
        for k, thought in enumerate(inside):
            yield from _plain(text, pos, thought.start, *where)
            yield Segment(Kind.THOUGHT, thought.speaker, thought.start, thought.end,
                          _fold(text[thought.start : thought.end]), round(thought.confidence, 3), thought.reason,
                          *where)
            pos = thought.end
            limit = inside[k + 1].start if k + 1 < len(inside) else segment.end
            if thought.tag is not None and thought.tag[1] <= limit:
                stop = limit if _unspoken(text[thought.tag[1] : limit]) else thought.tag[1]
                yield from _plain(text, pos, stop, *where, Kind.TAG)
                pos = stop
        yield from _plain(text, pos, segment.end, *where)


def _unspoken(s: str) -> bool:
    """True when `s` holds nothing but blanks and punctuation."""
    return all(not c.isalnum() for c in s)


def _plain(text: str, start: int, end: int, paragraph: int, scene: int, kind: str = Kind.NARRATION):
    """One narrator segment (narration or a bare tag), trimmed of blanks; nothing when blank."""
    while start < end and text[start] in BLANK:
        start += 1
    while end > start and text[end - 1] in BLANK:
        end -= 1
    if start < end:
        yield Segment(kind, None, start, end, _fold(text[start:end]), 1.0, "", paragraph, scene)


def _fold(s: str) -> str:
    """Whitespace folded to single spaces."""
    return " ".join(s.split())
