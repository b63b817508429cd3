"""Helpers for the series tests: the fixture series, where it builds, and the processes a batch leaves."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "series"
"""Three short chapters, a cast and a cover: `series.yaml`."""
NAMES = ("ch1", "ch2", "ch10")
"""The fixture's episode names, in series order."""
SUFFIXES = (".mp3", ".srt", ".vtt", ".script.jsonl")
"""What every built episode writes."""


def copy_series(folder: Path) -> Path:
    """The fixture series copied into `folder`; its manifest."""
    shutil.copytree(FIXTURE, folder, dirs_exist_ok=True)
    return folder / "series.yaml"


def out_of(manifest: Path) -> Path:
    """Where the fixture series builds (its manifest gives no `output`)."""
    return manifest.parent / "output" / "series"


def write_manifest(folder: Path, text: str) -> Path:
    """`folder/series.yaml` holding `text`."""
    manifest = folder / "series.yaml"
    manifest.write_text(text)
    return manifest


def live_processes(group: int) -> list[int]:
    """Processes of a process group that are not zombies."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found
