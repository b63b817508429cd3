"""Ambient beds: a looped sound under each scene, chosen by rules, cross-faded, ducked under speech.

Beds come from the user's files (anything ffmpeg decodes) or are generated here from seeded noise,
filters and sparse events, with no download. Every generated bed is built in the frequency domain
and with events placed modulo its length, so it is periodic by construction and loops without a
seam; user files are made loopable by cross-fading their tail into their head.

`BedTrack.block(start, length)` gives the bed for any stretch of the episode, each sample a pure
function of its position, so the mixer can ask for blocks of any size in any order.
"""

from __future__ import annotations

import bisect
import functools
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from audiodrama.errors import InputError, ToolError
from audiodrama.mixing.audio import decode
from audiodrama.script import Segment
from audiodrama.text.chapter import Kind
from audiodrama.yamlfile import bounded

if TYPE_CHECKING:
    from audiodrama.mixing.timeline import Cue, Timeline

GENERATED = ("rain", "wind", "forest", "water", "fire", "room", "crowd")
"""Beds the product makes itself."""
DEFAULT_BED = "room"
"""Bed of a scene no rule matches, unless the settings say otherwise."""
HEADING_WEIGHT = 5
"""A keyword in a scene's heading counts this many times a keyword in its body."""
TRIM_DB = {"room": -6.0}
"""Generated beds that sit below the bed level (room tone is meant to be barely there)."""


@dataclass(frozen=True)
class BedRule:
    """Keywords that put a bed under a scene."""

    bed: str
    """Bed name: a generated bed or a key of `AmbienceSettings.files`."""
    keywords: tuple[str, ...]
    """Words or phrases matched as whole words, case-insensitively; a trailing `*` matches any ending
    (`storm*` matches storm, storms, stormy)."""

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        """One regular expression for all the keywords."""
        words = (re.escape(k.rstrip("*")).replace(r"\ ", r"\s+") + (r"\w*" if k.endswith("*") else "")
                 for k in self.keywords)
        return re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)

    def score(self, heading: str, text: str) -> int:
        """How strongly a scene calls for this bed: keyword hits, heading hits weighted."""
        return HEADING_WEIGHT * len(self.pattern.findall(heading)) + len(self.pattern.findall(text))


BUILTIN_RULES = (
    BedRule("fire", ("campfire*", "camp fire", "bonfire*", "fireplace*", "fireside", "hearth*", "ember*",
                     "firelight", "flames", "crackling")),
    BedRule("rain", ("rain", "rains", "rained", "raining", "rainy", "rainfall", "raindrop*", "rainwater",
                     "drizzl*", "downpour*", "storm", "storms", "stormy", "thunder*", "monsoon*")),
    BedRule("water", ("river*", "stream", "streams", "creek*", "brook*", "lake*", "pond*", "waterfall*",
                      "sea", "seas", "seaside", "ocean*", "shore*", "beach*", "waves", "harbor*", "harbour*",
                      "coast*")),
    BedRule("crowd", ("market*", "crowd*", "festival*", "bazaar*", "tavern*", "inn", "pub", "restaurant*",
                      "cafe*", "café*", "stadium*", "arena*", "audience*", "spectator*", "throng*", "parade*",
                      "banquet*", "feast*")),
    BedRule("forest", ("forest*", "wood", "woods", "woodland*", "tree", "trees", "grove*", "jungle*",
                       "thicket*", "glade*", "undergrowth", "birdsong", "meadow*", "orchard*")),
    BedRule("wind", ("wind", "winds", "windy", "gale*", "gust*", "blizzard*", "breeze*", "cliff*", "mountain*",
                     "summit*", "rooftop*", "desert*", "tundra")),
    BedRule("room", ("hospital*", "ward", "clinic*", "infirmary", "office*", "room", "rooms", "bedroom*",
                     "kitchen*", "apartment*", "library", "classroom*", "hallway*", "corridor*", "tower")),
)
"""Rules tried when no user rule matches; on equal scores the earlier rule wins."""


