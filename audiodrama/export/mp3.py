"""Export: the MP3 episode, encoded to its loudness target, with its ID3 tags and chapter marks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mutagen import MutagenError
from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TDRC,
    TIT2,
    TPE1,
    TRCK,
    TSSE,
    TXXX,
    CTOCFlags,
)

from audiodrama import __version__
from audiodrama.files import atomic_path
from audiodrama.mixing.loudness import Dip
from audiodrama.mixing.mastering import Encoded, LoudnessTarget, encode_to_target
from audiodrama.mixing.timeline import Timeline
from audiodrama.text.chapter import Kind

BUILD_TAG = "audiodrama build"
"""Description of the TXXX frame holding the build fingerprint."""


@dataclass(frozen=True)
class Tags:
    """ID3 metadata written into the episode."""

    title: str
    """Episode title."""
    album: str = ""
    """Series or book title."""
    artist: str = ""
    """Author of the work."""
    track: int | None = None
    """Episode number within the series."""
    comment: str = ""
    """Free text, e.g. the source."""
    year: str = ""
    """Year of publication."""
    cover: Path | None = None
    """Cover image (JPEG or PNG)."""
    build: str = ""
    """Fingerprint of everything the episode was made from; a re-run with the same one skips the work."""


@dataclass(frozen=True)
class Chapter:
    """A chapter mark inside the episode (one per scene)."""

    title: str
    """What players show for it."""
    start_ms: int
    """Where it starts."""
    end_ms: int
    """Where it ends."""


def scene_chapters(timeline: Timeline) -> tuple[Chapter, ...]:
    """One chapter per scene, starting at its first line (the first at 0), titled by its heading."""
    starts: list[tuple[int, str]] = []
    scene = None
    for cue in timeline.cues:
        if cue.segment.scene != scene:
            scene = cue.segment.scene
            title = cue.segment.text if cue.segment.kind in (Kind.HEADING, Kind.MUSIC) else f"Scene {len(starts) + 1}"
            starts.append((0 if not starts else round(cue.start * 1000 / timeline.sample_rate), title))
    total = round(timeline.seconds * 1000)
    ends = [start for start, _ in starts[1:]] + [total]
    return tuple(Chapter(title, start, end) for (start, title), end in zip(starts, ends, strict=True))


def write_episode(render_at: Callable[[float, float, tuple[Dip, ...]], Iterable[np.ndarray]], gain_db: float,
                  aim: LoudnessTarget, sample_rate: int, target: Path, bitrate: str, tags: Tags,
                  chapters: tuple[Chapter, ...] = ()) -> Encoded:
    """Encode the episode to meet `aim` (see `mastering.encode_to_target`) and tag it; `target` appears
    only when complete."""
    with atomic_path(target) as temporary:
        encoded = encode_to_target(render_at, gain_db, aim, sample_rate, temporary, bitrate)
        write_tags(temporary, tags, chapters)
    return encoded


def write_tags(mp3: Path, tags: Tags, chapters: tuple[Chapter, ...] = ()) -> None:
    """Write ID3v2 tags, cover art and chapter frames (CHAP/CTOC) into an MP3 file."""
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    if tags.album:
        id3.add(TALB(encoding=3, text=tags.album))
    if tags.artist:
        id3.add(TPE1(encoding=3, text=tags.artist))
    if tags.track is not None:
        id3.add(TRCK(encoding=3, text=str(tags.track)))
    if tags.comment:
        id3.add(COMM(encoding=3, lang="eng", desc="", text=tags.comment))
    if tags.year:
        id3.add(TDRC(encoding=3, text=tags.year))
    if tags.cover:
        mime = "image/png" if tags.cover.suffix.lower() == ".png" else "image/jpeg"
        id3.add(APIC(encoding=3, mime=mime, type=3, desc="Cover", data=tags.cover.read_bytes()))
    id3.add(TSSE(encoding=3, text=f"audiodrama {__version__}"))
    if tags.build:
        id3.add(TXXX(encoding=3, desc=BUILD_TAG, text=tags.build))
    if chapters:
        ids = [f"chp{index}" for index in range(len(chapters))]
        id3.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids,
                     sub_frames=[TIT2(encoding=3, text=tags.title)]))
        for element_id, chapter in zip(ids, chapters, strict=True):
            id3.add(CHAP(element_id=element_id, start_time=chapter.start_ms, end_time=chapter.end_ms,
                         sub_frames=[TIT2(encoding=3, text=chapter.title)]))
    id3.save(mp3)


def read_build(mp3: Path) -> str | None:
    """The build fingerprint stored in an episode, or None (no file, no tag, unreadable)."""
    try:
        frames = ID3(mp3).getall(f"TXXX:{BUILD_TAG}")
    except MutagenError:
        return None
    return str(frames[0]) if frames else None
