"""EPUB books the tests write themselves: an EPUB 3 with ebooklib (as most tools make them) and an
EPUB 2 by hand with zipfile (an NCX, a guide, XHTML 1.1 entities, italics by a style-sheet class)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ebooklib import epub

COVER = Path(__file__).parent / "fixtures" / "series" / "cover.png"

BOOK_TITLE = "The Leaf's Exile"
BOOK_AUTHOR = "Seed Author"
CHAPTER_TITLES = ("Chapter One", "Chapter Two", "Chapter Three")
EXPECTED = (
    ["Chapter One", "Naruto stood at the edge of the river.", "“Are you ready, Sasuke?” asked Naruto.",
     "Not again, Sasuke thought."],
    ["Chapter Two", "Sakura ran to the hospital.", "“Where is he?” asked Sakura.", "* * *", "The night was quiet."],
    ["Chapter Three", "Tsunade looked at the sky. What a mess, she thought."],
)
"""The paragraphs of each chapter of `write_book`'s book, as extracted."""

_PAGES = {
    "title.xhtml": ("Title", '<section epub:type="titlepage"><h1>The Leaf\'s Exile</h1><p>by Seed Author</p>'
                             "</section>"),
    "copyright.xhtml": ("Copyright", "<p>Copyright 2024 Seed Author. All rights reserved.</p>"),
    "ch1.xhtml": ("Chapter One", "<h1>Chapter One</h1><p>Naruto stood at the edge of the river.</p>"
                                 "<p>&#8220;Are you ready, Sasuke?&#8221; asked Naruto."
                                 '<a epub:type="noteref" href="#n1">1</a></p>'
                                 "<p><i>Not again,</i> Sasuke thought.</p>"
                                 '<aside epub:type="footnote" id="n1"><p>The river is the Valley of the End.</p>'
                                 "</aside>"),
    "ch2a.xhtml": ("Chapter Two", "<h1>Chapter Two</h1><p>Sakura ran to the hospital.</p>"),
    "ch2b.xhtml": ("Chapter Two (continued)", "<p>&#8220;Where is he?&#8221; asked Sakura.</p><hr/>"
                                              "<p>The night was quiet.</p>"),
    "end.xhtml": ("The end", '<section id="c3"><h2>Chapter Three</h2><p>Tsunade looked at the sky. '
                             "<em>What a mess,</em> she thought.</p></section>"
                             '<section id="after" epub:type="backmatter"><h2>Afterword</h2>'
                             "<p>Thank you for reading! Please leave a comment.</p></section>"),
}


def write_book(path: Path, cover: bool = True) -> Path:
    """An EPUB 3 of three chapters (the second split across two files, the third sharing a file with an
    afterword), with a title page, a copyright page, a footnote and a cover, written by ebooklib."""
    book = epub.EpubBook()
    book.set_identifier("leafs-exile")
    book.set_title(BOOK_TITLE)
    book.set_language("en")
    book.add_author(BOOK_AUTHOR)
    if cover:
        book.set_cover("cover.png", COVER.read_bytes())
    pages = {}
    for name, (title, body) in _PAGES.items():
        page = epub.EpubHtml(title=title, file_name=name, lang="en")
        page.content = body
        book.add_item(page)
        pages[name] = page
    book.toc = [epub.Link("copyright.xhtml", "Copyright", "copyright"), epub.Link("ch1.xhtml", "Chapter One", "c1"),
                epub.Link("ch2a.xhtml", "Chapter Two", "c2"), epub.Link("end.xhtml#c3", "Chapter Three", "c3"),
                epub.Link("end.xhtml#after", "Afterword", "after")]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = (["cover"] if cover else []) + ["nav", *pages.values()]
    epub.write_epub(str(path), book)
    return path


CONTAINER = ('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
             '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
             "</rootfiles></container>")
EPUB2_OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="uid">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:title>Two in One</dc:title><dc:creator>A. Writer</dc:creator><dc:language>en-GB</dc:language>
  <dc:identifier id="uid">two-in-one</dc:identifier>
 </metadata>
 <manifest>
  <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
  <item id="css" href="Styles/book.css" media-type="text/css"/>
  <item id="cover" href="Text/cover.xhtml" media-type="application/xhtml+xml"/>
  <item id="story" href="Text/story%20one.xhtml" media-type="application/xhtml+xml"/>
 </manifest>
 <spine toc="ncx"><itemref idref="cover"/><itemref idref="story"/></spine>
 <guide><reference type="cover" title="Cover" href="Text/cover.xhtml"/></guide>
</package>"""
EPUB2_NCX = """<?xml version="1.0" encoding="UTF-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><navMap>
 <navPoint id="p1" playOrder="1"><navLabel><text>Chapter 1</text></navLabel>
  <content src="Text/story%20one.xhtml#c1"/></navPoint>
 <navPoint id="p2" playOrder="2"><navLabel><text>Chapter 2</text></navLabel>
  <content src="Text/story%20one.xhtml#c2"/></navPoint>
</navMap></ncx>"""
EPUB2_STORY = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Story</title>
<link rel="stylesheet" type="text/css" href="../Styles/book.css"/></head>
<body><div id="c1"><h2 class="chapter">Chapter&nbsp;1</h2>
<p class="calibre1">It rained all day&mdash;and all night.</p>
<p class="calibre1"><span class="italic">Will it ever stop?</span> Anna wondered.</p></div>
<p>Nobody came.<a id="c2"/></p>
<h2 class="chapter">Chapter 2</h2>
<p>The sun came out at last.</p></body></html>"""
EPUB2_FILES = {
    "mimetype": "application/epub+zip",
    "META-INF/container.xml": CONTAINER,
    "OEBPS/content.opf": EPUB2_OPF,
    "OEBPS/toc.ncx": EPUB2_NCX,
    "OEBPS/Styles/book.css": ".calibre1 { margin: 0 } .italic { font-style: italic }",
    "OEBPS/Text/cover.xhtml": '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>COVER</p></body></html>',
    "OEBPS/Text/story one.xhtml": EPUB2_STORY,
}
EPUB2_EXPECTED = (
    ["Chapter 1", "It rained all day—and all night.", "Will it ever stop? Anna wondered.",
     "Nobody came."],
    ["Chapter 2", "The sun came out at last."],
)


def write_zip(path: Path, files: dict[str, str | bytes]) -> Path:
    """A zip archive holding `files` (name -> content), the first stored, the rest deflated."""
    with zipfile.ZipFile(path, "w") as archive:
        for k, (name, content) in enumerate(files.items()):
            archive.writestr(name, content, zipfile.ZIP_STORED if k == 0 else zipfile.ZIP_DEFLATED)
    return path