@dataclass(frozen=True)
class AmbienceSettings:
    """How beds are chosen and mixed under the speech."""

    enabled: bool = True
    """Put beds under the episode at all."""
    level_db: float = bounded(-32.0, -80, -6)
    """Bed level between lines, RMS in dB relative to full scale (1.0), before the episode gain."""
    duck_db: float = bounded(15.0, 0, 60)
    """How far the bed dips while anyone speaks, in dB."""
    attack_ms: float = bounded(100.0, 0, 5000)
    """Time the bed takes to dip, ending where the speech starts (the timeline is known ahead)."""
    release_ms: float = bounded(350.0, 0, 10_000)
    """Time the bed takes to come back after the speech ends."""
    crossfade_ms: float = bounded(2500.0, 0, 20_000)
    """Length of the cross-fade between two scenes' beds, centred on the scene change."""
    fade_in_ms: float = bounded(2000.0, 0, 30_000)
    """Fade-in at the episode start."""
    fade_out_ms: float = bounded(3000.0, 0, 30_000)
    """Fade-out ending at the episode end."""
    loop_seconds: float = bounded(30.0, 2, 120)
    """Length of a generated bed's loop."""
    rules: tuple[BedRule, ...] = ()
    """User rules, tried before the built-in ones: the best-scoring user rule wins when any matches."""
    builtin_rules: bool = True
    """Also try `BUILTIN_RULES` when no user rule matches."""
    default_bed: str | None = DEFAULT_BED
    """Bed of a scene no rule matches; None leaves such scenes silent."""
    files: tuple[tuple[str, Path], ...] = ()
    """(bed name, audio file) pairs: the user's own beds, replacing a generated one of the same name."""

    def file_for(self, bed: str) -> Path | None:
        """The user's file for `bed`, if any."""
        return dict(self.files).get(bed)


def choose_bed(heading: str, text: str, rules: Sequence[BedRule] = (), default: str | None = DEFAULT_BED,
               builtin: bool = True) -> str | None:
    """The bed for a scene with this heading and body text.

    User `rules` are tried first, then (when `builtin`) `BUILTIN_RULES`; in each group the rule with
    the highest score wins, ties going to the earlier rule. No match gives `default`.
    """
    for group in (tuple(rules), BUILTIN_RULES if builtin else ()):
        scores = [rule.score(heading, text) for rule in group]
        if scores and max(scores) > 0:
            return group[scores.index(max(scores))].bed
    return default


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


def load_bed(name: str, sample_rate: int, settings: AmbienceSettings) -> np.ndarray:
    """The loop for bed `name`: the user's file when the settings give one, else a generated bed."""
    path = settings.file_for(name)
    if path is not None:
        return load_file_bed(path, sample_rate)
    return generate_bed(name, sample_rate, settings.loop_seconds)


# --- the bed track --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SceneBed:
    """A scene's stretch of the episode and the bed under it."""

    start: int
    """First sample of the scene on the episode timeline."""
    end: int
    """Sample just past the scene."""
    bed: str | None
    """Bed name, or None for no bed."""


def _raised_cosine(x: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * x)


def _equal_power(x: np.ndarray) -> np.ndarray:
    return np.sin(np.pi / 2 * x)


def _edge(first: int, length: int, start: int, span: int, shape: Shape, rising: bool = True) -> np.ndarray:
    """Gain over samples `first`..`first + length` of an edge going from 0 to 1 (1 to 0 unless `rising`)
    along `shape` over the `span` samples from `start`; a step when `span` is 0. Each sample's value
    depends on its position only."""
    lo = min(max(start - first, 0), length)
    hi = min(max(start + span - first, 0), length)
    out = np.empty(length)
    out[:lo] = 0.0 if rising else 1.0
    out[hi:] = 1.0 if rising else 0.0
    if hi > lo:
        x = (np.arange(first + lo, first + hi) - start + 1) / (span + 1)
        out[lo:hi] = shape(x if rising else 1 - x)
    return out


