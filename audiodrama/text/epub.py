"""EPUB books (2 and 3): the chapters in reading order, from the package's spine and table of contents.

Read with `zipfile` and lxml (the package document, the EPUB 3 navigation document or the EPUB 2 NCX).
Front and back matter (cover, title and copyright pages, contents, notes, licences), footnotes and the
marks that point to them are left out; a chapter split across files, or several in one file, is cut
where the table of contents says. Locked (DRM) books, archives that are not EPUBs and archives that
unpack to far more than they hold are refused before anything is read.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urldefrag

from lxml import etree

from audiodrama.errors import InputError
from audiodrama.text.chapter import Chapter, Kind, decode, word_set
from audiodrama.text.markup import (
    Block,
    Styles,
    chapter_from_blocks,
    epub_types,
    local_name,
    parse_html,
    story_blocks,
    styles_of,
)

MAX_UNPACKED = 512 * 2**20
"""Bytes an EPUB may unpack to in all."""
MAX_RATIO = 100
"""How many times its packed size a member larger than `RATIO_FLOOR` may unpack to (text packs ~5x)."""
RATIO_FLOOR = 2**20
MAX_MEMBERS = 20_000
CONTAINER = "META-INF/container.xml"
FONT_OBFUSCATION = frozenset(("http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"))
"""Encryption algorithms that only scramble embedded fonts (not DRM: the text is readable)."""
DRM_FILES = frozenset(("META-INF/rights.xml", "META-INF/sinf.xml"))
"""Adobe ADEPT's and Apple FairPlay's licence files."""
MATTER_TYPES = word_set(
    """
    acknowledgments afterword backmatter bibliography colophon copyright-page cover dedication endnotes
    epigraph footnotes foreword frontmatter glossary halftitlepage imprint index landmarks loi lot
    preface rearnotes titlepage title-page toc
    """
)
"""`epub:type`s and guide/landmark types of pages that are not the story."""
_MATTER_TITLE = re.compile(
    r"(?:cover|title(?: page)?|half[- ]title|copyright(?: page)?|(?:table of )?contents|toc|dedication|epigraph"
    r"|acknowledge?ments?|about the (?:author|authors|publisher|book)|also by\b.*|other (?:books|works) by\b.*"
    r"|colophon|imprint|uncopyright|licen[cs]e|the full project gutenberg licen[cs]e|(?:foot|end)?notes|index"
    r"|bibliography|glossary|preface|foreword|afterword|front ?matter|back ?matter)",
    re.IGNORECASE,
)
"""Table-of-contents labels of pages that are not the story."""
_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_IMAGE_SUFFIX = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}
_NOT_EPUB = (
    ("word/document.xml", "a Word document (.docx)", "save it as plain text or HTML with File, Save As"),
    ("content.xml", "an OpenDocument text", "save it as plain text or HTML with File, Save As"),
)


@dataclass(frozen=True)
class BookChapter:
    """One chapter of a book."""

    title: str
    """Its title as the table of contents gives it (else its first heading, else `Chapter N`)."""
    blocks: tuple[Block, ...]
    """Its paragraphs, opening with a heading."""


@dataclass(frozen=True)
class Book:
    """An EPUB's story: what it is called, its cover and its chapters in reading order."""

    path: Path
    """The EPUB file."""
    title: str
    """The book's title (else the file name)."""
    author: str
    """Its first author, or an empty string."""
    language: str
    """Its language code, or an empty string."""
    cover: tuple[str, bytes] | None
    """The cover image as (`.jpg` or `.png`, its bytes); None when the book has none in those forms."""
    chapters: tuple[BookChapter, ...]
    """The chapters, in reading order."""


@dataclass(frozen=True)
class _Item:
    """A manifest item."""

    path: str
    """Its name in the archive."""
    media_type: str
    """Its media type."""
    properties: frozenset[str]
    """Its EPUB 3 properties (`nav`, `cover-image`)."""


@dataclass(frozen=True)
class _Entry:
    """A table-of-contents entry: where a chapter starts."""

    label: str
    """What the contents call it."""
    spine: int
    """Index of its file in the spine."""
    fragment: str | None
    """The id it starts at in that file; None for the file's start."""


