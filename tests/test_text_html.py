"""Saved web pages: only the story is extracted (paragraphs, scene breaks, entities, italics), never the
site around it; author's notes are left out unless asked for; a page without a story is refused.

The pages are shaped like FanFiction.net, Archive of Our Own, Royal Road and Wattpad chapter pages
(written here, not copied), plus a blog of no known site."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiodrama.attribution import attribute
from audiodrama.errors import InputError
from audiodrama.text.chapter import Kind
from audiodrama.text.html import chapter_to_html, read_html
from audiodrama.text.reader import detect_format, read_chapter
from tests.conftest import run_cli

FFN = """<!DOCTYPE html>
<html><head><title>The Leaf's Exile Chapter 1: Valley, a naruto fanfic | FanFiction</title>
<script>var storyid = 1234; document.write("Are you ready?");</script>
<style>.xcontrast_txt { color: black }</style></head>
<body>
<div id="top"><a href="/">FanFiction</a> | <a href="/login">Login</a></div>
<div id="profile_top"><b class="xcontrast_txt">The Leaf's Exile</b> By: Seed Author
<div class="xcontrast_txt">Naruto and Sasuke after the valley.</div></div>
<select id="chap_select"><option value="1" selected>1. Valley</option><option value="2">2. Hospital</option></select>
<div role="main" id="storytextp" class="storytextp"><div class="storytext xcontrast_txt nocopy" id="storytext">
<p>Disclaimer: I don't own Naruto.</p>
<p><strong>A/N:</strong> Thanks for all the reviews! This one is longer.</p>
<p>Standing on top of the river were two boys.</p>
<p>&quot;Are you ready, Sasuke?&quot; asked Naruto.</p>
<p>&#8220;I&#8217;ve been ready,&rdquo; replied Sasuke.</p>
<p><em>Idiot,</em> Sasuke thought. <em>He never listens.</em></p>
<p style="text-align:center;">* * *</p>
<p>Later, in the hospital, Sakura waited.</p>
<hr size="1" noshade>
<p>Naruto woke up.</p>
<p style="text-align: center;"><strong>xXx</strong></p>
<p>The end, for now.</p>
<p>AN: Please review!</p>
</div></div>
<div id="review"><form><textarea>Type your review</textarea><button>Post Review</button></form></div>
<div class="lc-wrapper"><div class="share-buttons"><a>Share on Twitter</a></div></div>
<div id="footer">Copyright FanFiction.net. Privacy policy.</div>
</body></html>"""
FFN_STORY = [
    "Standing on top of the river were two boys.",
    '"Are you ready, Sasuke?" asked Naruto.',
    "“I’ve been ready,” replied Sasuke.",
    "Idiot, Sasuke thought. He never listens.",
    "* * *",
    "Later, in the hospital, Sakura waited.",
    "* * *",
    "Naruto woke up.",
    "xXx",
    "The end, for now.",
]

AO3 = """<!DOCTYPE html><html><head><title>Chapter 2 - The Hospital - Archive of Our Own</title></head>
<body><div id="outer"><ul id="skiplinks"><li><a href="#main">Main Content</a></li></ul>
<header id="header" class="region"><h1 class="heading">Archive of Our Own</h1>
<nav><ul class="primary navigation actions"><li>Fandoms</li><li>Browse</li></ul></nav></header>
<div id="main" class="works-show region" role="main">
<ul class="work navigation actions"><li class="chapter">Next Chapter</li><li>Comments (12)</li></ul>
<div class="wrapper"><dl class="work meta group"><dt>Rating:</dt><dd>Teen</dd><dt>Words:</dt><dd>1,204</dd></dl></div>
<div id="workskin"><div class="preface group"><h2 class="title heading">The Leaf's Exile</h2>
<h3 class="byline heading">Seed Author</h3></div>
<div id="chapters" role="article"><div class="chapter" id="chapter-2">
<div class="chapter preface group" role="complementary">
<h3 class="title"><a href="/works/1/chapters/2">Chapter 2</a>: The Hospital</h3>
<div id="summary" class="summary module"><h3 class="heading">Summary:</h3>
<blockquote class="userstuff"><p>Sakura waits.</p></blockquote></div>
<div id="notes" class="notes module"><h3 class="heading">Notes:</h3>
<blockquote class="userstuff"><p>Sorry this took so long!</p></blockquote>
<p class="jump">(See the end of the chapter for <a href="#chapter_2_endnotes">more notes</a>.)</p></div></div>
<div class="userstuff module" role="article"><h3 class="landmark heading" id="work">Chapter Text</h3>
<p>Sakura sat by the bed.</p><p>&#8220;Wake up,&#8221; she whispered.</p>
<p><i>Please, Naruto.</i></p><p>&#xa0;</p><p>Nobody answered.</p></div>
<div class="chapter preface group" id="chapter_2_endnotes"><div class="end notes module" role="complementary">
<h3 class="heading">Notes:</h3><blockquote class="userstuff"><p>Next chapter soon. Kudos keep me going!</p>
</blockquote></div></div></div></div></div>
<div id="feedback" class="feedback"><h3 class="landmark heading">Actions</h3><ul class="actions">
<li><button id="kudo_submit">Kudos ♥</button></li></ul><div id="comments_placeholder">
<p>Comments are loading.</p></div></div></div>
<div id="footer" role="contentinfo" class="region"><p>Archive of Our Own, a project of the OTW</p></div>
</div></body></html>"""
AO3_STORY = ["Chapter 2: The Hospital", "Sakura sat by the bed.", "“Wake up,” she whispered.", "Please, Naruto.",
             "Nobody answered."]
AO3_NOTES = ["Chapter 2: The Hospital", "Notes:", "Sorry this took so long!", "Sakura sat by the bed.",
             "“Wake up,” she whispered.", "Please, Naruto.", "Nobody answered.", "Notes:",
             "Next chapter soon. Kudos keep me going!"]

ROYAL_ROAD = """<!DOCTYPE html><html><head><title>Chapter 3 - Ascent | Royal Road</title>
<style>
  .cjZmNDU5ZDRiNmE2NGU { display: none; speak: never; }
  .chapter-content p { margin-bottom: 1em }
