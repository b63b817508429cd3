"""Helpers for the series tests: the fixture series and where it builds."""

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
