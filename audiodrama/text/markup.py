"""Story text from markup: HTML (or XHTML) elements walked into paragraphs, headings, scene breaks
and italic stretches, then made a `Chapter` whose offsets point into the extracted text.

The page, EPUB and Markdown readers choose which elements hold the story; this module reads them:
what is never read aloud (scripts, navigation, share buttons, comments, footnotes, hidden text) is
left out, author's notes only when asked, and emphasis (`<i>`, `<em>`, italic styles) is recorded.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import lxml.html
import tinycss2
from lxml import etree

from audiodrama.text.chapter import Chapter, Kind, cut_chapter, word_set

SCENE_MARK = "* * *"
"""The text a scene break without words of its own (`<hr>`) gets in the extracted story."""
PARAGRAPH_SEPARATOR = "\n\n"
"""Between two paragraphs of the extracted story."""

_BLOCK = word_set(
    """
    address article aside blockquote body center dd details dialog div dl dt fieldset figcaption figure
    h1 h2 h3 h4 h5 h6 header hgroup html li main ol p pre section summary table tbody td tfoot th thead
    tr ul
    """
)
_HEADINGS = word_set("h1 h2 h3 h4 h5 h6")
_ITALIC = frozenset(("i", "em"))
_UNREAD = word_set(
    """
    audio button canvas embed footer form head iframe img input map math menu nav noscript object script
    select style svg template textarea title video
    """
)
"""Elements whose text is never story."""
_BOILERPLATE = word_set(
    """
    ad ads advert advertisement banner boilerplate bookmark bookmarks breadcrumb breadcrumbs comment
    comments cookie cookies follow jump kudos landmark login menu modal nav navbar navigation pager
    pagination popup related review reviews share sharing sidebar signup social subscribe summary
    toolbar widget
    """
)
"""Words of a class or id that mark page furniture (`share-buttons`, `num-comment`, AO3's `landmark`)."""
_NOTE_WORDS = word_set("note notes endnotes authornote authornotes authorsnote authorsnotes")
"""Words of a class or id that mark an author's note (AO3's `notes module`, Royal Road's `author-note`)."""
_FOOTNOTE = word_set(
    """
    footnote footnotes endnote endnotes rearnote rearnotes noteref doc-footnote doc-endnote doc-endnotes
    doc-noteref doc-backlink
    """
)
"""`epub:type` and `role` values of footnotes and the marks that point to them."""
_FOOTNOTE_WORDS = word_set("footnote footnotes")
"""Class words of footnotes (not `endnotes`: AO3 calls the author's closing notes so)."""
_AUTHORS_NOTE = re.compile(
    r"\W{0,3}(?:a\s*/\s*n\b|a\.?\s?n\.?\s*:|authors?['’]?s?\s+notes?\b|disclaimer\b)", re.IGNORECASE
)
"""A paragraph that opens as an author's note: "A/N:", "AN:", "Author's Note", "Disclaimer: I don't own..."."""
_QUOTE_MARKS = frozenset("\"“”‘’«»'")
_WORDS = re.compile(r"[\s_-]+")
_TOKENS = re.compile(r"(\s+)|(\S+)")


@dataclass(frozen=True)
class Block:
    """One paragraph, heading or scene break as the markup gives it."""

    text: str
    """Its text, whitespace folded to single spaces."""
    kind: Kind | None = None
    """`heading` or `scene_break` when the markup says so (`<h2>`, `<hr>`, a `* * *` line), `text` for a
    paragraph all in italics; None leaves it to the text (a `Chapter 3` paragraph is still a heading)."""
    emphasis: tuple[tuple[int, int], ...] = ()
    """(start, end) of its italic stretches, as offsets into `text`."""


@dataclass(frozen=True)
class Styles:
    """What a page's or book's style sheets say about its classes."""

    hidden: frozenset[str] = frozenset()
    """Classes never shown (`display: none`): Royal Road hides its anti-piracy lines so."""
    italic: frozenset[str] = frozenset()
    """Classes set in italics (`font-style: italic`), as converted books mark emphasis."""


def parse_html(text: str) -> lxml.html.HtmlElement:
    """The document element of an HTML or XHTML page (an XML declaration, if any, dropped; an empty
    document for a page with no elements at all)."""
    text = re.sub(r"^\ufeff?\s*<\?xml[^>]*\?>", "", text)
    try:
        return lxml.html.document_fromstring(text)
    except etree.ParserError:  # nothing but blanks or comments
        return lxml.html.document_fromstring("<html></html>")


def styles_of(sheets: Iterable[str]) -> Styles:
    """The hidden and italic classes that `sheets` (CSS texts) declare with simple `.class` selectors
    (lower case, as `_class_words` gives them)."""
    hidden: set[str] = set()
    italic: set[str] = set()
    for sheet in sheets:
        for rule in tinycss2.parse_stylesheet(sheet, skip_comments=True, skip_whitespace=True):
            if rule.type != "qualified-rule":
                continue
            classes = {m.group(1).lower() for selector in tinycss2.serialize(rule.prelude).split(",")
                       if (m := re.fullmatch(r"\s*[a-zA-Z0-9]*\.([\w-]+)\s*", selector))}
            looks = _declarations(rule.content)
            if _is_hidden(looks):
                hidden |= classes
            if _is_italic(looks):
                italic |= classes
    return Styles(frozenset(hidden), frozenset(italic))


def _declarations(content: str | list) -> dict[str, str]:
    """Property -> value (lower case) of a declaration list (a style attribute or a rule's body)."""
    found = {}
    for item in tinycss2.parse_declaration_list(content, skip_comments=True, skip_whitespace=True):
        if item.type == "declaration":
            found[item.lower_name] = tinycss2.serialize(item.value).strip().lower()
    return found


def _is_hidden(looks: dict[str, str]) -> bool:
    return looks.get("display") == "none" or looks.get("visibility") == "hidden" or looks.get("speak") == "never"


def _is_italic(looks: dict[str, str]) -> bool:
    return looks.get("font-style") in ("italic", "oblique")


def is_scene_mark(text: str) -> bool:
    """True for a short line without words that marks a scene break: `* * *`, `~~~`, `§`, `xXx`, `-oOo-`."""
    if len(text) > 20 or any(c in _QUOTE_MARKS for c in text):
        return False
    letters = [c for c in text if c.isalnum()]
    if not letters:
        return bool(text.strip())
    return (len(letters) >= 3 and set(letters) <= set("xXoO")
            and all(a.islower() != b.islower() for a, b in itertools.pairwise(letters)))


def is_authors_note(text: str) -> bool:
    """True for a paragraph that opens as an author's note or a disclaimer."""
    return bool(_AUTHORS_NOTE.match(text))


def local_name(element: etree._Element) -> str | None:
    """An element's tag without namespace, lower case; None for comments and processing instructions."""
    tag = element.tag
    if not isinstance(tag, str):
        return None
    return tag.rpartition("}")[2].lower()


def epub_types(element: etree._Element) -> set[str]:
    """The element's `epub:type` and `role` words."""
    values = [v for k, v in element.attrib.items() if k.endswith(("type", "role")) and k != "type"]
    return {word for value in values for word in value.lower().split()}


def _class_words(element: etree._Element) -> set[str]:
    """The words of the element's class and id: `author-note-portlet` gives `author`, `note`, `portlet`."""
    names = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
    return {w for w in _WORDS.split(names) if w} | set(names.split())


class _Walk:
    """One walk over a story's elements, collecting blocks."""

    def __init__(self, notes: bool, styles: Styles, start: str | None, stop: str | None) -> None:
        self.notes = notes
        self.styles = styles
        self.start = start
        self.stop = stop
        self.reading = start is None
        self.done = False
        self.blocks: list[Block] = []
        self.pieces: list[tuple[str, bool]] = []

    def root(self, element: etree._Element) -> None:
        """Walk a story container: its own class words (a page's `<body class="sidebar-left">`) do not count."""
        self.element(element, False, root=True)
        self.close()

    def element(self, element: etree._Element, italic: bool, root: bool = False) -> None:
        tag = local_name(element)
        if tag is not None:
            ident = element.get("id")
            if ident is not None and ident == self.stop:
                self.close()
                self.done = True
                return
            if ident is not None and ident == self.start:
                self.close()
                self.reading = True
            if not self.unread(element, tag, root):
                self.inside(element, tag, italic)
                if self.done:
                    return
        self.text(element.tail, italic)

    def inside(self, element: etree._Element, tag: str, italic: bool) -> None:
        if tag == "br":
            self.close()
            return
        if tag == "hr":
            self.close()
            self.add(Block(SCENE_MARK, Kind.SCENE_BREAK))
            return
        block = tag in _BLOCK
        if block:
            self.close()
        inner = italic or self.italic(element, tag)
        self.text(element.text, inner)
        for child in element:
            self.element(child, inner)
            if self.done:
                return
        if block:
            self.close(Kind.HEADING if tag in _HEADINGS else None)

    def unread(self, element: etree._Element, tag: str, root: bool) -> bool:
        """True when the element's text is not part of the story."""
        if tag in _UNREAD or element.get("hidden") is not None:
            return True
        style = element.get("style")
        if style and _is_hidden(_declarations(style)):
            return True
        words = _class_words(element)
        if words & self.styles.hidden or epub_types(element) & _FOOTNOTE or words & _FOOTNOTE_WORDS:
            return True
        if tag == "sup" and len(element) == 1 and local_name(element[0]) == "a" and not (element.text or "").strip():
            return True  # a note's number
        if root:
            return False
        return bool(words & _BOILERPLATE) or (not self.notes and bool(words & _NOTE_WORDS))

    def italic(self, element: etree._Element, tag: str) -> bool:
        style = element.get("style")
        return (tag in _ITALIC or bool(_class_words(element) & self.styles.italic)
                or bool(style and _is_italic(_declarations(style))))

    def text(self, text: str | None, italic: bool) -> None:
        if text and self.reading:
            self.pieces.append((text, italic))

    def close(self, kind: Kind | None = None) -> None:
        """End the paragraph under way (if it holds any text)."""
        text, emphasis = fold(self.pieces)
        self.pieces = []
        if not text:
            return
        if kind is None and is_scene_mark(text):
            kind = Kind.SCENE_BREAK
        if kind is None and emphasis == ((0, len(text)),):
            kind = Kind.TEXT  # an italic line is a thought or stress, not a heading ("Please, Naruto.")
        if kind is None and not self.notes and is_authors_note(text):
            return
        self.add(Block(text, kind, emphasis))

    def add(self, block: Block) -> None:
        if self.reading:
            self.blocks.append(block)


def fold(pieces: Sequence[tuple[str, bool]]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The pieces' text with whitespace folded as a browser shows it, and its italic stretches (words
    italic on both sides of a blank make one stretch)."""
    out: list[str] = []
    size = 0
    spans: list[list[int]] = []
    space = False
    for text, italic in pieces:
        for blank, word in _TOKENS.findall(text):
            if blank:
                space = size > 0
                continue
            if space:
                out.append(" ")
                size += 1
                space = False
            if italic:
                if spans and (spans[-1][1] == size or (spans[-1][1] == size - 1 and out[-1] == " ")):
                    spans[-1][1] = size + len(word)
                else:
                    spans.append([size, size + len(word)])
            out.append(word)
            size += len(word)
    return "".join(out), tuple((a, b) for a, b in spans)


def story_blocks(roots: Iterable[etree._Element], notes: bool = False, styles: Styles = Styles(),
                 start: str | None = None, stop: str | None = None) -> list[Block]:
    """The blocks of the story held by `roots`, in order: from the element with id `start` (default:
    the beginning) up to the one with id `stop` (default: the end)."""
    walk = _Walk(notes, styles, start, stop)
    for root in roots:
        walk.root(root)
        if walk.done:
            break
    return walk.blocks


def chapter_from_blocks(blocks: Sequence[Block], source: str, encoding: str, format: str) -> Chapter:
    """The chapter whose text is the blocks' texts, a blank line between two."""
    parts: list[str] = []
    spans: list[tuple[int, int, int, Kind | None]] = []
    emphasis: list[tuple[int, int]] = []
    size = 0
    for block in blocks:
        if parts:
            parts.append(PARAGRAPH_SEPARATOR)
            size += len(PARAGRAPH_SEPARATOR)
        spans.append((size, size + len(block.text), PARAGRAPH_SEPARATOR.count("\n"), block.kind))
        emphasis.extend((size + a, size + b) for a, b in block.emphasis)
        parts.append(block.text)
        size += len(block.text)
    text = "".join(parts) + ("\n" if parts else "")
    return cut_chapter(text, spans, source, encoding, tuple(emphasis), format)


def has_story(chapter: Chapter) -> bool:
    """True when some paragraph of prose has a word in it."""
    return any(p.kind == Kind.TEXT and any(c.isalpha() for c in chapter.text[p.start : p.end])
               for p in chapter.paragraphs)
