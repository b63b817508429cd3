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
from audiodrama.mixing.mastering import Levels
from audiodrama.mixing.timeline import Pauses
from audiodrama.synthesis.engine import ENGINES
from audiodrama.yamlfile import RANGE, Node, bounded, read_yaml

SAMPLE_RATES = (16000, 22050, 24000, 32000, 44100, 48000)
BITRATES = ("32k", "48k", "64k", "96k", "128k", "160k", "192k", "256k", "320k")
DEFAULT_ENGINES = tuple(name for name in ENGINES if name != "piper")
"""What `engine:` may name: the engines of espeak-ng voice specs (Piper speaks only `piper:` voices)."""


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
    """Speech engine of every voice but `piper:` ones (which Piper speaks): a name in `DEFAULT_ENGINES`
    (the library also takes a `module:Class` path; a settings file only the names, so a file can never
    make the product import code)."""
    timeout: float = bounded(60.0, 1, 3600)
    """Seconds the engine may take per piece of text before its worker counts as hung."""
    authors_notes: bool = field(default=False, repr=False)
    """Read the author's notes of a page, EPUB or Markdown chapter ("A/N:", AO3's notes) as story. Out of
    the repr, which episode fingerprints hash: it shapes the script, and the script is hashed."""


TOP_KEYS = ("pauses", "levels", "ambience", "sample_rate", "bitrate", "radio_play", "announce_title", "intro",
            "outro", "engine", "timeout", "authors_notes")
AMBIENCE_KEYS = tuple(f.name for f in dataclasses.fields(AmbienceSettings))
AMBIENCE_FLAGS = tuple(f.name for f in dataclasses.fields(AmbienceSettings) if isinstance(f.default, bool))
AMBIENCE_NUMBERS = tuple(f.name for f in dataclasses.fields(AmbienceSettings) if RANGE in f.metadata)


def _ambience(node: Node, base: Path) -> AmbienceSettings:
    """The `ambience:` block; file paths are relative to the file that names them."""
    what = "ambience"
    node.check_keys(what, AMBIENCE_KEYS)
    values: dict[str, Any] = {}
    for key, value in node.mapping(what):
        if key in AMBIENCE_FLAGS:
            values[key] = value.flag(f"ambience {key}")
        elif key in AMBIENCE_NUMBERS:
            values[key] = value.field_number(f"ambience {key}", AmbienceSettings, key)
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
            settings = dataclasses.replace(settings, pauses=value.numbers("pauses", settings.pauses))
        elif key == "levels":
            settings = dataclasses.replace(settings, levels=value.numbers("levels", settings.levels))
        elif key == "ambience":
            settings = dataclasses.replace(settings, ambience=_ambience(value, Path(node.path).parent))
        elif key in ("radio_play", "announce_title", "authors_notes"):
            settings = dataclasses.replace(settings, **{key: value.flag(key)})
        elif key in ("intro", "outro"):
            music = value.existing_file(f"{key} music file", Path(node.path).parent)
            settings = dataclasses.replace(settings, **{key: music})
        elif key == "sample_rate":
            settings = dataclasses.replace(settings, sample_rate=value.choice("sample_rate", SAMPLE_RATES))
        elif key == "bitrate":
            settings = dataclasses.replace(settings, bitrate=value.choice("bitrate", BITRATES))
        elif key == "engine":
            settings = dataclasses.replace(settings, engine=value.choice("engine", DEFAULT_ENGINES))
        elif key == "timeout":
            settings = dataclasses.replace(settings, timeout=value.field_number("timeout", Settings, "timeout"))
    return settings


def load_settings(path: Path) -> Settings:
    """Read a production settings file."""
    node = read_yaml(path, "settings file")
    if node is None:
        raise InputError("settings file is empty", path=path, hint="see docs/production-settings.md")
    return settings_from_node(node)
