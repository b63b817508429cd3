"""Ambient beds as seamless loops: generated here from seeded noise, filters and sparse events (no
download), or made from the user's own recordings.

Every generated bed is built in the frequency domain and with events placed modulo its length, so it
is periodic by construction and loops without a seam; user files are made loopable by cross-fading
their tail into their head.
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from audiodrama.errors import InputError, ToolError
from audiodrama.files import atomic_path
from audiodrama.mixing.audio import decode

GENERATED = ("rain", "wind", "forest", "water", "fire", "room", "crowd")
"""Beds the product makes itself."""
TRIM_DB = {"room": -6.0}
"""Generated beds that sit below the bed level (room tone is meant to be barely there)."""


# --- generated beds -------------------------------------------------------------------------------------

Shape = Callable[[np.ndarray], np.ndarray]


def _band(low: float, high: float, order: int = 2) -> Shape:
    """Magnitude of a Butterworth-like band-pass."""
    def shape(f: np.ndarray) -> np.ndarray:
        f = np.maximum(f, 1e-3)
        return 1 / np.sqrt((1 + (low / f) ** (2 * order)) * (1 + (f / high) ** (2 * order)))
    return shape


def _tilted(shape: Shape, db_per_octave: float) -> Shape:
    """`shape` with a spectral slope (-3 dB/octave turns white noise pink)."""
    return lambda f: shape(f) * (np.maximum(f, 1e-3) / 1000) ** (db_per_octave / 6.02)


def _resonance(centre: float, q: float) -> Shape:
    """Magnitude of a second-order resonance at `centre` Hz."""
    def shape(f: np.ndarray) -> np.ndarray:
        f = np.maximum(f, 1e-3)
        return 1 / np.sqrt(1 + q * q * (f / centre - centre / f) ** 2)
    return shape


def _unit(x: np.ndarray) -> np.ndarray:
    """`x` scaled to an RMS of 1."""
    rms = np.sqrt(np.mean(np.square(x)))
    return x / rms if rms > 0 else x


class _Loop:
    """Builds one periodic signal of `n` samples: every filter is circular, every event wraps."""

    def __init__(self, name: str, n: int, sample_rate: int) -> None:
        self.rng = np.random.default_rng(zlib.crc32(name.encode()))
        self.n, self.rate = n, sample_rate
        self.freqs = np.fft.rfftfreq(n, 1 / sample_rate)

    def noise(self, shape: Shape) -> np.ndarray:
        """Gaussian noise with the given magnitude spectrum, unit RMS."""
        spectrum = self.rng.standard_normal(len(self.freqs)) + 1j * self.rng.standard_normal(len(self.freqs))
        spectrum[0] = 0
        return _unit(np.fft.irfft(spectrum * shape(self.freqs), self.n))

    def filter(self, x: np.ndarray, shape: Shape) -> np.ndarray:
        """`x` through a zero-phase filter of magnitude `shape`, unit RMS."""
        return _unit(np.fft.irfft(np.fft.rfft(x) * shape(self.freqs), self.n))

    def swell(self, hz: float, depth_db: float) -> np.ndarray:
        """A slowly wandering gain around 1, changing at about `hz`, spread over +-`depth_db`."""
        return 10 ** (depth_db * self.noise(lambda f: np.exp(-((f / hz) ** 2))) / 20)

    def times(self, per_second: float) -> np.ndarray:
        """Random event positions (samples), `per_second` on average."""
        return np.sort(self.rng.integers(0, self.n, self.rng.poisson(per_second * self.n / self.rate)))

    def add(self, out: np.ndarray, at: int, event: np.ndarray) -> None:
        """Add `event` into `out` starting at sample `at`, wrapping around the loop."""
        idx = (at + np.arange(len(event))) % self.n
        out[idx] += event

    def impulses(self, per_second: float, sigma: float) -> np.ndarray:
        """Sparse impulses with log-normal amplitudes."""
        out = np.zeros(self.n)
        at = self.times(per_second)
        np.add.at(out, at, self.rng.lognormal(0, sigma, len(at)))
        return out

    def decaying(self, x: np.ndarray, ms: float) -> np.ndarray:
        """`x` convolved (circularly) with an exponential decay of time constant `ms`."""
        kernel = np.zeros(self.n)
        length = min(self.n, round(ms * 6 * self.rate / 1000))
        kernel[:length] = np.exp(-np.arange(length) / (ms * self.rate / 1000))
        return np.fft.irfft(np.fft.rfft(x) * np.fft.rfft(kernel), self.n)

    def tone(self, hz: np.ndarray, envelope: np.ndarray) -> np.ndarray:
        """A sine following the frequency track `hz` (kept under Nyquist), shaped by `envelope`."""
        hz = np.minimum(hz, 0.45 * self.rate)
        return np.sin(2 * np.pi * np.cumsum(hz) / self.rate) * envelope

    def seconds(self, s: float) -> np.ndarray:
        """Time axis, in seconds, of an event lasting `s` seconds."""
        return np.arange(max(1, round(s * self.rate))) / self.rate


def _rain(g: _Loop) -> np.ndarray:
    hiss = g.noise(_tilted(_band(500, 9000), -1.5))
    patter = g.filter(g.decaying(g.impulses(500, 0.5), 1.5) * g.noise(_band(20, 20000)), _band(1500, 12000))
    rumble = g.noise(_band(80, 500))
    plinks = np.zeros(g.n)
    for at in g.times(4):
        t = g.seconds(g.rng.uniform(0.02, 0.05))
        f0 = g.rng.uniform(1500, 4000)
        g.add(plinks, at, g.tone(f0 * (1 + 0.6 * t / t[-1]), np.exp(-t / (t[-1] / 4))) * g.rng.lognormal(0, 0.5))
    return (hiss + 0.7 * patter + 0.3 * rumble + 0.3 * _unit(plinks)) * g.swell(0.08, 2)


def _wind(g: _Loop) -> np.ndarray:
    roar = g.noise(_tilted(_band(40, 600), -3)) * g.swell(0.07, 7)
    whistles = sum(g.noise(_resonance(centre, 6)) * g.swell(0.12, 10) for centre in (320, 520, 850))
    return roar + 0.35 * _unit(whistles)


def _birds(g: _Loop) -> np.ndarray:
    """Three kinds of call: gliding whistles, fast chirp trills, two-note calls."""
    out = np.zeros(g.n)
    for at in g.times(0.25):  # whistles
        t = g.seconds(g.rng.uniform(0.15, 0.4))
        f0 = g.rng.uniform(2500, 4000)
        glide = f0 * (1 + g.rng.uniform(-0.3, 0.3) * t / t[-1]) * (1 + 0.03 * np.sin(2 * np.pi * 25 * t))
        g.add(out, at, g.tone(glide, np.hanning(len(t))) * g.rng.uniform(0.3, 1))
    for at in g.times(0.3):  # trills
        gain = g.rng.uniform(0.2, 1)
        top = g.rng.uniform(4500, 6500)
        for k in range(g.rng.integers(4, 11)):
            t = g.seconds(0.04)
            g.add(out, at + k * round(0.075 * g.rate), g.tone(top - 2000 * t / t[-1], np.hanning(len(t))) * gain)
    for at in g.times(0.12):  # two-note calls
        gain = g.rng.uniform(0.3, 0.8)
        f0 = g.rng.uniform(1800, 2600)
        for k, ratio in enumerate((1.0, 0.8)):
            t = g.seconds(0.22)
            g.add(out, at + k * round(0.3 * g.rate), g.tone(np.full(len(t), f0 * ratio), np.hanning(len(t))) * gain)
    return out


def _forest(g: _Loop) -> np.ndarray:
    breeze = g.noise(_tilted(_band(60, 800), -3)) * g.swell(0.06, 5)
    leaves = g.noise(_band(900, 7000)) * g.swell(1.5, 3) * g.swell(0.1, 8)
    return 0.6 * breeze + 0.2 * _unit(leaves) + 0.8 * _unit(_birds(g))


def _water(g: _Loop) -> np.ndarray:
    rush = g.noise(_tilted(_band(150, 5000), -3)) * g.swell(0.2, 2)
    rumble = g.noise(_band(40, 200))
    bubbles = np.zeros(g.n)
    for at in g.times(180):
        t = g.seconds(g.rng.uniform(0.015, 0.06))
        f0 = min(g.rng.lognormal(np.log(600), 0.5), 3000)
        g.add(bubbles, at, g.tone(f0 * (1 + 1.5 * t / t[-1]), np.exp(-t / (t[-1] / 3))) * g.rng.lognormal(0, 0.6))
    return rush + 0.3 * rumble + 0.8 * _unit(bubbles)


def _fire(g: _Loop) -> np.ndarray:
    roar = g.noise(_band(30, 250)) * g.swell(0.5, 4)
    hiss = g.noise(_band(2000, 8000)) * g.swell(0.7, 4)
    crackles = np.zeros(g.n)
    for at in g.times(1.5):  # clusters of clicks
        for offset in np.sort(g.rng.integers(0, round(0.12 * g.rate), g.rng.integers(1, 9))):
            t = g.seconds(g.rng.uniform(0.0005, 0.003))
            g.add(crackles, at + offset, g.rng.standard_normal(len(t)) * np.exp(-t / (t[-1] / 3))
                  * g.rng.uniform(0.25, 1))
    crackles = g.filter(crackles, _band(1000, 12000, order=1))
    pops = np.zeros(g.n)
    for at in g.times(0.15):
        t = g.seconds(g.rng.uniform(0.005, 0.012))
        g.add(pops, at, g.rng.standard_normal(len(t)) * np.exp(-t / (t[-1] / 4)))
    pops = g.filter(pops, _band(300, 3000, order=1))
    return 0.6 * roar + 0.05 * hiss + 5 * crackles / np.abs(crackles).max() + 3 * pops / np.abs(pops).max()


def _room(g: _Loop) -> np.ndarray:
    return g.noise(_tilted(_band(20, 400), -3)) + 0.08 * g.noise(_tilted(_band(400, 6000), -6))


def _syllables(g: _Loop) -> np.ndarray:
    """One talker's loudness: syllables, four to five a second, in phrases of 1.5-5 s with pauses."""
    out = np.zeros(g.n)
    at = int(g.rng.integers(0, g.n))
    stop = at + g.n
    while True:
        phrase_end = at + round(g.rng.uniform(1.5, 5) * g.rate)
        while at < phrase_end:
            length = round(g.rng.uniform(0.12, 0.26) * g.rate)
            if at + length > stop:
                return out
            g.add(out, at, np.hanning(length) * g.rng.uniform(0.4, 1))
            at += round(length * g.rng.uniform(0.8, 1.1))
        at += round(g.rng.uniform(0.5, 3) * g.rate)


