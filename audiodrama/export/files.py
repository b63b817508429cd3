"""The files an episode is written as, in one place: `produce`, the transcripts and the series all
name them from here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SCRIPT_SUFFIX = ".script"
"""Marks a script file: `<name>.script.jsonl` beside the episode, `<name>.script.yaml` edited."""


@dataclass(frozen=True)
class EpisodeFiles:
    """Where one episode's files go: `<out_dir>/<name>.mp3` with its script and transcripts beside it."""

    mp3: Path
    """The episode."""
    script: Path
    """The script it was rendered from (`.script.jsonl`; editable, and accepted back by `produce`)."""
    srt: Path
    """The SRT transcript."""
    vtt: Path
    """The WebVTT transcript."""

    @classmethod
    def of(cls, out_dir: Path, name: str) -> EpisodeFiles:
        """The files of the episode `name` in `out_dir`."""
        return cls(out_dir / f"{name}.mp3", out_dir / f"{name}{SCRIPT_SUFFIX}.jsonl", out_dir / f"{name}.srt",
                   out_dir / f"{name}.vtt")

    @property
    def transcripts(self) -> tuple[Path, Path]:
        """SRT and WebVTT."""
        return self.srt, self.vtt

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file the episode writes."""
        return self.mp3, self.script, self.srt, self.vtt
