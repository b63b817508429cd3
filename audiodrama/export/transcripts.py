"""Transcripts of an episode (SRT and WebVTT), with the mix's real timings and the speakers' names."""

from __future__ import annotations

from audiodrama.export.files import EpisodeFiles
from audiodrama.files import write_text_atomic
from audiodrama.mixing.timeline import Timeline
from audiodrama.text.chapter import Kind


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
