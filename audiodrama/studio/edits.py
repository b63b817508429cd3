"""Edits to a script, as pure functions: each takes a Script and gives a new one (the chapter is never
touched; offsets stay as they are, so the edited script still tiles the chapter)."""

from __future__ import annotations

from dataclasses import replace

from audiodrama.errors import InputError
from audiodrama.script import VOICED_BY_SPEAKER, Script, Segment
from audiodrama.text.chapter import Kind

BY_HAND = "set in the studio"
"""The reason of a line whose speaker or kind the user set (its confidence becomes 1)."""
EDITABLE_KINDS = (Kind.NARRATION, Kind.DIALOGUE, Kind.THOUGHT, Kind.TAG, Kind.HEADING)
"""Kinds a segment can be turned into, and turned from (a scene break is silent and stays one)."""


class EditError(InputError):
    """An edit the script cannot take (a line out of range, a segment nobody speaks); nothing changed."""


def check_index(script: Script, index: int) -> Segment:
    """The segment at `index`, or EditError when there is none."""
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(script.segments):
        raise EditError(f"there is no line {index!r}", hint=f"lines are numbered 0 to {len(script.segments) - 1}")
    return script.segments[index]


def _with(script: Script, changes: dict[int, Segment]) -> Script:
    return replace(script, segments=tuple(changes.get(i, s) for i, s in enumerate(script.segments)))


def _fixed(segment: Segment, **changes: object) -> Segment:
    return replace(segment, **changes, confidence=1.0, reason=BY_HAND)


def assign(script: Script, first: int, last: int, speaker: str) -> Script:
    """Every dialogue and thought from line `first` to line `last` (inclusive) read by `speaker`."""
    check_index(script, first)
    check_index(script, last)
    if last < first:
        raise EditError(f"line {last} comes before line {first}", hint="give the run's first line first")
    changes = {i: _fixed(s, speaker=speaker) for i, s in enumerate(script.segments[first: last + 1], first)
               if s.kind in VOICED_BY_SPEAKER}
    if not changes:
        raise EditError(f"lines {first} to {last} hold no dialogue or thought",
                        hint="turn a narration line into dialogue to give it a speaker")
    return _with(script, changes)


def exchange(script: Script, index: int) -> range:
    """The lines of the exchange line `index` lies in: the run of paragraphs around it that each hold
    some dialogue or thought, within one scene."""
    segments = script.segments
    scene = segments[index].scene
    talking = {s.paragraph for s in segments if s.kind in VOICED_BY_SPEAKER and s.scene == scene}

    def inside(i: int) -> bool:
        return 0 <= i < len(segments) and segments[i].scene == scene and segments[i].paragraph in talking

    start = end = index
    while inside(start - 1):
        start -= 1
    while inside(end + 1):
        end += 1
    return range(start, end + 1)


def swap_from(script: Script, index: int) -> tuple[Script, tuple[str, str]]:
    """From line `index` to the end of its exchange, the line's speaker and the exchange's other speaker
    trade places (turn-taking that went wrong by one line). Gives the new script and the two names."""
    segment = check_index(script, index)
    if segment.kind not in VOICED_BY_SPEAKER or not segment.speaker:
        raise EditError(f"line {index} has no speaker to swap", hint="pick a line of dialogue")
    lines = exchange(script, index)
    nearest_first = [*range(index, lines.stop), *range(index - 1, lines.start - 1, -1)]
    spoken = [script.segments[i].speaker for i in nearest_first if script.segments[i].kind in VOICED_BY_SPEAKER]
    other = next((name for name in spoken if name and name != segment.speaker), None)
    if other is None:
        raise EditError(f"only {segment.speaker} speaks in the exchange around line {index}",
                        hint="give the line another speaker instead")
    trade = {segment.speaker: other, other: segment.speaker}
    changes = {i: _fixed(s, speaker=trade[s.speaker]) for i in range(index, lines.stop)
               if (s := script.segments[i]).kind in VOICED_BY_SPEAKER and s.speaker in trade}
    return _with(script, changes), (segment.speaker, other)


def set_kind(script: Script, index: int, kind: str, speaker: str | None = None) -> Script:
    """Line `index` turned into `kind`; dialogue and thoughts keep their speaker unless `speaker` is given,
    and need one; narration, tags and headings have none."""
    segment = check_index(script, index)
    names = ", ".join(EDITABLE_KINDS)
    if segment.kind not in EDITABLE_KINDS:
        raise EditError(f"line {index} is a {segment.kind.value}, which stays as it is", hint=f"change a {names}")
    if kind not in EDITABLE_KINDS:
        raise EditError(f"cannot turn a line into {kind!r}", hint=f"use one of {names}")
    kind = Kind(kind)
    if kind in VOICED_BY_SPEAKER:
        speaker = speaker or segment.speaker
        if not speaker:
            raise EditError(f"a {kind.value} needs a speaker", hint="say who speaks line " + str(index))
    else:
        speaker = None
    return _with(script, {index: _fixed(segment, kind=kind, speaker=speaker)})


def least_certain(script: Script) -> tuple[int, ...]:
    """The dialogue and thought lines, least certain first (in reading order among equals)."""
    voiced = [i for i, s in enumerate(script.segments) if s.kind in VOICED_BY_SPEAKER]
    return tuple(sorted(voiced, key=lambda i: (script.segments[i].confidence, i)))


def changed_lines(before: Script, after: Script) -> tuple[int, ...]:
    """Indexes of the segments that differ between two versions of one script."""
    return tuple(i for i, (a, b) in enumerate(zip(before.segments, after.segments, strict=True)) if a != b)
