"""Ambience: a looped bed under each scene, chosen by rules, cross-faded, ducked under speech.

The beds themselves (generated, or the user's files made loopable) come from `mixing.beds`.

`BedTrack.block(start, length)` gives the bed for any stretch of the episode, each sample a pure
function of its position, so the mixer can ask for blocks of any size in any order.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from audiodrama.mixing.beds import Shape, kept_bed, load_file_bed
from audiodrama.script import Segment
from audiodrama.text.chapter import Kind
from audiodrama.yamlfile import bounded

if TYPE_CHECKING:
    from audiodrama.mixing.timeline import Cue, Timeline

DEFAULT_BED = "room"
"""Bed of a scene no rule matches, unless the settings say otherwise."""
HEADING_WEIGHT = 5
"""A keyword in a scene's heading counts this many times a keyword in its body."""


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


def load_bed(name: str, sample_rate: int, settings: AmbienceSettings, cache_dir: Path | None = None) -> np.ndarray:
    """The loop for bed `name`: the user's file when the settings give one, else a generated bed (kept
    in `cache_dir` when given)."""
    path = settings.file_for(name)
    if path is not None:
        return load_file_bed(path, sample_rate)
    return kept_bed(name, sample_rate, settings.loop_seconds, cache_dir)


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


def _edge_at(positions: np.ndarray, start: np.ndarray | int, span: np.ndarray | int, shape: Shape,
             rising: bool = True) -> np.ndarray:
    """`_edge` at any `positions` (the edges' start and span may vary with them)."""
    x = np.clip((positions - start + 1) / (span + 1), 0.0, 1.0)
    return shape(x if rising else 1 - x)


DUCK_NEIGHBOURS = 4
"""Speech stretches whose attack or release `BedTrack.gains` looks at for each position (the one whose
attack began last and those before it)."""


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
                 loops: dict[str, np.ndarray] | None = None, cache_dir: Path | None = None) -> None:
        """`scenes` in order on a timeline of `frames` samples; `speech` the (start, end) samples
        where anyone speaks; `loops` ready-made beds by name (others are loaded as the settings say,
        generated ones kept in `cache_dir`)."""
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
                self.loops[run.bed] = load_bed(run.bed, sample_rate, self.settings, cache_dir)
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
    def for_timeline(cls, timeline: Timeline, settings: AmbienceSettings | None = None,
                     cache_dir: Path | None = None) -> BedTrack:
        """The bed track of a mixed episode: scenes and speech read off the timeline's cues, each
        scene's bed chosen from its heading and text (generated beds kept in `cache_dir`)."""
        settings = settings or AmbienceSettings()
        return cls(timeline_scenes(timeline, settings), ((c.start, c.end) for c in timeline.cues),
                   timeline.frames, timeline.sample_rate, settings, cache_dir=cache_dir)

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

    def gains(self, positions: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
        """(bed, gain) of each run of beds that sounds somewhere in `positions` (ascending): the factor
        `block` gives its loop at each of them (fades, cross-fades and ducking)."""
        if not self._edges or not len(positions):
            return
        level = 10 ** ((self.settings.level_db - self.settings.duck_db * self._duck_at(positions)) / 20)
        for bed, (rise, rise_span), (fall, fall_span) in self._edges:
            if rise <= positions[-1] and fall + fall_span >= positions[0]:
                yield bed, (_edge_at(positions, rise, rise_span, _equal_power)
                            * _edge_at(positions, fall, fall_span, _equal_power, rising=False) * level)

    def _duck_at(self, positions: np.ndarray) -> np.ndarray:
        """`_duck` at any `positions`."""
        depth = np.zeros(len(positions))
        if not self.speech:
            return depth
        starts, ends = np.array(self.speech).T
        last = np.searchsorted(starts - self.attack, positions, side="right") - 1
        for back in range(DUCK_NEIGHBOURS):
            k = np.maximum(last - back, 0)
            shape = (_edge_at(positions, starts[k] - self.attack, self.attack, _raised_cosine)
                     * _edge_at(positions, ends[k], self.release, _raised_cosine, rising=False))
            np.maximum(depth, np.where(last - back >= 0, shape, 0.0), out=depth)
        return depth

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
