"""A chapter's text cut into paragraphs, scene breaks and headings, all as offsets into the text.

For a plain-text chapter, offsets are Python `str` indices into the text exactly as decoded (a UTF-8
byte-order mark, if any, stays as character 0), so they agree with any tool that reads the file with
`read_text(encoding="utf-8")`. For markup (HTML, EPUB, Markdown) they point into the story text
extracted from it. `audiodrama.text.reader.read_chapter` reads a file of any supported format.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from audiodrama.errors import InputError


def word_set(words: str) -> frozenset[str]:
    """The blank-separated words of `words` as a set."""
    return frozenset(words.split())


class Kind(str, Enum):
    """What a stretch of a chapter is: the one vocabulary of paragraphs, script segments and the timeline."""

    TEXT = "text"
    """A paragraph of prose, before attribution cuts it into narration and speech (paragraphs only)."""
    NARRATION = "narration"
    """Read by the narrator."""
    DIALOGUE = "dialogue"
    """A character's quoted speech, read in that character's voice."""
    THOUGHT = "thought"
    """A character's thought, read in that character's voice, treated as a thought: a quoted one, or
    unquoted italics in a chapter whose markup marks emphasis (HTML, EPUB, Markdown)."""
    HEADING = "heading"
    """A chapter or scene heading, read by the narrator."""
    SCENE_BREAK = "scene_break"
    """A scene-break marker such as `* * *`: silent, it opens a new scene."""
    TAG = "tag"
    """A bare speech tag ("said Naruto"), dropped from a radio play."""
    MUSIC = "music"
    """Intro or outro music the producer places on the timeline (never written by the parser)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def __repr__(self) -> str:  # as the plain string it stands for: episode fingerprints hash reprs
        return repr(self.value)



BLANK = " \t\r\n\f\v\ufeff\u00a0\u2028\u2029"
"""Characters that are never spoken (whitespace and the byte-order mark)."""

_FALLBACK_ENCODINGS = ("cp1252", "latin-1")
_WRAP_WIDTH = 100
_SCENE_MARK = re.compile(r"[ \t]*(?:[*#~=_+•·-][ \t]*){3,}")
_PLACE = re.compile(r"(?:In|At|Inside|Outside|Back (?:in|at)) the [a-z]+(?: [a-z]+)?\.?")
"""A short location heading in lower case: "In the woods.", "Back at the hospital"."""
_HEADING_START = re.compile(r"(?:chapter|part|book|prologue|epilogue|interlude|act|scene)\b", re.IGNORECASE)
_ROMAN = re.compile(r"[IVXLCDM]+\.?|\d+\.?", re.IGNORECASE)
_SMALL_WORDS = word_set(
    """
    a an and at by for from in into of on or the to with 's
    """
)
_QUOTE_MARKS = frozenset('"“”‘’«»')
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # CRLF, LF and old Macs' lone CR
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Paragraph:
    """One paragraph, heading or scene-break marker of the chapter."""

    start: int
    """Offset of its first non-blank character."""
    end: int
    """Offset just past its last non-blank character."""
    kind: Kind = Kind.TEXT
    """`text`, `heading` or `scene_break` (a marker line such as `* * *`)."""
    scene: int = 0
    """Index of the scene it belongs to; headings and scene breaks open a new scene."""
    wide_gap: bool = False
    """True when more blank lines than the chapter's usual paragraph gap precede it (a pause, a
    dropped line, or a scene break)."""


@dataclass(frozen=True)
class Chapter:
    """A decoded chapter cut into paragraphs."""

    text: str
    """The whole text as decoded; every offset in the chapter points into it."""
    paragraphs: tuple[Paragraph, ...]
    """Paragraphs, headings and scene-break markers in reading order."""
    scene_starts: tuple[int, ...]
    """Offset where each scene begins (scene 0 begins at the first paragraph)."""
    source: str = ""
    """The path the chapter was read from, or a caller's label; empty for plain strings."""
    encoding: str = "utf-8"
    """The encoding the file was decoded with."""
    emphasis: tuple[tuple[int, int], ...] = ()
    """(start, end) of every italic stretch the markup marks, in order; none for plain text."""
    format: str = "text"
    """What the file was: `text`, `markdown`, `html` or `epub`."""

    @property
    def headings(self) -> tuple[Paragraph, ...]:
        """The heading paragraphs, in order."""
        return tuple(p for p in self.paragraphs if p.kind == Kind.HEADING)

    @property
    def title(self) -> str:
        """The first heading's text, or the file stem, or an empty string."""
        for p in self.headings:
            return " ".join(self.text[p.start : p.end].split()).rstrip(".")
        return Path(self.source).stem if self.source else ""


