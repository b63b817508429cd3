"""Shared fixtures: paths to samples, the shared corpus when present, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
CASTS = REPO / "casts"
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True, scope="session")
def _private_clip_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never touch the user's clip cache."""
    os.environ.setdefault("AUDIODRAMA_CACHE", str(tmp_path_factory.mktemp("clip-cache")))


def run_cli(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run `python -m audiodrama ARGS` as a user would, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "audiodrama", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, cwd=cwd,
        env={**os.environ, **(env or {})}, check=False,
    )


def shared_or_skip(*parts: str) -> Path:
    """A path under ../shared, or skip the test when the shared corpus is not beside the repo."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present (the shared corpus is only beside the repository)")
    return path