def _crowd(g: _Loop, voices: int = 16) -> np.ndarray:
    """Many distant voices: buzz and breath at speaking pitch, in syllables and phrases, through
    broad formants."""
    source = np.zeros(g.n)
    for _ in range(voices):
        base = g.rng.uniform(90, 240)
        hz = base * 10 ** (0.06 * g.noise(lambda f: np.exp(-((f / 1.5) ** 2))))
        hz *= np.round(hz.sum() / g.rate) / (hz.sum() / g.rate)  # whole cycles per loop
        buzz = 2 * ((g.rng.random() + np.cumsum(hz) / g.rate) % 1) - 1
        syllables = _syllables(g)
        source += (buzz + 0.2 * g.rng.standard_normal(g.n)) * syllables * g.rng.uniform(0.3, 1)
    formants = g.filter(source, lambda f: _band(200, 3000, order=4)(f) * (1 + 2 * _resonance(550, 2)(f)
                                                                 + 1.5 * _resonance(1600, 2)(f)))
    return formants + 0.3 * g.noise(_tilted(_band(150, 3000), -3))


RECIPES: dict[str, Callable[[_Loop], np.ndarray]] = {
    "rain": _rain, "wind": _wind, "forest": _forest, "water": _water, "fire": _fire, "room": _room,
    "crowd": _crowd,
}