def decode(data: bytes, source: str = "") -> tuple[str, str]:
    """Decode `data` as UTF-16 when it starts with its byte-order mark, else UTF-8, else cp1252, else
    latin-1; refuse binary data. Returns (text, encoding)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode("utf-16"), "utf-16"
    head = data[:65536]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in head or (head and controls / len(head) > 0.05):
        raise InputError(
            "this is a binary file, not a text chapter",
            path=source or None,
            line=1,
            column=1,
            hint="give a chapter as plain text, Markdown, HTML or EPUB",
        )
    for encoding in ("utf-8", *_FALLBACK_ENCODINGS):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def chapter_from_text(text: str, source: str = "", encoding: str = "utf-8") -> Chapter:
    """Cut `text` into paragraphs, headings and scenes.

    Hard-wrapped text (Project Gutenberg: short lines, blank lines between paragraphs) makes one
    paragraph per block; text with long lines (one paragraph per line) makes one per line. A run
    of blank lines longer than the usual paragraph gap, or a marker line, breaks the scene.
    """
    lines = _lines(text)
    blocks = _blocks(lines, _is_hard_wrapped(lines))
    return cut_chapter(text, [(start, end, gap, None) for start, end, gap in blocks], source, encoding)


def cut_chapter(text: str, blocks: Sequence[tuple[int, int, int, Kind | None]], source: str = "",
                encoding: str = "utf-8", emphasis: tuple[tuple[int, int], ...] = (), format: str = "text") -> Chapter:
    """The chapter made of `blocks`: (start, end, newlines before it, kind) of each paragraph candidate,
    the kind None where the text alone tells a paragraph from a heading or a scene-break marker."""
    gaps = [gap for _, _, gap, _ in blocks[1:]]
    usual = max(set(gaps), key=gaps.count) if gaps else 1
    paragraphs: list[Paragraph] = []
    scene_starts: list[int] = []
    scene = 0
    for start, end, gap, given in blocks:
        kind = given or _kind(text, start, end)
        if not paragraphs:
            scene_starts.append(start)
        elif paragraphs[-1].kind == Kind.TEXT and (kind != Kind.TEXT or gap >= max(usual + 2, 3)):
            scene += 1
            scene_starts.append(start)
        paragraphs.append(Paragraph(start, end, kind, scene, bool(paragraphs) and gap > usual))
    return Chapter(text, tuple(paragraphs), tuple(scene_starts), source, encoding, emphasis, format)


def line_number(text: str, offset: int) -> int:
    """The line (from 1) of `text` that `offset` lies on, a CRLF, LF or lone CR ending each line as
    the chapter is cut: what an editor shows for a segment's offset."""
    return 1 + len(_LINE_END.findall(text, 0, offset))


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line's non-blank content; (-1, -1) for a blank line."""
    lines = []
    for m in _LINE.finditer(text):
        line = m.group()
        stripped = line.strip(BLANK)
        if not stripped:
            lines.append((-1, -1))
            continue
        start = m.start() + line.index(stripped[0])
        lines.append((start, start + len(stripped)))
    return lines


def _is_hard_wrapped(lines: list[tuple[int, int]]) -> bool:
    """True when almost no line is longer than a typeset line (Gutenberg-style wrapping)."""
    lengths = [end - start for start, end in lines if start >= 0]
    if not lengths:
        return True
    long_lines = sum(1 for n in lengths if n > _WRAP_WIDTH)
    return long_lines <= 0.02 * len(lengths)


def _blocks(lines: list[tuple[int, int]], wrapped: bool) -> list[tuple[int, int, int]]:
    """(start, end, newlines before it) of every paragraph candidate."""
    blocks: list[tuple[int, int, int]] = []
    gap = 0
    current: list[int] | None = None
    for start, end in lines:
        if start < 0:
            gap += 1
            current = None
            continue
        if current is not None and wrapped:
            current[1] = end
            blocks[-1] = (current[0], end, blocks[-1][2])
        else:
            current = [start, end]
            blocks.append((start, end, gap + 1))
        gap = 0
    return blocks


def _kind(text: str, start: int, end: int) -> Kind:
    """Classify one paragraph as text, heading or scene-break marker."""
    body = text[start:end]
    if _SCENE_MARK.fullmatch(body):
        return Kind.SCENE_BREAK
    if end - start > 80 or "\n\n" in body or any(c in _QUOTE_MARKS for c in body):
        return Kind.TEXT
    words = body.split()
    if not words or len(words) > 10:
        return Kind.TEXT
    first = words[0]
    if _HEADING_START.match(first) and (len(words) == 1 or _ROMAN.fullmatch(words[1]) or words[1][:1].isupper()):
        return Kind.HEADING
    if len(words) == 1 and _ROMAN.fullmatch(first.strip("[]()")):
        return Kind.HEADING
    letters = [c for c in body if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters) and body[-1] not in "!?,;:":
        return Kind.HEADING
    if body[-1] in "!?,;:\"'" or (body[-1] == "." and len(words) < 2):
        return Kind.TEXT
    if _PLACE.fullmatch(body):
        return Kind.HEADING
    if not first[:1].isupper() or len(words) > 6:
        return Kind.TEXT
    for word in words[1:]:
        bare = word.strip(".,'’")
        if bare and not bare[0].isupper() and bare.lower() not in _SMALL_WORDS and not bare[0].isdigit():
            return Kind.TEXT
    return Kind.HEADING
