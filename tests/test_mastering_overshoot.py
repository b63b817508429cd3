"""The MP3 encoder's overshoot answered where it happens: a click in a real clip costs the episode no
second encode, and the limiter's ceiling drops only in the dips an overshoot asks for."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from audiodrama.casting.cast import load_cast
from audiodrama.episode import produce
from audiodrama.mixing.audio import decode
from audiodrama.mixing.loudness import Dip, dips_around, limit_stream, measure
from audiodrama.settings import Settings
from tests.conftest import CASTS

pytestmark = pytest.mark.slow
"""Every test here synthesises, encodes and decodes real speech."""

RATE = 22050
SHORT = Path(__file__).parent / "fixtures" / "short-chapter.txt"


def test_a_click_in_a_clip_leaves_the_episode_in_target_after_one_encode(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache")
    cast = load_cast(CASTS / "seeds.yaml")
    clean = produce(SHORT, cast, tmp_path / "clean", settings)
    clip = max((cue.source for cue in clean.timeline.cues if cue.source), key=lambda path: path.stat().st_size)
    data = bytearray(clip.read_bytes())
    middle = 44 + (len(data) - 44) // 4 * 2  # a full-scale click, then its opposite, mid-sentence
    data[middle: middle + 4] = np.array([32767, -32768], dtype="<i2").tobytes()
    clip.write_bytes(bytes(data))
    shutil.rmtree(tmp_path / "cache" / "mastered")

    clicked = produce(SHORT, cast, tmp_path / "clicked", settings)

    assert clicked.synthesized == 0 and clicked.encodes == 1
    heard = measure(decode(clicked.mp3, RATE), RATE)
    assert heard.integrated == pytest.approx(-16.0, abs=0.5)
    assert heard.true_peak <= -1.0


def test_dips_lower_the_ceiling_only_inside_them() -> None:
    loud = np.sin(np.arange(RATE) * 0.2).astype(np.float32) * 0.8
    dip = Dip(8000, 9000, 6.0)
    limited = np.concatenate(list(limit_stream([loud[:5000], loud[5000:]], -1.0, RATE, dips=(dip,))))
    assert np.abs(limited[8000:9000]).max() <= 10 ** (-7 / 20) * 1.01
    far = np.r_[0:7500, 9500:RATE]
    assert np.allclose(limited[far], loud[far])


def test_overshoots_close_together_make_one_dip_deep_enough_for_the_worst() -> None:
    dips = dips_around([(1000, 0.3), (1500, 0.8), (9000, 0.1)], reach=1000, safety_db=0.2)
    assert dips == (Dip(0, 2500, 1.0), Dip(8000, 10000, 0.30000000000000004))