</style></head>
<body class="chapter-page">
<nav class="navbar"><a href="/home">Royal Road</a><a href="/fictions/best-rated">Best Rated</a></nav>
<div class="fic-header"><h1 class="font-white break-word">Chapter 3 - Ascent</h1>
<h2 class="font-white"><a href="/fiction/1">Tower of Ash</a></h2></div>
<div class="portlet solid author-note-portlet"><div class="portlet-title"><div class="caption">A note from Ash</div>
</div><div class="portlet-body author-note"><p>Thanks to my patrons!</p></div></div>
<div class="chapter-inner chapter-content">
<p>The tower rose into the clouds.</p>
<p class="cjZmNDU5ZDRiNmE2NGU">Stolen from Royal Road: report it if you see it on Amazon.</p>
<p>Mira climbed the first stair. <span style="font-style: italic">One thousand to go,</span> she thought.</p>
<p>&lt;System&gt; Level up!</p>
</div>
<div class="portlet solid author-note-portlet"><div class="portlet-body author-note">
<p>Next chapter Friday.</p></div></div>
<div class="comments-container"><h3>Comments (40)</h3><div class="comment"><p>First!</p></div></div>
</body></html>"""
ROYAL_ROAD_STORY = ["The tower rose into the clouds.",
                    "Mira climbed the first stair. One thousand to go, she thought.", "<System> Level up!"]

WATTPAD = """<!DOCTYPE html><html><head><title>The Leaf's Exile - Chapter One - Wattpad</title></head>
<body><div id="app-container"><header class="nav-header"><a>Browse</a><a>Community</a></header>
<main><div class="part-content"><header class="panel panel-reading text-center">
<h1 class="h2">Chapter One</h1><div class="story-stats"><span class="reads">1.2K reads</span></div></header>
<div class="page highlighter first-page" data-page-number="1"><div class="col-xs-10 col-xs-offset-1">
<pre><p data-p-id="a1">Naruto looked at the sky.<span class="comment-marker">
<span class="num-comment">3</span></span></p>
<p data-p-id="a2">&quot;Rain again,&quot; he said.<span class="comment-marker">
<span class="num-comment">12</span></span></p>
</pre></div></div>
<div class="page highlighter" data-page-number="2"><div class="col-xs-10 col-xs-offset-1">
<pre><p data-p-id="b1"><i>Why always me?</i></p></pre></div></div>
<div class="part-footer"><button class="btn-vote">Vote</button><div class="story-comments">
<p>Add a comment</p></div></div></div></main></div></body></html>"""
WATTPAD_STORY = ["Chapter One", "Naruto looked at the sky.", '"Rain again," he said.', "Why always me?"]

BLOG = """<html><head><title>My writing blog: Homecoming</title></head>
<body class="post-template sidebar-left">
<header class="site-header"><h1>Jo's Writing Corner</h1><nav><a>Home</a> <a>About</a> <a>Stories</a></nav></header>
<aside class="sidebar"><h3>Popular posts</h3><p>Ten tips for writing dialogue that sings on the page.</p></aside>
<article class="post"><h2>Homecoming</h2>
<p>The train pulled into the station two hours late, and nobody was waiting on the platform.</p>
<p><em>Typical,</em> Ellen thought, and picked up her suitcase with a sigh that nobody heard.</p>
<p>She walked the long way home, past the bakery and the shuttered cinema of her childhood.</p></article>
<section class="comments"><h3>3 comments</h3><p>Lovely story! I felt like I was right there with her.</p></section>
<footer><p>Powered by a blog engine. Theme by someone.</p></footer></body></html>"""
BLOG_STORY = ["Homecoming",
              "The train pulled into the station two hours late, and nobody was waiting on the platform.",
              "Typical, Ellen thought, and picked up her suitcase with a sigh that nobody heard.",
              "She walked the long way home, past the bakery and the shuttered cinema of her childhood."]


def paragraphs(chapter) -> list[str]:
    return [chapter.text[p.start : p.end] for p in chapter.paragraphs]


def italics(chapter) -> list[str]:
    return [chapter.text[a:b] for a, b in chapter.emphasis]


@pytest.mark.parametrize(
    ("page", "story"),
    [(FFN, FFN_STORY), (AO3, AO3_STORY), (ROYAL_ROAD, ROYAL_ROAD_STORY), (WATTPAD, WATTPAD_STORY),
     (BLOG, BLOG_STORY)],
    ids=["fanfiction.net", "ao3", "royal-road", "wattpad", "blog"],
)
def test_only_the_story_is_extracted(page: str, story: list[str]) -> None:
    chapter = read_html(page, "chapter.html")
    assert paragraphs(chapter) == story
    assert chapter.format == "html"
    assert chapter.text == "\n\n".join(story) + "\n"


def test_scene_breaks_and_entities_of_a_fanfiction_net_page() -> None:
    chapter = read_html(FFN)
    kinds = [p.kind for p in chapter.paragraphs]
    assert kinds.count(Kind.SCENE_BREAK) == 3
    assert [p.scene for p in chapter.paragraphs] == [0, 0, 0, 0, 1, 1, 2, 2, 3, 3]
    assert italics(chapter) == ["Idiot,", "He never listens."]
    assert "&" not in chapter.text and "storyid" not in chapter.text and "review" not in chapter.text.lower()


def test_a_line_all_in_italics_is_never_a_heading() -> None:
    chapter = read_html(AO3)
    assert [chapter.text[p.start : p.end] for p in chapter.paragraphs if p.kind == Kind.HEADING] == [AO3_STORY[0]]
    assert italics(chapter) == ["Please, Naruto."]


def test_italics_from_tags_inline_styles_and_style_sheet_classes() -> None:
    assert italics(read_html(ROYAL_ROAD)) == ["One thousand to go,"]
    page = ("<html><head><style>.thought, p.x { font-style: italic } .loud { font-weight: bold }</style></head><body>"
            '<p><span class="thought">So cold.</span> <b>RUN!</b> <span class="loud">NOW!</span></p>'
            "<p><em>Why</em> <i>me</i>, <em>again?</em></p></body></html>")
    chapter = read_html(page)
    assert italics(chapter) == ["So cold.", "Why me", "again?"]


@pytest.mark.parametrize(("page", "story"), [(AO3, AO3_NOTES), (FFN, None), (ROYAL_ROAD, None)])
def test_authors_notes_are_kept_when_asked_for(page: str, story: list[str] | None) -> None:
    chapter = read_html(page, notes=True)
    if story is not None:
        assert paragraphs(chapter) == story
    text = chapter.text
    if page is FFN:
        assert paragraphs(chapter)[:2] == ["Disclaimer: I don't own Naruto.",
                                            "A/N: Thanks for all the reviews! This one is longer."]
        assert paragraphs(chapter)[-1] == "AN: Please review!"
    if page is ROYAL_ROAD:
        assert paragraphs(chapter)[0] == "A note from Ash"
        assert text.index("Thanks to my patrons!") < text.index("The tower") < text.index("Next chapter Friday.")


def test_a_page_without_a_story_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text("<html><body><nav><a>Home</a></nav><div class='sidebar'><a>Login</a></div>"
                    "<footer>Copyright</footer></body></html>", encoding="utf-8")
    with pytest.raises(InputError, match="no story text found in this page"):
        read_chapter(page)
    out = tmp_path / "out.yaml"
    result = run_cli("script", page, "-o", out)
    assert result.returncode == 2
    assert result.stderr.startswith(f"audiodrama: error: {page}: no story text found in this page (save the")
    assert result.stderr.count("\n") == 1 and not out.exists()


def test_pages_are_told_by_content_as_well_as_by_name(tmp_path: Path) -> None:
    assert detect_format("saved.txt", b"\xef\xbb\xbf\n  <!DOCTYPE html><html>") == "html"
    assert detect_format("saved", b"<?xml version='1.0'?>\n<html xmlns='http://www.w3.org/1999/xhtml'>") == "html"
    assert detect_format("chapter.HTM", b"<p>Hello</p>") == "html"
    assert detect_format("chapter.md", b"# One\n\nHello") == "markdown"
    assert detect_format("chapter.txt", b"<p> is how HTML starts a paragraph") == "text"
    saved = tmp_path / "chapter-1"
    saved.write_text(FFN, encoding="cp1252", errors="replace")
    chapter = read_chapter(saved)
    assert (chapter.format, chapter.encoding) == ("html", "utf-8")
    assert paragraphs(chapter) == FFN_STORY


def test_a_written_back_chapter_reads_the_same(tmp_path: Path) -> None:
    chapter = read_html(FFN)
    page = tmp_path / "chapter.html"
    page.write_text(chapter_to_html(chapter, "Valley & <River>"), encoding="utf-8")
    again = read_chapter(page)
    assert (again.text, again.emphasis) == (chapter.text, chapter.emphasis)
    assert [(p.kind, p.scene) for p in again.paragraphs] == [(p.kind, p.scene) for p in chapter.paragraphs]


def test_a_saved_page_gives_a_script_of_the_story_with_italic_thoughts(tmp_path: Path) -> None:
    page = tmp_path / "chapter-1.html"
    page.write_text(FFN, encoding="utf-8")
    result = run_cli("script", page, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert (lines[0]["source"], lines[0]["format"]) == (str(page), "html")
    assert all("source" not in line for line in lines[1:])
    text = read_chapter(page).text
    covered = "".join(text[s["start"] : s["end"]] for s in lines)
    assert "".join(covered.split()) == "".join(text.split())  # the segments tile the story, nothing else
    thoughts = [(s["speaker"], s["text"]) for s in lines if s["kind"] == "thought"]
    assert thoughts == [("Sasuke", "Idiot,"), ("Sasuke", "He never listens.")]
    assert not any(s["text"] == "Are you ready?" or "storyid" in s["text"] for s in lines)


PIECES = ["<p>", "</p>", "<i>", "</i>", "<em>", "<b>", "<br>", "<hr>", "<div class='notes'>", "<div>", "</div>",
          "<script>", "</script>", "<!-- c -->", "&quot;", "&#8220;", "&amp;", "\"", "* * *", "xXx", "A/N: hi",
          "Naruto said", " ", "\n", "Why me?", ".", ",", "<h2>", "</h2>", "<nav>", "<style>.a{display:none}</style>",
          "<span class='a'>", "<p style='font-style:italic'>", "<sup><a href='#n'>1</a></sup>", "<table><tr><td>"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.booleans())
def test_any_markup_gives_a_story_whose_script_tiles_it_or_one_clear_error(pieces: list[str], notes: bool) -> None:
    try:
        chapter = read_html("".join(pieces), "page.html", notes=notes)
    except InputError as error:
        assert str(error).startswith("page.html: no story text found")
        return
    script = attribute(chapter)
    covered = "".join(chapter.text[s.start : s.end] for s in script.segments)
    assert "".join(covered.split()) == "".join(chapter.text.split())
    assert all(chapter.text[a:b].strip() == chapter.text[a:b] and a < b for a, b in chapter.emphasis)