def read_book(path: str | Path, notes: bool = False) -> Book:
    """The chapters of the EPUB at `path`; InputError when it is locked, broken or not an EPUB."""
    path = Path(path)
    with _open(path) as archive:
        return _Package(path, archive).book(notes)


def read_epub(path: str | Path, notes: bool = False) -> Chapter:
    """The whole book as one chapter: every chapter in turn, each opening with its heading."""
    book = read_book(path, notes)
    return chapter_from_blocks([b for c in book.chapters for b in c.blocks], str(path), "utf-8", "epub")


def _refuse(path: Path, message: str, hint: str) -> InputError:
    return InputError(message, path=path, hint=hint)


def _open(path: Path) -> zipfile.ZipFile:
    """The archive, checked: an EPUB, not locked, not a decompression bomb."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise _refuse(path, "this is not a readable EPUB (the zip archive is damaged)",
                      "download or export the book again") from exc
    except OSError as exc:
        raise InputError(f"cannot read the book: {exc.strerror or exc}", path=path, hint="check the path") from exc
    try:
        _check(path, archive)
    except BaseException:
        archive.close()
        raise
    return archive


def _check(path: Path, archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    if (len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_UNPACKED
            or any(i.file_size > RATIO_FLOOR and i.file_size > MAX_RATIO * max(i.compress_size, 1) for i in infos)):
        raise _refuse(path, "this archive unpacks to far more than it holds (a decompression bomb?), so it is not read",
                      "get the book again from where it was published")
    names = {i.filename for i in infos}
    if CONTAINER not in names:
        for member, what, hint in _NOT_EPUB:
            if member in names:
                raise _refuse(path, f"this is {what}, which audiodrama does not read", hint)
        raise _refuse(path, "this zip archive is not an EPUB (it has no META-INF/container.xml)",
                      "give an EPUB book, or unpack the archive and give its chapter files")
    if any(i.flag_bits & 1 for i in infos) or names & DRM_FILES or _encrypted(path, archive, names):
        raise _refuse(path, "this EPUB is locked with DRM, so its text cannot be read",
                      "use a DRM-free copy (AO3, Project Gutenberg, Standard Ebooks and FanFicFare give them)")


def _encrypted(path: Path, archive: zipfile.ZipFile, names: set[str]) -> bool:
    """True when META-INF/encryption.xml encrypts anything but fonts."""
    if "META-INF/encryption.xml" not in names:
        return False
    root = _xml(path, archive, "META-INF/encryption.xml")
    methods = {m.get("Algorithm", "") for m in root.iter("{*}EncryptionMethod")}
    return bool(methods - FONT_OBFUSCATION)


def _member(path: Path, archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError:
        raise _refuse(path, f"the EPUB names {name!r} but does not hold it",
                      "download or export the book again") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a CRC mismatch, a truncated member
        raise _refuse(path, f"{name!r} in the EPUB cannot be unpacked ({exc})",
                      "download or export the book again") from None


def _xml(path: Path, archive: zipfile.ZipFile, name: str) -> etree._Element:
    try:
        return etree.fromstring(_member(path, archive, name), _XML)
    except etree.XMLSyntaxError as exc:
        raise _refuse(path, f"{name!r} in the EPUB is not well-formed XML ({exc.msg})",
                      "download or export the book again") from None


class _Package:
    """An open EPUB's package document, read."""

    def __init__(self, path: Path, archive: zipfile.ZipFile) -> None:
        self.path = path
        self.archive = archive
        rootfile = next(_xml(path, archive, CONTAINER).iter("{*}rootfile"), None)
        if rootfile is None or not rootfile.get("full-path"):
            raise _refuse(path, "the EPUB's META-INF/container.xml names no package document",
                          "download or export the book again")
        self.opf_path = rootfile.get("full-path")
        self.opf = _xml(path, archive, self.opf_path)
        self.items: dict[str, _Item] = {}
        for item in self.opf.iter("{*}item"):
            href = item.get("href")
            if item.get("id") and href:
                self.items[item.get("id")] = _Item(self.resolve(self.opf_path, href), item.get("media-type", ""),
                                                   frozenset((item.get("properties") or "").split()))
        spine = self.opf.find("{*}spine")
        self.spine = [self.items[ref.get("idref")].path for ref in (spine if spine is not None else ())
                      if ref.get("idref") in self.items and ref.get("linear", "yes") != "no"]
        self.pages: dict[str, etree._Element] = {}
        self.matter_paths: set[str] = set()

    @staticmethod
    def resolve(base: str, href: str) -> str:
        """The archive name `href` (relative to the member `base`) points to, without its fragment."""
        return posixpath.normpath(posixpath.join(posixpath.dirname(base), unquote(urldefrag(href)[0])))

    def metadata(self, name: str) -> str:
        element = next(self.opf.iter(f"{{http://purl.org/dc/elements/1.1/}}{name}"), None)
        return " ".join((element.text or "").split()) if element is not None else ""

    def page(self, name: str) -> etree._Element:
        if name not in self.pages:
            text, _ = decode(_member(self.path, self.archive, name), f"{self.path}:{name}")
            self.pages[name] = parse_html(text)
        return self.pages[name]

    def book(self, notes: bool) -> Book:
        if not self.spine:
            raise _refuse(self.path, "the EPUB's spine lists no chapters", "download or export the book again")
        self.matter_paths = self.landmarks()
        styles = self.styles()
        chapters = []
        entries = self.entries()
        for k, entry in enumerate(entries):
            if self.is_matter(entry):
                continue
            following = entries[k + 1] if k + 1 < len(entries) else None
            blocks = self.chapter_blocks(entry, following, notes, styles)
            if any(b.kind in (None, Kind.TEXT) and any(c.isalpha() for c in b.text) for b in blocks):
                title = entry.label or next((b.text for b in blocks if b.kind == Kind.HEADING), "")
                title = title or f"Chapter {len(chapters) + 1}"
                if blocks[0].kind != Kind.HEADING:
                    blocks.insert(0, Block(title, Kind.HEADING))
                chapters.append(BookChapter(title, tuple(blocks)))
        if not chapters:
            raise _refuse(self.path, "no story text found in this EPUB", "check that it is the book you meant")
        return Book(self.path, self.metadata("title") or self.path.stem, self.metadata("creator"),
                    self.metadata("language"), self.cover(), tuple(chapters))

    def styles(self) -> Styles:
        sheets = [_member(self.path, self.archive, i.path).decode("utf-8", "replace")
                  for i in self.items.values() if i.media_type == "text/css"]
        return styles_of(sheets)

    def landmarks(self) -> set[str]:
        """Files the EPUB 2 guide or the EPUB 3 landmarks name as front or back matter."""
        found = {self.resolve(self.opf_path, ref.get("href", "")) for ref in self.opf.iter("{*}reference")
                 if ref.get("type", "").lower() in MATTER_TYPES}
        nav = self.nav_path()
        if nav is not None:
            for element in self.page(nav).iter("nav"):
                if "landmarks" in epub_types(element):
                    found |= {self.resolve(nav, a.get("href", "")) for a in element.iter("a")
                              if epub_types(a) & MATTER_TYPES}
        return found

    def nav_path(self) -> str | None:
        return next((i.path for i in self.items.values() if "nav" in i.properties), None)

    def entries(self) -> list[_Entry]:
        """Where each chapter (or piece of front or back matter) starts, in reading order: from the table of
        contents, else one per file."""
        entries = []
        for label, target in self.contents():
            name, fragment = urldefrag(target)
            name = unquote(name)
            if name in self.spine:
                entries.append(_Entry(" ".join(label.split()), self.spine.index(name), fragment or None))
        if not entries:
            entries = [_Entry("", k, None) for k in range(len(self.spine))]
        entries.sort(key=lambda e: (e.spine, self.position(e)))
        kept: list[_Entry] = []
        for entry in entries:  # a part and its first chapter start at one place: keep the chapter
            if kept and (kept[-1].spine, kept[-1].fragment) == (entry.spine, entry.fragment):
                kept.pop()
            kept.append(entry)
        return kept

    def position(self, entry: _Entry) -> int:
        """Where the entry's fragment lies in its file (0 for the file's start)."""
        if entry.fragment is None:
            return 0
        for index, element in enumerate(self.page(self.spine[entry.spine]).iter()):
            if element.get("id") == entry.fragment:
                return index + 1
        return 0

    def contents(self) -> list[tuple[str, str]]:
        """(label, archive name#fragment) of every table-of-contents entry, in order, nested ones flattened."""
        nav = self.nav_path()
        if nav is not None:
            for element in self.page(nav).iter("nav"):
                if "toc" in epub_types(element):
                    return [(a.text_content(), self.target(nav, a.get("href", ""))) for a in element.iter("a")
                            if a.get("href")]
        spine = self.opf.find("{*}spine")
        ncx_id = spine.get("toc") if spine is not None else None
        ncx = self.items.get(ncx_id) if ncx_id else next(
            (i for i in self.items.values() if i.media_type == "application/x-dtbncx+xml"), None)
        if ncx is None:
            return []
        root = _xml(self.path, self.archive, ncx.path)
        found = []
        for point in root.iter("{*}navPoint"):
            label = next(point.iter("{*}text"), None)
            content = point.find("{*}content")
            if content is not None and content.get("src"):
                found.append(("" if label is None else label.text or "", self.target(ncx.path, content.get("src"))))
        return found

    def target(self, base: str, href: str) -> str:
        name, fragment = urldefrag(href)
        resolved = self.resolve(base, name) if name else base
        return f"{resolved}#{fragment}" if fragment else resolved

    def is_matter(self, entry: _Entry) -> bool:
        """True for front or back matter: by its label, the guide, or the `epub:type` where it starts."""
        if entry.label and _MATTER_TITLE.fullmatch(entry.label.strip(" .:")):
            return True
        name = self.spine[entry.spine]
        if entry.fragment is None and name in self.matter_paths:
            return True
        page = self.page(name)
        start = next((e for e in page.iter() if e.get("id") == entry.fragment), None) if entry.fragment else None
        body = page.find("body")
        if start is None:
            start = next((e for e in body if local_name(e) in ("section", "div", "article")), body) \
                if body is not None else page
        around = [start, *start.iterancestors()]
        return any(epub_types(e) & MATTER_TYPES for e in around)

    def chapter_blocks(self, entry: _Entry, following: _Entry | None, notes: bool, styles: Styles) -> list[Block]:
        """The blocks from `entry` up to `following` (or the end of the spine), across files; files between
        them that are front or back matter left out."""
        last = following.spine if following is not None else len(self.spine) - 1
        if following is not None and following.fragment is None:
            last -= 1
        blocks: list[Block] = []
        for index in range(entry.spine, last + 1):
            name = self.spine[index]
            if index != entry.spine and (name in self.matter_paths or self.is_matter(_Entry("", index, None))):
                continue
            start = entry.fragment if index == entry.spine else None
            stop = following.fragment if following is not None and index == following.spine else None
            body = self.page(name).find("body")
            if body is not None:
                blocks += story_blocks([body], notes, styles, start, stop)
        return blocks

    def cover(self) -> tuple[str, bytes] | None:
        """The cover image, JPEG or PNG: the EPUB 3 `cover-image`, the EPUB 2 `cover` meta, or an image so named."""
        items = list(self.items.values())
        chosen = next((i for i in items if "cover-image" in i.properties), None)
        if chosen is None:
            meta = next((m for m in self.opf.iter("{*}meta") if m.get("name") == "cover"), None)
            chosen = self.items.get(meta.get("content", "")) if meta is not None else None
        if chosen is None:
            chosen = next((i for i in items if i.media_type.startswith("image/") and "cover" in i.path.lower()), None)
        if chosen is None:
            return None
        data = _member(self.path, self.archive, chosen.path)
        suffix = next((s for magic, s in _IMAGE_SUFFIX.items() if data.startswith(magic)), None)
        return (suffix, data) if suffix else None
