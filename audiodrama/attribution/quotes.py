"""Finding the quotations of a chapter: double or single marks, unclosed and multi-paragraph quotes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from audiodrama.attribution.tags import SPEECH_VERBS
from audiodrama.text.chapter import Chapter, Kind

_DOUBLE = re.compile(r"[\"“”«»]")
_SINGLE = re.compile(r"['‘’]")
_OPEN_SINGLE = re.compile(r"(?:^|(?<=[\s(\[—–-]))['‘](?=[^\W\d_]|\.\.\.|—)", re.MULTILINE)
_DASH = re.compile(r"[ \t]*(—|―|–|--)[ \t]*(?=\S)")
"""A dash opening a paragraph of dialogue ("—Go away", "--Go away"); group 1 is the dash."""
_DASHED_LINES = 2
"""How many paragraphs opened by a dash make a chapter's dialogue dashed."""
_DASHED_TAG = re.compile(r"([,!?])[ \t]+((?:[^\W\d_][\w'’.-]*[ \t]+){0,4}?[^\W\d_][\w'’-]*)([.,;:]|$)")
"""A speech tag inside a dashed line: a comma or mark (group 1), a few words (group 2) and the
stop that ends them ("..., said Molly. ...")."""
_OPENERS = "“‘«"
_CLOSERS = "”’»"


@dataclass(frozen=True)
class Quote:
    """One quotation: its marks, its content and where it sits."""

    start: int
    """Offset of the opening mark."""
    end: int
    """Offset just past the closing mark, or the paragraph's end when the quote is unclosed."""
    inner_start: int
    """Offset of the first character inside the marks."""
    inner_end: int
    """Offset just past the last character inside the marks."""
    paragraph: int
    """Index (into `Chapter.paragraphs`) of the paragraph holding it."""
    closed: bool = True
    """False when the paragraph ends before a closing mark."""
    continues: bool = False
    """True when it carries on an unclosed quote of the previous paragraph (a multi-paragraph speech)."""


def quote_style(text: str) -> str:
    """`double` unless single marks clearly dominate the dialogue (British style): then `single`."""
    doubles = len(_DOUBLE.findall(text))
    singles = len(_OPEN_SINGLE.findall(text))
    return "single" if singles > 3 * doubles + 2 else "double"


def find_quotes(chapter: Chapter) -> list[Quote]:
    """Every quotation in reading order; quotes never cross a paragraph boundary. In a chapter
    that opens its lines of dialogue with a dash instead of quotation marks (`dashed_dialogue`),
    each paragraph opened by a dash is dialogue, cut around its speech tag."""
    text = chapter.text
    single = quote_style(text) == "single"
    dashed = dashed_dialogue(chapter)
    quotes: list[Quote] = []
    previous_unclosed = -2
    for index, para in enumerate(chapter.paragraphs):
        if para.kind != Kind.TEXT:
            continue
        dash = _DASH.match(text, para.start, para.end) if dashed else None
        found = _dashed(text, dash.start(1), dash.end(), para.end, index) if dash else \
            _scan(text, para.start, para.end, index, single)
        if found and previous_unclosed == index - 1 and found[0].start == para.start:
            first = found[0]
            found[0] = Quote(first.start, first.end, first.inner_start, first.inner_end, index, first.closed, True)
        previous_unclosed = index if found and not found[-1].closed else -2
        quotes.extend(found)
    return quotes


def dashed_dialogue(chapter: Chapter) -> bool:
    """True when the chapter writes dialogue as paragraphs opened by a dash ("—Go away, he said."),
    as Joyce and many translations do: at least two such paragraphs, and fewer quotation marks than
    them (a book with quotation marks uses dashes in its narration)."""
    text = chapter.text
    opened = sum(1 for p in chapter.paragraphs if p.kind == Kind.TEXT and _DASH.match(text, p.start, p.end))
    return opened >= _DASHED_LINES and len(_DOUBLE.findall(text)) + len(_OPEN_SINGLE.findall(text)) < opened


def _dashed(text: str, dash: int, inner: int, end: int, paragraph: int) -> list[Quote]:
    """The line of a paragraph opened by a dash at `dash` (its words from `inner`): the speech
    before its tag and the speech after it ("—I will not, said Molly. Not till you tell me.")."""
    while end > inner and text[end - 1].isspace():
        end -= 1
    tag = next((m for m in _DASHED_TAG.finditer(text, inner, end)
                if any(w.lower() in SPEECH_VERBS for w in m.group(2).split())), None)
    if tag is None:
        return [Quote(dash, end, inner, end, paragraph)]
    first = Quote(dash, tag.end(1), inner, tag.end(1), paragraph)
    rest = tag.end()
    while rest < end and text[rest].isspace():
        rest += 1
    return [first, Quote(rest, end, rest, end, paragraph)] if rest < end else [first]


def _is_mark(text: str, i: int, start: int, end: int, single: bool) -> str:
    """`open`, `close`, `either` or '' for the character at `i` as a quote mark."""
    c = text[i]
    before = text[i - 1] if i > start else " "
    after = text[i + 1] if i + 1 < end else " "
    if not single:
        if c in "“«":
            return "open"
        if c in "”»":
            return "close"
        if c == '"':
            return "either"
        return ""
    if c not in "'‘’":
        return ""
    if before.isalnum() and after.isalnum():
        return ""  # an apostrophe inside a word: don't, o'clock
    opens_word = before.isspace() or before in "([—–-"
    if c == "‘" or (c == "'" and opens_word and (after.isalpha() or after in ".—")):
        return "open"
    if not after.isalnum():
        return "close"
    return ""


def _scan(text: str, start: int, end: int, paragraph: int, single: bool) -> list[Quote]:
    """The quotes of one paragraph, recovering from unclosed and stray marks."""
    pattern = _SINGLE if single else _DOUBLE
    quotes: list[Quote] = []
    opened = -1
    for m in pattern.finditer(text, start, end):
        i = m.start()
        role = _is_mark(text, i, start, end, single)
        if not role:
            continue
        if opened < 0:
            after = text[i + 1] if i + 1 < end else " "
            if role == "close" or (role == "either" and after.isspace() and i > start):
                continue  # a stray closing mark: not a quotation (a paragraph's first mark always opens)
            opened = i
        elif role == "open":
            if single:
                continue  # a nested or unbalanced opener inside a quote: keep going
            quotes.append(_quote(text, opened, i, paragraph, closed=False))
            opened = i
        else:
            quotes.append(_quote(text, opened, i + 1, paragraph, closed=True))
            opened = -1
    if opened >= 0:
        quotes.append(_quote(text, opened, end, paragraph, closed=False))
    return quotes


def _quote(text: str, start: int, end: int, paragraph: int, closed: bool) -> Quote:
    """A Quote from its outer offsets, trimming blanks inside the marks."""
    inner_start, inner_end = start + 1, end - 1 if closed else end
    while inner_start < inner_end and text[inner_start].isspace():
        inner_start += 1
    while inner_end > inner_start and text[inner_end - 1].isspace():
        inner_end -= 1
    if not closed:
        end = inner_end
    return Quote(start, end, inner_start, inner_end, paragraph, closed)


def gaps(start: int, end: int, quotes: list[Quote]) -> list[tuple[int, int]]:
    """The narration stretches of a paragraph: before each quote, and after the last."""
    gaps = []
    pos = start
    for q in quotes:
        gaps.append((pos, q.start))
        pos = q.end
    gaps.append((pos, end))
    return gaps
