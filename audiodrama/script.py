"""The script: a chapter cut into segments (narration, dialogue, thoughts), each with its speaker.

The JSONL form is fixed (see docs/script-format.md and the attribution scorer): one object per
segment, in reading order, the segments tiling the chapter.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from audiodrama.errors import InputError
from audiodrama.text.chapter import Kind
from audiodrama.yamlfile import read_yaml

SCRIPT_KINDS = tuple(kind for kind in Kind if kind not in (Kind.TEXT, Kind.MUSIC))
"""The kinds a script file may hold (paragraph text and music are never in one)."""
VOICED_BY_SPEAKER = frozenset((Kind.DIALOGUE, Kind.THOUGHT))
"""Kinds read in the speaker's voice; every other kind is read by the narrator."""


@dataclass(frozen=True)
class Segment:
    """One stretch of the chapter read by one voice."""

    kind: Kind
    """What it is: narration, dialogue, a thought, a heading, a scene break or a bare speech tag."""
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

    @property
    def voiced_by(self) -> str | None:
        """The character who reads this segment: its speaker for dialogue and thoughts, else None (the
        narrator, or a line nobody could be found for)."""
        return self.speaker if self.voiced_by_speaker else None


@dataclass(frozen=True)
class Script:
    """A whole chapter's segments in reading order."""

    segments: tuple[Segment, ...]
    """The segments, in reading order, tiling the chapter's non-blank text."""
    source: str = ""
    """Where the chapter came from (a path), for messages and metadata."""
    title: str = ""
    """The episode title, when known (first heading or the file name)."""
    format: str = "text"
    """The chapter's format (`text`, `markdown`, `html`, `epub`): offsets point into the story text
    extracted from a markup chapter, not into its file's bytes."""
    genders: tuple[tuple[str, str | None], ...] = ()
    """(name, gender) of the characters the chapter names, when the script has speakers the cast lacks:
    what auto-casting needs, found while attributing (an edited script file has none)."""

    @functools.cached_property
    def speakers(self) -> tuple[str, ...]:
        """Everyone with a line in the script, in order of first appearance."""
        return tuple(dict.fromkeys(s.voiced_by for s in self.segments if s.voiced_by))

    def spoken(self) -> tuple[Segment, ...]:
        """The segments that make sound (scene breaks and empty text are silent)."""
        return tuple(s for s in self.segments if s.kind != Kind.SCENE_BREAK and s.text.strip())


JSONL_KEYS = ("kind", "speaker", "start", "end", "text", "confidence", "reason", "paragraph", "scene")
"""Keys of one JSONL object, in print order (the first seven are the fixed contract)."""


def segment_dict(segment: Segment) -> dict:
    """The segment as a plain dict with the JSONL keys."""
    return {k: getattr(segment, k) for k in JSONL_KEYS} | {"kind": segment.kind.value}


def origin(script: Script) -> dict[str, str]:
    """`source` and `format` of a script made from a markup chapter (Markdown, HTML, EPUB); nothing for
    plain text, whose offsets point into the file itself."""
    return {} if script.format == "text" else {"source": script.source, "format": script.format}


def to_jsonl(script: Script) -> str:
    """One JSON object per segment, one per line, in reading order; the first also says where a markup
    chapter came from (`source`, `format`)."""
    lines = [segment_dict(s) for s in script.segments]
    if lines:
        lines[0] |= origin(script)
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


YAML_HEADER = (
    "# audiodrama script: fix a `speaker` (or `kind`) and render this file with `audiodrama produce`.\n"
    "# Keep `start`/`end` as they are: they point into the chapter the script was made from.\n"
)


YAML_KEYS = ("title", "source", "format", "speakers", "segments")
"""Top-level keys of a YAML script (`speakers` is written for the reader and ignored when read back)."""


def to_yaml(script: Script) -> str:
    """The human-editable form: a commented YAML document with one mapping per segment."""
    head = {"title": script.title, "source": script.source, **origin(script), "speakers": list(script.speakers)}
    body = {"segments": [segment_dict(s) for s in script.segments]}
    dump = {"sort_keys": False, "allow_unicode": True, "width": 100}
    return YAML_HEADER + yaml.safe_dump(head, **dump) + yaml.safe_dump(body, **dump)


