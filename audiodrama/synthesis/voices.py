"""The voices the espeak-ng engine has: base voices (languages/accents) and variants (f1, m3, whisper...).

pyttsx3 lists only base voices and reports every one as "Male"; the variants, which carry the
gender, are read here from the engine's own data directory, so the product knows them itself.
`Voice` is how one character sounds: a voice spec with rate, pitch and volume.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from pathlib import Path

from audiodrama import runtime
from audiodrama.yamlfile import bounded

GENDERS = ("male", "female", "other")
FEMALE_PITCH_HZ = 150
"""A variant that declares no gender is female when its pitch range's middle is at least this high."""


@dataclass(frozen=True)
class Voice:
    """How one character (or the narrator) sounds."""

    voice: str = "en-us"
    """Engine voice id, optionally with a variant: `en-us`, `en-gb+f3`, `gmw/en-us+m3`."""
    rate: int = bounded(165, 80, 450)
    """Speaking rate in words per minute."""
    pitch: int = bounded(50, 0, 100)
    """Base pitch, 0-100 (50 is the voice's normal pitch)."""
    volume: float = bounded(1.0, 0.0, 1.0)
    """Loudness of the clip, 0.0-1.0 before levelling."""

    @property
    def base(self) -> str:
        """The base voice of the spec: `en-gb` for `en-gb+f3`."""
        return self.voice.partition("+")[0]

    @property
    def variant(self) -> str:
        """The variant of the spec (`f3` for `en-gb+f3`), empty for the base voice's own timbre."""
        return self.voice.partition("+")[2]

    def describe(self) -> str:
        """One short phrase for messages: `en-gb+f3 (rate 170, pitch 44)`."""
        volume = f", volume {self.volume:g}" if self.volume != 1.0 else ""
        return f"{self.voice} (rate {self.rate}, pitch {self.pitch}{volume})"


@dataclass(frozen=True)
class BaseVoice:
    """A language or accent voice of the engine."""

    id: str
    """Identifier as the engine names its file: `gmw/en-us`."""
    name: str
    """Human name: `English (America)`."""
    language: str
    """Main language code: `en-us`."""


@dataclass(frozen=True)
class Variant:
    """A voice variant that changes timbre and pitch range: `f3`, `m2`, `whisper`."""

    id: str
    """What follows `+` in a voice spec: `f3`."""
    name: str
    """Human name from the variant file: `female3`."""
    gender: str
    """`male`, `female` or `other`, from the variant file."""


@dataclass(frozen=True)
class ResolvedVoice:
    """A user's voice spec checked against the catalogue."""

    base: BaseVoice
    """The base voice."""
    variant: Variant | None
    """The variant, or None for the base voice's own timbre."""

    @property
    def spec(self) -> str:
        """The canonical spec the engine is given: `en-us+f3`."""
        return self.base.language + (f"+{self.variant.id}" if self.variant else "")

    @property
    def gender(self) -> str:
        """The gender the voice sounds: the variant's, else espeak's default male timbre."""
        return self.variant.gender if self.variant else "male"


class UnknownVoiceError(ValueError):
    """A voice spec that names no installed voice; the message lists close matches."""


def _read_keys(path: Path) -> dict[str, str]:
    keys: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = raw.split(None, 1)
        if len(parts) == 2 and not raw.startswith("//") and parts[0] not in keys:
            keys[parts[0]] = parts[1].split("//")[0].strip()
    return keys


@dataclass(frozen=True)
class VoiceCatalogue:
    """Every base voice and variant one espeak-ng installation has."""

    voices: tuple[BaseVoice, ...]
    """Base voices, sorted by id."""
    variants: tuple[Variant, ...]
    """Variants, sorted by id."""

    @classmethod
    def from_data_dir(cls, data_dir: str | Path) -> VoiceCatalogue:
        """Read the catalogue from an `espeak-ng-data` directory."""
        root = Path(data_dir)
        voices = []
        for path in sorted((root / "lang").rglob("*")):
            if path.is_file():
                keys = _read_keys(path)
                language = keys.get("language", path.name).split()[0]
                voice_id = path.relative_to(root / "lang").as_posix().lower()
                voices.append(BaseVoice(voice_id, keys.get("name", path.name), language.lower()))
        variants = []
        for path in sorted((root / "voices" / "!v").glob("*")):
            if path.is_file():
                keys = _read_keys(path)
                variant_id = path.name
                gender = _gender(variant_id, keys.get("gender", ""), keys.get("pitch", ""))
                variants.append(Variant(variant_id, keys.get("name", variant_id) or variant_id, gender))
        return cls(tuple(voices), tuple(variants))

    def english(self) -> tuple[BaseVoice, ...]:
        """The English base voices."""
        return tuple(v for v in self.voices if v.language.startswith("en"))

    def variants_for(self, gender: str) -> tuple[Variant, ...]:
        """The variants of one gender, in id order."""
        return tuple(v for v in self.variants if v.gender == gender)

    def _base(self, spec: str) -> BaseVoice | None:
        wanted = spec.strip().casefold()
        for voice in self.voices:
            if wanted in (voice.id, voice.id.rsplit("/", 1)[-1], voice.language, voice.name.casefold()):
                return voice
        return None

    def resolve(self, spec: str) -> ResolvedVoice:
        """Check `spec` (`en-us`, `gmw/en-us+f3`, `English (America)+m2`) and resolve it."""
        base_spec, _, variant_spec = str(spec).partition("+")
        base = self._base(base_spec)
        variant = next((v for v in self.variants if v.id.casefold() == variant_spec.casefold()), None)
        if base is None or (variant_spec and variant is None):
            raise UnknownVoiceError(f"voice {spec!r} is not installed; {self.suggest(spec)}")
        return ResolvedVoice(base, variant)

    def suggest(self, spec: str) -> str:
        """A short phrase naming installed voices close to `spec`."""
        base_spec, plus, variant_spec = str(spec).partition("+")
        base = self._base(base_spec)
        if base is not None and plus:
            names = [f"{base.language}+{v.id}" for v in self.variants]
            close = difflib.get_close_matches(f"{base.language}+{variant_spec}", names, n=3, cutoff=0.5)
        else:
            names = sorted({v.language for v in self.voices} | {v.id for v in self.voices})
            close = difflib.get_close_matches(base_spec.lower(), names, n=3, cutoff=0.5)
            close = [c + plus + variant_spec for c in close]
        if close:
            return "close matches: " + ", ".join(close)
        return "see `audiodrama voices` for the installed voices"


def _gender(variant_id: str, declared: str, pitch: str) -> str:
    """The gender a variant sounds: as declared, else from its pitch range, else from its id (`f3`)."""
    words = declared.lower().split()
    if words and words[0] in ("male", "female"):
        return words[0]
    numbers = [int(n) for n in pitch.split()[:2] if n.isdigit()]
    if len(numbers) == 2:
        return "female" if sum(numbers) / 2 >= FEMALE_PITCH_HZ else "male"
    if variant_id[:1] in "fm" and variant_id[1:].isdigit():
        return "female" if variant_id[0] == "f" else "male"
    return "other"


@functools.cache
def catalogue() -> VoiceCatalogue:
    """The catalogue of the espeak-ng installation in use."""
    return VoiceCatalogue.from_data_dir(runtime.espeak().data_dir)
