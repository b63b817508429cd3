"""The output folder's lock: a second batch is refused, a dead one's lock is taken over."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from audiodrama.series.state import LOCK_FILE, SeriesBusy, series_lock
from tests.conftest import run_cli
from tests.series_helpers import copy_series, out_of


def test_lock_refuses_a_second_batch(tmp_path: Path) -> None:
    manifest = copy_series(tmp_path)
    out = out_of(manifest)
    out.mkdir(parents=True)
    with open(out / LOCK_FILE, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("pid 4242 on testhost")
        held.flush()
        result = run_cli("batch", manifest)
        with pytest.raises(SeriesBusy, match="another batch is building this series"), series_lock(out):
            pass
    assert result.returncode == 2
    assert "another batch is building this series (pid 4242 on testhost)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_lock_left_by_a_dead_batch_is_taken_over(tmp_path: Path) -> None:
    (tmp_path / LOCK_FILE).write_text("pid 999999 on testhost, since 2020-01-01T00:00:00+00:00\n")
    with series_lock(tmp_path):
        assert (tmp_path / LOCK_FILE).read_text().startswith(f"pid {os.getpid()} ")