def to_text(script: Script) -> str:
    """A screenplay-like view for review: one block per segment, speaker in capitals, weak lines marked."""
    out = [f"# {script.title}\n"] if script.title else []
    scene = 0
    for s in script.segments:
        if s.scene != scene:
            out.append(f"\n--- scene {s.scene + 1} ---\n")
            scene = s.scene
        if s.kind == Kind.SCENE_BREAK:
            continue
        if s.kind == Kind.HEADING:
            out.append(f"\n== {s.text} ==\n")
        elif s.kind in VOICED_BY_SPEAKER:
            who = (s.speaker or "UNKNOWN").upper() + (" (thinking)" if s.kind == Kind.THOUGHT else "")
            flag = f"   [{s.confidence:.2f} {s.reason}]" if s.confidence < 0.7 else ""
            out.append(f"{who}: {s.text}{flag}\n")
        else:
            out.append(f"    {s.text}\n")
    return "".join(out)


def is_script_file(path: str | Path) -> bool:
    """True for a file `audiodrama script` wrote (JSONL or YAML), rather than a chapter or a cast."""
    path = Path(path)
    if path.suffix.lower() not in (".jsonl", ".yaml", ".yml", ".json") or not path.is_file():
        return False
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() in (".jsonl", ".json"):
        return text.lstrip().startswith("{") and '"kind"' in text[:4096]
    return text.startswith("segments:") or "\nsegments:" in text


def load_script(path: str | Path) -> Script:
    """Read a (possibly hand-edited) YAML or JSONL script back, checking every segment."""
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".json"):
        items = list(_jsonl_items(path))
        first = items[0][0] if items and isinstance(items[0][0], dict) else {}
        title, source, format = "", str(first.get("source") or ""), str(first.get("format") or "text")
    else:
        items, title, source, format = _yaml_items(path)
    segments = tuple(_segment(item, path, line, column) for item, line, column in items)
    for k in range(1, len(segments)):
        if segments[k].start < segments[k - 1].start:
            raise InputError(
                f"segment starts at {segments[k].start}, before the one above it ({segments[k - 1].start})",
                path=path,
                line=items[k][1],
                column=items[k][2],
                hint="keep segments in reading order",
            )
    return Script(segments, source, title or path.stem.removesuffix(".script"), format)


def _jsonl_items(path: Path) -> Iterator[tuple[object, int, int]]:
    """(object, line, column) for each non-blank line of a JSONL script."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the script: {exc.strerror or exc}", path=path) from exc
    except UnicodeDecodeError as exc:
        raise InputError("the script is not UTF-8 text", path=path, hint="save it as UTF-8") from exc
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not a JSON object: {exc.msg}",
                path=path,
                line=number,
                column=exc.colno,
                hint="one JSON object per line",
            ) from exc
        yield item, number, 1


def _yaml_items(path: Path) -> tuple[list[tuple[object, int, int]], str, str, str]:
    """(mapping, line, column) for each segment of a YAML script, with its title, source and format, read
    by the same safe reader as every other YAML file the user gives."""
    root = read_yaml(path, "script")
    if root is None:
        raise InputError("the script is empty", path=path, hint="a script needs a `segments:` list")
    root.check_keys("the script", YAML_KEYS)
    fields = dict(root.mapping("the script"))
    if "segments" not in fields:
        raise root.error("a script needs a `segments:` list")
    items = [(node.plain("a segment"), *node.position) for node in fields["segments"].sequence("segments")]
    title, source, format = (fields[key].text(key) if key in fields and not fields[key].is_null() else ""
                             for key in ("title", "source", "format"))
    return items, title, source, format or "text"


def _segment(item, path: Path, line: int, column: int) -> Segment:
    """One validated Segment from a loaded mapping."""

    def fail(message: str, hint: str) -> InputError:
        return InputError(message, path=path, line=line, column=column, hint=hint)

    if not isinstance(item, dict):
        raise fail("a segment must be a mapping", "write `kind:`, `speaker:`, `start:`, `end:`, `text:`")
    missing = [k for k in ("kind", "start", "end", "text") if k not in item]
    if missing:
        raise fail(f"segment without {', '.join(missing)}", "every segment needs kind, start, end and text")
    kind, speaker, start, end = item["kind"], item.get("speaker"), item["start"], item["end"]
    if kind not in SCRIPT_KINDS:
        raise fail(f"unknown kind {kind!r}", "use one of " + ", ".join(SCRIPT_KINDS))
    if speaker is not None and not isinstance(speaker, str):
        raise fail(f"speaker must be a name, not {speaker!r}", "write the character's name, or null")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end):
        raise fail(f"bad offsets start={start!r} end={end!r}", "offsets are whole numbers with start <= end")
    confidence = item.get("confidence", 1.0)
    if not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise fail(f"confidence {confidence!r} is not in [0, 1]", "use a number from 0 to 1")
    return Segment(
        Kind(kind),
        speaker or None,
        start,
        end,
        str(item["text"] or ""),
        float(confidence),
        str(item.get("reason") or ""),
        int(item.get("paragraph") or 0),
        int(item.get("scene") or 0),
    )
