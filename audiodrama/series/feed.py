"""The podcast feed: RSS 2.0 with the iTunes namespace, written whole or not at all, over a series'
built episodes, with its cover published beside it."""

from __future__ import annotations

import hashlib
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

from audiodrama import __version__
from audiodrama.export.files import EpisodeFiles
from audiodrama.files import atomic_path
from audiodrama.series.manifest import EpisodeSpec, Series
from audiodrama.series.state import State

FEED = "feed.xml"
"""The feed's file name in the output folder."""
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
"""The iTunes podcast namespace."""


@dataclass(frozen=True)
class Channel:
    """The podcast as a whole."""

    title: str
    """Series title."""
    link: str
    """Web address of the series (its base URL)."""
    description: str
    """What the series is about."""
    language: str
    """Language code, e.g. `en` or `en-us`."""
    author: str = ""
    """Author of the work."""
    explicit: bool = False
    """Whether the series carries explicit content."""
    image: str | None = None
    """URL of the cover image."""


@dataclass(frozen=True)
class Item:
    """One episode of the feed."""

    title: str
    """Episode title."""
    url: str
    """URL of the MP3."""
    length: int
    """Size of the MP3 in bytes."""
    seconds: float
    """Duration."""
    published: datetime
    """Publication time (timezone-aware)."""
    guid: str
    """Identifier that stays the same across rebuilds."""
    number: int
    """Episode number within the series."""


def duration(seconds: float) -> str:
    """`HH:MM:SS`, as `itunes:duration` takes it."""
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element


def feed_tree(channel: Channel, items: Sequence[Item]) -> ET.ElementTree:
    """The feed document; items stay in the order given, and `itunes:type serial` tells players to keep it."""
    ET.register_namespace("itunes", ITUNES)
    itunes = f"{{{ITUNES}}}"
    rss = ET.Element("rss", {"version": "2.0"})
    head = _add(rss, "channel")
    for tag, text in (("title", channel.title), ("link", channel.link), ("description", channel.description),
                      ("language", channel.language), ("generator", f"audiodrama {__version__}")):
        _add(head, tag, text)
    if channel.author:
        _add(head, f"{itunes}author", channel.author)
    _add(head, f"{itunes}summary", channel.description)
    _add(head, f"{itunes}explicit", "true" if channel.explicit else "false")
    _add(head, f"{itunes}type", "serial")
    if channel.image:
        _add(head, f"{itunes}image", href=channel.image)
        image = _add(head, "image")
        for tag, text in (("url", channel.image), ("title", channel.title), ("link", channel.link)):
            _add(image, tag, text)
    for item in items:
        entry = _add(head, "item")
        _add(entry, "title", item.title)
        _add(entry, "enclosure", url=item.url, length=str(item.length), type="audio/mpeg")
        _add(entry, "guid", item.guid, isPermaLink="false")
        _add(entry, "pubDate", format_datetime(item.published))
        _add(entry, f"{itunes}title", item.title)
        _add(entry, f"{itunes}duration", duration(item.seconds))
        _add(entry, f"{itunes}episode", str(item.number))
        _add(entry, f"{itunes}episodeType", "full")
    ET.indent(rss)
    return ET.ElementTree(rss)


def write_feed(target: Path, channel: Channel, items: Sequence[Item]) -> None:
    """Write the feed as UTF-8 XML, atomically."""
    with atomic_path(target) as temporary:
        feed_tree(channel, items).write(temporary, encoding="utf-8", xml_declaration=True)


def publish_cover(series: Series) -> str | None:
    """Copy the cover image into the output folder (atomically); its file name."""
    if series.image is None:
        return None
    target = series.output / f"cover{series.image.suffix.lower()}"
    if not target.exists() or target.read_bytes() != series.image.read_bytes():
        with atomic_path(target) as temporary:
            shutil.copyfile(series.image, temporary)
    return target.name


def guid(series: Series, spec: EpisodeSpec) -> str:
    """A feed identifier stable across rebuilds: the series title and the chapter's file name."""
    return "audiodrama-" + hashlib.sha256(f"{series.title}\n{spec.file.name}".encode()).hexdigest()[:32]


def write_series_feed(series: Series, state: State, cover: str | None) -> Path | None:
    """`feed.xml` over every built episode, in series order; None without a base URL."""
    if not series.base_url:
        return None
    base = series.base_url.rstrip("/") + "/"
    items = []
    for spec in series.episodes:
        record = state.episodes.get(spec.name)
        mp3 = EpisodeFiles.of(series.output, spec.name).mp3
        if record and mp3.exists():
            items.append(Item(record.title, base + quote(mp3.name), mp3.stat().st_size, record.seconds,
                              datetime.fromisoformat(record.published), guid(series, spec), spec.number))
    channel = Channel(series.title, base, series.description or series.title, series.language, series.author,
                      series.explicit, base + quote(cover) if cover else None)
    target = series.output / FEED
    write_feed(target, channel, items)
    return target