def _looped(loop: np.ndarray, start: int, length: int) -> np.ndarray:
    """Samples `start`..`start + length` of `loop` played over and over from sample 0."""
    offset = start % len(loop)
    if offset + length <= len(loop):
        return loop[offset: offset + length]
    return np.take(loop, np.arange(offset, offset + length), mode="wrap")


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping intervals covering the same samples."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class BedTrack:
    """The episode's ambience: each scene's bed looped, faded in at the start and out at the end,
    cross-faded at scene changes and ducked under speech. Memory depends on the beds, not on the
    episode's length."""

    def __init__(self, scenes: Sequence[SceneBed], speech: Iterable[tuple[int, int]], frames: int,
                 sample_rate: int, settings: AmbienceSettings | None = None,
                 loops: dict[str, np.ndarray] | None = None) -> None:
        """`scenes` in order on a timeline of `frames` samples; `speech` the (start, end) samples
        where anyone speaks; `loops` ready-made beds by name (others are loaded as the settings say)."""
        self.settings = settings or AmbienceSettings()
        self.frames, self.sample_rate = frames, sample_rate
        ms = sample_rate / 1000
        self.runs: list[SceneBed] = []
        for scene in scenes:  # neighbouring scenes with the same bed play as one
            if self.runs and self.runs[-1].bed == scene.bed:
                self.runs[-1] = SceneBed(self.runs[-1].start, scene.end, scene.bed)
            else:
                self.runs.append(scene)
        self.runs = [run for run in self.runs if run.bed is not None] if self.settings.enabled else []
        self.loops = dict(loops or {})
        for run in self.runs:
            if run.bed not in self.loops:
                self.loops[run.bed] = load_bed(run.bed, sample_rate, self.settings)
        self.speech = merge_intervals(speech)
        self._speech_ends = [end for _, end in self.speech]
        self.attack, self.release = round(self.settings.attack_ms * ms), round(self.settings.release_ms * ms)
        crossfade = round(self.settings.crossfade_ms * ms)
        fade_in, fade_out = round(self.settings.fade_in_ms * ms), round(self.settings.fade_out_ms * ms)
        self._edges = [  # (bed, (start, span) of its rise, (start, span) of its fall) per run
            (run.bed, (0, fade_in) if run.start <= 0 else (run.start - crossfade // 2, crossfade),
             (frames - fade_out, fade_out) if run.end >= frames else (run.end - crossfade // 2, crossfade))
            for run in self.runs
        ]

    @classmethod
    def for_timeline(cls, timeline: Timeline, settings: AmbienceSettings | None = None) -> BedTrack:
        """The bed track of a mixed episode: scenes and speech read off the timeline's cues, each
        scene's bed chosen from its heading and text."""
        settings = settings or AmbienceSettings()
        return cls(timeline_scenes(timeline, settings), ((c.start, c.end) for c in timeline.cues),
                   timeline.frames, timeline.sample_rate, settings)

    def block(self, start: int, length: int) -> np.ndarray:
        """float32 samples of the bed from sample `start` for `length` samples."""
        out = np.zeros(length)
        for bed, (rise, rise_span), (fall, fall_span) in self._edges:
            if start + length > rise and start < fall + fall_span:
                gain = _edge(start, length, rise, rise_span, _equal_power)
                gain *= _edge(start, length, fall, fall_span, _equal_power, rising=False)
                out += gain * _looped(self.loops[bed], start, length)
        if self._edges:
            out *= 10 ** ((self.settings.level_db - self.settings.duck_db * self._duck(start, length)) / 20)
        return out.astype(np.float32)

    def _duck(self, start: int, length: int) -> np.ndarray:
        """How ducked each sample is, 0 (not at all) to 1 (fully, during speech)."""
        depth = np.zeros(length)
        k = bisect.bisect_right(self._speech_ends, start - self.release)
        while k < len(self.speech) and self.speech[k][0] - self.attack < start + length:
            s, e = self.speech[k]
            lo, hi = max(s - self.attack, start), min(e + self.release, start + length)
            if hi > lo:
                shape = (_edge(lo, hi - lo, s - self.attack, self.attack, _raised_cosine)
                         * _edge(lo, hi - lo, e, self.release, _raised_cosine, rising=False))
                np.maximum(depth[lo - start: hi - start], shape, out=depth[lo - start: hi - start])
            k += 1
        return depth


def scene_text(segments: Iterable[Segment]) -> tuple[str, str]:
    """(heading, body) of a scene's segments."""
    heading, body = [], []
    for segment in segments:
        (heading if segment.kind == Kind.HEADING else body).append(segment.text)
    return " ".join(heading), " ".join(body)


def timeline_scenes(timeline: Timeline, settings: AmbienceSettings) -> list[SceneBed]:
    """Each scene's span on the timeline, changing half-way through the pause between scenes, and
    its bed."""
    groups: dict[int, list[Cue]] = {}
    for cue in timeline.cues:
        groups.setdefault(cue.segment.scene, []).append(cue)
    scenes: list[SceneBed] = []
    previous_end = 0
    for k, cues in enumerate(groups.values()):
        start = 0 if k == 0 else (previous_end + cues[0].start) // 2
        heading, body = scene_text(c.segment for c in cues)
        bed = choose_bed(heading, body, settings.rules, settings.default_bed, settings.builtin_rules)
        if scenes:
            scenes[-1] = SceneBed(scenes[-1].start, start, scenes[-1].bed)
        scenes.append(SceneBed(start, timeline.frames, bed))
        previous_end = cues[-1].end
    return scenes
