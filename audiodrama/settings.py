"""Production settings: pacing, loudness, the sound of thoughts, export; read from a YAML file
(`audiodrama produce --settings FILE`) or a series manifest's `production:` block.

Every key is optional; absent keys keep the defaults documented in docs/production-settings.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audiodrama.errors import InputError
from audiodrama.mixing.ambience import AmbienceSettings, BedRule
from audiodrama.mixing.timeline import Levels, Pauses
from audiodrama.yamlfile import Node, read_yaml

SAMPLE_RATES = (16000, 22050, 24000, 32000, 44100, 48000)
BITRATES = ("32k", "48k", "64k", "96k", "128k", "160k", "192k", "256k", "320k")


@dataclass(frozen=True)
class Settings:
    """How an episode is produced."""

    pauses: Pauses = field(default_factory=Pauses)
    """Silences between lines."""
    levels: Levels = field(default_factory=Levels)
    """Loudness targets and the sound of thoughts."""
    ambience: AmbienceSettings = field(default_factory=AmbienceSettings)
    """Beds under the scenes."""
    radio_play: bool = False
    """Drop bare speech tags ("said Naruto"), as a radio play would; the action around them stays."""
    announce_title: bool = False
    """The narrator reads the episode's title first."""
    intro: Path | None = None
    """Music played before the episode."""
    outro: Path | None = None
    """Music played after the episode."""
    sample_rate: int = 22050
    """Sample rate of the mixed episode."""
    bitrate: str = "96k"
    """MP3 bitrate given to the encoder."""
    jobs: int | None = None
    """Synthesis worker processes; None uses every core."""
    cache_dir: Path | None = None
    """Clip cache folder; None uses the default (`AUDIODRAMA_CACHE` or ~/.cache/audiodrama/clips)."""
    engine: str = "pyttsx3"
    """Speech engine: a name in `synthesis.ENGINES` or a `module:Class` path."""
    timeout: float = 60.0
    """Seconds the engine may take per piece of text before its worker counts as hung."""
    authors_notes: bool = field(default=False, repr=False)
    """Read the author's notes of a page, EPUB or Markdown chapter ("A/N:", AO3's notes) as story. Out of
    the repr, which episode fingerprints hash: it shapes the script, and the script is hashed."""


NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "start": (0, 30_000), "within_paragraph": (0, 10_000), "speaker_change": (0, 10_000),
    "paragraph": (0, 10_000), "scene_break": (0, 30_000), "end": (0, 30_000),
    "speech_lufs": (-40, -6), "target_lufs": (-36, -6), "true_peak_db": (-12, 0), "limiter_margin_db": (0, 6),
    "encoder_headroom_db": (0, 6),
    "thought_gain_db": (-30, 6), "thought_echo_ms": (0, 1000), "thought_echo_decay": (0, 0.95),
    "thought_echo_repeats": (0, 8),
    "level_db": (-80, -6), "duck_db": (0, 60), "attack_ms": (0, 5000), "release_ms": (0, 10_000),
    "crossfade_ms": (0, 20_000), "fade_in_ms": (0, 30_000), "fade_out_ms": (0, 30_000), "loop_seconds": (2, 120),
}
"""Allowed range of every numeric setting, by key."""


def _numbers(node: Node, what: str, defaults: Any) -> Any:
    """Read a mapping of numbers into a copy of the frozen dataclass `defaults`."""
    names = tuple(f.name for f in dataclasses.fields(defaults))
    node.check_keys(what, names)
    values = {}
    for key, value in node.mapping(what):
        integer = isinstance(getattr(defaults, key), int)
        number = value.number(f"{key} in {what}", *NUMBER_RANGES[key], integer=integer)
        values[key] = int(number) if integer else float(number)
    return dataclasses.replace(defaults, **values)


def _flag(node: Node, what: str) -> bool:
    flag = node.value(what)
    if not isinstance(flag, bool):
        raise node.error(f"{what} must be true or false, not {flag!r}")
    return flag


def _choice(node: Node, what: str, allowed: tuple[Any, ...]) -> Any:
    value = node.value(what)
    if value not in allowed:
        raise node.error(f"{what} must be one of {', '.join(map(str, allowed))}, not {value!r}")
    return value


TOP_KEYS = ("pauses", "levels", "ambience", "sample_rate", "bitrate", "radio_play", "announce_title", "intro",
            "outro", "authors_notes")
AMBIENCE_FLAGS = ("enabled", "builtin_rules")
AMBIENCE_NUMBERS = ("level_db", "duck_db", "attack_ms", "release_ms", "crossfade_ms", "fade_in_ms", "fade_out_ms",
                    "loop_seconds")
AMBIENCE_KEYS = (*AMBIENCE_FLAGS, *AMBIENCE_NUMBERS, "default_bed", "rules", "files")


def _ambience(node: Node, base: Path) -> AmbienceSettings:
    """The `ambience:` block; file paths are relative to the file that names them."""
    what = "ambience"
    node.check_keys(what, AMBIENCE_KEYS)
    values: dict[str, Any] = {}
    for key, value in node.mapping(what):
        if key in AMBIENCE_FLAGS:
            values[key] = _flag(value, f"ambience {key}")
        elif key in AMBIENCE_NUMBERS:
            values[key] = float(value.number(f"ambience {key}", *NUMBER_RANGES[key]))
        elif key == "default_bed":
            values[key] = None if value.is_null() else value.text("ambience default_bed")
        elif key == "rules":
            values[key] = tuple(
                BedRule(bed, tuple(k.text(f"a keyword of bed {bed!r}") for k in words.sequence(f"keywords of {bed!r}")))
                for bed, words in value.mapping("ambience rules"))
        elif key == "files":
            values[key] = tuple((bed, path.existing_file(f"file of bed {bed!r}", base))
                                for bed, path in value.mapping("ambience files"))
    return AmbienceSettings(**values)


def settings_from_node(node: Node | None, what: str = "production settings", base: Settings | None = None) -> Settings:
    """Settings from a YAML mapping (a settings file's root or a manifest's `production:` block);
    keys it lacks keep `base`'s values (default: the defaults)."""
    settings = base or Settings()
    if node is None or node.is_null():
        return settings
    node.check_keys(what, TOP_KEYS)
    for key, value in node.mapping(what):
        if key == "pauses":
            settings = dataclasses.replace(settings, pauses=_numbers(value, "pauses", settings.pauses))
        elif key == "levels":
            settings = dataclasses.replace(settings, levels=_numbers(value, "levels", settings.levels))
        elif key == "ambience":
            settings = dataclasses.replace(settings, ambience=_ambience(value, Path(node.path).parent))
        elif key in ("radio_play", "announce_title", "authors_notes"):
            settings = dataclasses.replace(settings, **{key: _flag(value, key)})
        elif key in ("intro", "outro"):
            music = value.existing_file(f"{key} music file", Path(node.path).parent)
            settings = dataclasses.replace(settings, **{key: music})
        elif key == "sample_rate":
            settings = dataclasses.replace(settings, sample_rate=_choice(value, "sample_rate", SAMPLE_RATES))
        elif key == "bitrate":
            settings = dataclasses.replace(settings, bitrate=_choice(value, "bitrate", BITRATES))
    return settings


def load_settings(path: Path) -> Settings:
    """Read a production settings file."""
    node = read_yaml(path, "settings file")
    if node is None:
        raise InputError("settings file is empty", path=path, hint="see docs/production-settings.md")
    return settings_from_node(node)
