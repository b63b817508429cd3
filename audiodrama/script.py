"""The script: a chapter cut into segments (narration, dialogue, thoughts), each with its speaker.

The JSONL form is fixed (see docs/script-format.md and the attribution scorer): one object per
segment, in reading order, the segments tiling the chapter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

NARRATION = "narration"
DIALOGUE = "dialogue"
THOUGHT = "thought"
HEADING = "heading"
SCENE_BREAK = "scene_break"
TAG = "tag"

KINDS = (NARRATION, DIALOGUE, THOUGHT, HEADING, SCENE_BREAK, TAG)
VOICED_BY_SPEAKER = (DIALOGUE, THOUGHT)
"""Kinds read in the speaker's voice; every other kind is read by the narrator."""


@dataclass(frozen=True)
class Segment:
    """One stretch of the chapter read by one voice."""

    kind: str
    """`narration`, `dialogue`, `thought`, `heading`, `scene_break` or `tag` (a bare speech tag)."""
    speaker: str | None
    """Canonical character name for dialogue and thoughts; None for the narrator or when unknown."""
    start: int
    """Offset of the segment's first character in the decoded chapter text."""
    end: int
    """Offset just past the segment's last character (quote marks included for dialogue)."""
    text: str
    """What is spoken: the source text with quote marks removed and whitespace folded."""
    confidence: float = 1.0
    """How sure the attribution is, in [0, 1]."""
    reason: str = ""
    """Why this speaker, in a few words, for a user reviewing the weakest lines."""
    paragraph: int = 0
    """Index of the paragraph the segment lies in (pauses follow paragraph changes)."""
    scene: int = 0
    """Index of the scene the segment lies in (scene breaks and headings start a new one)."""

    @property
    def voiced_by_speaker(self) -> bool:
        """True when a character, not the narrator, reads this segment."""
        return self.kind in VOICED_BY_SPEAKER


@dataclass(frozen=True)
class Script:
    """A whole chapter's segments in reading order."""

    segments: tuple[Segment, ...]
    """The segments, in reading order, tiling the chapter's non-blank text."""
    source: str = ""
    """Where the chapter came from (a path), for messages and metadata."""
    title: str = ""
    """The episode title, when known (first heading or the file name)."""
    speakers: tuple[str, ...] = field(default=())
    """Every speaker named in the script, in order of first appearance."""

    def spoken(self) -> tuple[Segment, ...]:
        """The segments that make sound (scene breaks and empty text are silent)."""
        return tuple(s for s in self.segments if s.kind != SCENE_BREAK and s.text.strip())


JSONL_KEYS = ("kind", "speaker", "start", "end", "text", "confidence", "reason", "paragraph", "scene")
"""Keys of one JSONL object, in print order (the first seven are the fixed contract)."""


def segment_dict(segment: Segment) -> dict:
    """The segment as a plain dict with the JSONL keys."""
    return {k: getattr(segment, k) for k in JSONL_KEYS}


def to_jsonl(script: Script) -> str:
    """One JSON object per segment, one per line, in reading order."""
    return "".join(json.dumps(segment_dict(s), ensure_ascii=False) + "\n" for s in script.segments)