@functools.lru_cache(maxsize=8)
def generate_bed(name: str, sample_rate: int, seconds: float = 30.0) -> np.ndarray:
    """A generated bed as a seamless loop: mono float32, RMS 1 (less by `TRIM_DB` for some), the
    same every time for the same name, rate and length."""
    if name not in RECIPES:
        raise InputError(f"no generated ambience bed called {name!r}",
                         hint=f"use one of {', '.join(GENERATED)} or give a file for it")
    loop = _Loop(name, round(seconds * sample_rate), sample_rate)
    samples = (_unit(RECIPES[name](loop)) * 10 ** (TRIM_DB.get(name, 0.0) / 20)).astype(np.float32)
    samples.flags.writeable = False
    return samples


@functools.cache
def _recipes_revision() -> str:
    """A hash of this module's source: generated beds kept on disk are made anew when it changes."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def kept_bed(name: str, sample_rate: int, seconds: float, cache_dir: Path | None) -> np.ndarray:
    """`generate_bed`, kept in `cache_dir/beds` (when given) so later runs load it instead of making it."""
    if cache_dir is None:
        return generate_bed(name, sample_rate, seconds)
    key = hashlib.sha256(repr((name, sample_rate, seconds, _recipes_revision())).encode("utf-8")).hexdigest()
    path = cache_dir / "beds" / f"{key}.npy"
    try:
        loop = np.load(path)
    except (OSError, ValueError):
        loop = generate_bed(name, sample_rate, seconds)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as temporary, temporary.open("wb") as out:
            np.save(out, loop)
    loop.flags.writeable = False
    return loop


# --- user files -----------------------------------------------------------------------------------------

def make_loop(samples: np.ndarray, crossfade: int) -> np.ndarray:
    """`samples` shortened by `crossfade` with their tail cross-faded (equal power) into their head,
    so playing the result over and over has no seam."""
    c = min(crossfade, len(samples) // 2)
    if c == 0:
        return samples
    t = (np.arange(c) + 0.5) / c
    out = samples[: len(samples) - c].copy()
    out[:c] = samples[:c] * np.sin(np.pi / 2 * t) + samples[len(samples) - c:] * np.cos(np.pi / 2 * t)
    return out


def load_file_bed(path: Path, sample_rate: int, crossfade_s: float = 1.0) -> np.ndarray:
    """A user's audio file (WAV, MP3, OGG, FLAC, anything ffmpeg reads) as a seamless loop: mono
    float32 at `sample_rate`, RMS 1."""
    path = Path(path)
    if not path.is_file():
        raise InputError("ambience file not found", path=path,
                         hint="check the path in the ambience settings, or remove the entry to use a generated bed")
    try:
        samples = decode(path, sample_rate)
    except ToolError as exc:
        raise InputError(f"cannot read this ambience file: {exc.message}", path=path,
                         hint="give a WAV, MP3, OGG or FLAC file that plays") from exc
    if len(samples) < sample_rate // 2 or not np.any(samples):
        raise InputError("ambience file is silent or shorter than half a second", path=path,
                         hint="give a recording of a few seconds or more")
    loop = make_loop(samples, min(round(crossfade_s * sample_rate), len(samples) // 4))
    return _unit(loop).astype(np.float32)
