"""Auto-casting: a voice for every character the cast gives none, the same on every run and machine.

Each character has its own preference order over a large pool of voices (English accent x gendered
variant x pitch x rate), a pure function of its name and gender. It takes its first preference
unless that is too close to the narrator or to a character it shares a scene with; then it moves
down its own list. So a character keeps its voice whatever other characters appear, except when
keeping it would make two voices in one scene hard to tell apart. `cast init` writes the chosen
voices into the cast file, which freezes them.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Iterable, Mapping

from audiodrama.synthesis.engines.piper import list_piper_voices
from audiodrama.synthesis.piper_voices import is_piper, voices_dir, where
from audiodrama.synthesis.voices import Voice

AUTO_BASES = (
    "en-us", "en-gb", "en-gb-x-rp", "en-us-nyc", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
)
"""English accents auto-casting picks from; every one is in espeak-ng 1.51 and 1.52 alike."""
AUTO_VARIANTS = {
    "male": ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"),
    "female": ("f1", "f2", "f3", "f4", "f5", "Annie", "linda", "steph"),
}
"""Variants by the gender they sound (measured F0 of each), present in espeak-ng 1.51 and 1.52 alike."""
AUTO_PITCHES = (38, 44, 50, 56, 62)
"""Pitches auto-casting chooses from (50 is the variant's own; 12 apart is about two semitones)."""
AUTO_RATES = (150, 160, 170, 180, 190)
"""Speaking rates (words per minute) auto-casting chooses from."""

DISTINCT = 2.0
"""Auto-casting keeps every voice at least this `distance` from the voices sharing its scenes."""
MAX_PARTNERS = 24
"""A character is kept apart from at most this many of its scene partners (the first in settling
order): a crowd of hundreds cannot all sound distinct, and checking every pair would be cubic."""
TOO_ALIKE = 1.0
"""Below this `distance` two voices are hard to tell apart: same accent and variant, pitch and rate close."""


def distance(a: Voice, b: Voice) -> float:
    """How easily two voices are told apart: a different variant (timbre) counts 2, a different accent 1,
    each 12 steps of pitch 1 and each 25 words per minute of rate 1; a different Piper speaker (or a Piper
    voice beside an espeak-ng one) counts 3."""
    if is_piper(a.voice) or is_piper(b.voice):
        timbre = 3.0 * (a.voice != b.voice)
    else:
        timbre = 2.0 * (a.variant.casefold() != b.variant.casefold()) + 1.0 * (a.base.casefold() != b.base.casefold())
    return timbre + abs(a.pitch - b.pitch) / 12 + abs(a.rate - b.rate) / 25


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


def _rank(name: str, voice: Voice) -> bytes:
    text = f"{_key(name)}|{voice.voice}|{voice.pitch}|{voice.rate}"
    return hashlib.sha256(text.encode("utf-8")).digest()


@functools.cache
def _pool(gender: str | None) -> tuple[Voice, ...]:
    variants = AUTO_VARIANTS.get(gender or "", AUTO_VARIANTS["male"] + AUTO_VARIANTS["female"])
    return tuple(Voice(f"{base}+{variant}", rate, pitch)
                 for base, variant, pitch, rate in itertools.product(AUTO_BASES, variants, AUTO_PITCHES, AUTO_RATES))


@functools.cache
def _piper_pool(folder: str) -> tuple[tuple[Voice, str | None], ...]:
    """Every installed Piper voice and speaker (with the voices folder `folder`), with its gender if known."""
    return tuple((Voice(info.id), info.gender) for info in list_piper_voices())


def piper_voices(gender: str | None) -> tuple[Voice, ...]:
    """The installed Piper voices auto-casting may give a character of `gender` (a voice whose gender
    is known only to one of that gender)."""
    pool = _piper_pool(str(voices_dir()))
    return tuple(voice for voice, known in pool if not (gender in ("male", "female") and known and known != gender))


def narrator(engine: str) -> Voice:
    """The narrator's voice when the cast gives none: the first Piper voice for `piper`, else espeak-ng's."""
    found = piper_voices(None) if engine == "piper" else ()
    return found[0] if found else Voice()


@functools.lru_cache(maxsize=4096)
def preferences(name: str, gender: str | None, engine: str = "espeak-ng") -> tuple[Voice, ...]:
    """Every voice auto-casting may give `name`, best first; `other` and unknown genders draw from both.
    For `piper`, the Piper voices come first, then espeak-ng's for when they run out."""
    own = tuple(sorted(_pool(gender), key=lambda voice: _rank(name, voice)))
    if engine != "piper":
        return own
    return tuple(sorted(piper_voices(gender), key=lambda voice: _rank(name, voice))) + own


def choose(name: str, gender: str | None, avoid: Iterable[Voice], engine: str = "espeak-ng") -> Voice:
    """The first of `name`'s preferences at least DISTINCT from every voice in `avoid`
    (failing that, the one farthest from them)."""
    avoid = tuple(avoid)
    best, farthest = None, -1.0
    for choice in preferences(name, gender, engine):
        nearest = min((distance(choice, other) for other in avoid), default=DISTINCT)
        if nearest >= DISTINCT:
            return choice
        if nearest > farthest:
            best, farthest = choice, nearest
    assert best is not None
    return best


def assign(
    genders: Mapping[str, str | None],
    fixed: Mapping[str, Voice],
    narrator: Voice,
    pairs: Iterable[frozenset[str]] = (),
    engine: str = "espeak-ng",
) -> dict[str, Voice]:
    """Voices for the characters in `genders` (name -> gender), kept apart from the narrator and, for
    every pair in `pairs` (characters who share a scene), from each other and from `fixed` voices.

    Characters are settled in an order fixed by their names alone, so a clash is always resolved the
    same way: the later one moves.
    """
    partners: dict[str, set[str]] = {}
    for pair in pairs:
        for name in pair:
            partners.setdefault(name, set()).update(pair - {name})
    chosen: dict[str, Voice] = {}
    for name in sorted(genders, key=_order):
        settled = [p for p in sorted(partners.get(name, ()), key=_order) if p in fixed or p in chosen]
        avoid = [narrator, *({**fixed, **chosen}[p] for p in settled[:MAX_PARTNERS])]
        chosen[name] = choose(name, genders[name], avoid, engine)
    return chosen


def fallback_notice(engine: str, chosen: Mapping[str, Voice], narrator: Voice) -> str | None:
    """For a Piper cast, one line naming who speaks with an espeak-ng voice for want of Piper voices:
    the characters auto-cast beyond the distinct Piper voices found, and the narrator when none was
    found; None when everyone auto-cast got a Piper voice."""
    fell = [name for name, voice in chosen.items() if not is_piper(voice.voice)]
    if engine != "piper" or not (fell or not is_piper(narrator.voice)):
        return None
    who = ([] if is_piper(narrator.voice) else ["the narrator"]) + fell
    return (f"too few Piper voices for the narrator and {len(chosen)} auto-cast characters "
            f"({len(piper_voices(None))} found in {where()}); espeak-ng voices for {', '.join(who)}")


def _order(name: str) -> bytes:
    """The order characters are settled in: fixed by their names alone."""
    return hashlib.sha256(_key(name).encode("utf-8")).digest()
