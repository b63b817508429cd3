"""Export: the MP3 episode with its tags, and transcripts (SRT, WebVTT) with the mix's real timings."""

from __future__ import annotations

import signal
import subprocess
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

from audiodrama import __version__, runtime
from audiodrama.errors import ToolError
from audiodrama.export.files import EpisodeFiles
from audiodrama.files import atomic_path, write_text_atomic
from audiodrama.mixing.audio import decode_blocks
from audiodrama.mixing.loudness import Loudness
from audiodrama.mixing.timeline import Timeline, measure_episode
from audiodrama.text.chapter import Kind

SHIFT_EXCERPT_SECONDS = 90.0
"""Length of the start of the mix encoded to measure the encoder's loudness shift."""
ENCODE_ATTEMPTS = 3
"""Encodes at most, each correcting the last one's loudness and peaks."""
PEAK_SAFETY_DB = 0.2
"""When the encoded peaks overshoot, the limiter's ceiling drops by the overshoot and this much more."""
LOUDNESS_TOLERANCE = 0.2
"""Largest miss (LU) of the target loudness accepted on the encoded episode before re-encoding."""
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


def encode_mp3(blocks: Iterable[np.ndarray], sample_rate: int, target: Path, bitrate: str = "96k") -> None:
    """Stream float32 mono blocks into ffmpeg's MP3 encoder, writing `target` (not atomically)."""
    command = [runtime.ffmpeg().executable, "-nostdin", "-v", "error", "-y", "-f", "f32le",
               "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0", "-codec:a", "libmp3lame",
               "-b:a", bitrate, "-f", "mp3", str(target)]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE) as encoder:
        assert encoder.stdin is not None and encoder.stderr is not None
        try:
            for block in blocks:
                encoder.stdin.write(block.astype("<f4", copy=False).tobytes())
        except BrokenPipeError:
            pass  # ffmpeg died; its message is read below
        finally:
            encoder.stdin.close()
        errors = encoder.stderr.read().decode(errors="replace").strip()
    if encoder.returncode != 0:
        reason = errors.splitlines()[-1] if errors else exit_reason(encoder.returncode)
        raise ToolError(f"ffmpeg failed to encode the MP3: {reason}", path=target, hint="run `audiodrama doctor`")


def exit_reason(code: int) -> str:
    """How a process ended, from its return code: `exit status 1`, `killed by signal 25 (SIGXFSZ)`."""
    if code >= 0:
        return f"exit status {code}"
    try:
        return f"killed by signal {-code} ({signal.Signals(-code).name})"
    except ValueError:
        return f"killed by signal {-code}"


@dataclass(frozen=True)
class LoudnessTarget:
    """What the encoded episode must measure."""

    lufs: float
    """Integrated loudness, LUFS."""
    true_peak_db: float
    """Highest true peak, dBTP."""
    ceiling_db: float
    """Where the final limiter starts (below `true_peak_db` by the encoder's expected overshoot)."""


def write_episode(render_at: Callable[[float, float], Iterable[np.ndarray]], gain_db: float,
                  aim: LoudnessTarget, sample_rate: int, target: Path, bitrate: str, tags: Tags,
                  chapters: tuple[Chapter, ...] = ()) -> Loudness:
    """Encode, verify and tag an episode; `target` appears only when complete.

    `render_at(gain_db, ceiling_db)` gives the mix at a gain, true peaks limited under a ceiling;
    `gain_db` brings the mix to `aim.lufs`. The MP3 encoder shifts loudness (about -0.45 LU with LAME
    here) and overshoots peaks: the shift is measured on an excerpt and compensated, then the written
    file is decoded and measured, and encoded again (at most `ENCODE_ATTEMPTS` times in all), gain and
    ceiling corrected, while it misses the loudness by more than `LOUDNESS_TOLERANCE` or the peak limit.
    """
    ceiling = aim.ceiling_db
    with atomic_path(target) as temporary:
        gain_db += encoder_shift(render_at(gain_db, ceiling), sample_rate, temporary, bitrate)
        for _ in range(ENCODE_ATTEMPTS):
            encode_mp3(render_at(gain_db, ceiling), sample_rate, temporary, bitrate)
            measured = measure_episode(decode_blocks(temporary, sample_rate), sample_rate, true_peaks=True)
            error = aim.lufs - measured.integrated if np.isfinite(measured.integrated) else 0.0
            overshoot = measured.true_peak - aim.true_peak_db
            if abs(error) <= LOUDNESS_TOLERANCE and overshoot <= 0:
                break
            gain_db += error
            ceiling -= max(0.0, overshoot + PEAK_SAFETY_DB)
        write_tags(temporary, tags, chapters)
    return measured


def encoder_shift(blocks: Iterable[np.ndarray], sample_rate: int, scratch: Path, bitrate: str,
                  seconds: float = SHIFT_EXCERPT_SECONDS) -> float:
    """How many dB the encoder takes off the loudness, measured by encoding the start of the mix."""
    excerpt = []
    frames = 0
    for block in blocks:
        excerpt.append(block)
        frames += len(block)
        if frames >= seconds * sample_rate:
            break
    encode_mp3(excerpt, sample_rate, scratch, bitrate)
    before = measure_episode(excerpt, sample_rate).integrated
    after = measure_episode(decode_blocks(scratch, sample_rate), sample_rate).integrated
    return before - after if np.isfinite(before) and np.isfinite(after) else 0.0


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


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def transcript(timeline: Timeline, vtt: bool) -> str:
    """The timeline as SRT (`vtt=False`) or WebVTT, one cue per line with the speaker's name."""
    separator = "." if vtt else ","
    parts = ["WEBVTT\n"] if vtt else []
    spoken = [cue for cue in timeline.cues if cue.segment.kind != Kind.MUSIC]
    for number, cue in enumerate(spoken, 1):
        start = _timestamp(cue.start / timeline.sample_rate, separator)
        end = _timestamp(cue.end / timeline.sample_rate, separator)
        speaker = cue.segment.voiced_by or "Narrator"
        text = f"<v {speaker}>{cue.segment.text}" if vtt else f"{speaker}: {cue.segment.text}"
        header = "" if vtt else f"{number}\n"
        parts.append(f"{header}{start} --> {end}\n{text}\n")
    return "\n".join(parts)


def write_transcripts(timeline: Timeline, files: EpisodeFiles) -> None:
    """Write the episode's SRT and WebVTT transcripts."""
    write_text_atomic(files.srt, transcript(timeline, vtt=False))
    write_text_atomic(files.vtt, transcript(timeline, vtt=True))
