"""Edits to the user's cast file that keep their comments, key order and layout (a round-trip YAML
library: PyYAML would drop the comments). Each function takes the file's text and gives the new text;
the studio checks the result with `load_cast` before it writes anything."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from audiodrama.casting.cast import VOICE_KEYS, Cast
from audiodrama.errors import InputError

NARRATOR = "narrator"
"""The name the page gives the narrator when it sets a voice."""
AUTO = "auto"
"""The voice that removes a character's `voice:` key, so the character is auto-cast again."""


def _yaml() -> YAML:
    yaml = YAML()  # round-trip mode: comments, key order and quoting kept
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line the user wrote
    return yaml


def _edit(text: str, change: Callable[[CommentedMap], None]) -> str:
    """The cast text after `change` has edited its parsed root mapping in place."""
    yaml = _yaml()
    try:
        root = yaml.load(text)
    except YAMLError as error:
        raise InputError(f"the cast file cannot be edited: {' '.join(str(error).split())}") from None
    if root is None:
        root = CommentedMap()
    if not isinstance(root, CommentedMap):
        raise InputError("the cast file is not a mapping of keys to values")
    change(root)
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()


def _section(parent: CommentedMap, key: str) -> CommentedMap:
    """`parent[key]` as a mapping, created (after the keys already there) when it is absent or empty."""
    if not isinstance(parent.get(key), CommentedMap):
        parent[key] = CommentedMap()
    return parent[key]


def _entry(cast: Cast, root: CommentedMap, name: str) -> CommentedMap:
    """The mapping of the character `name` (or the narrator), created when the file lacks it."""
    if name == NARRATOR:
        return _section(root, NARRATOR)
    character = cast.character(name)
    return _section(_section(root, "characters"), character.name if character else name)


def with_voice(text: str, cast: Cast, name: str, settings: Mapping[str, object]) -> str:
    """The cast with `settings` (voice, rate, pitch, volume) set for character `name` or the narrator;
    voice `auto` removes the character's voice so it is auto-cast."""
    unknown = set(settings) - set(VOICE_KEYS)
    if unknown:
        raise InputError(f"unknown voice setting {sorted(unknown)[0]!r}", hint="use " + ", ".join(VOICE_KEYS))

    def change(root: CommentedMap) -> None:
        entry = _entry(cast, root, name)
        for key, value in settings.items():
            if key == "voice" and value == AUTO:
                entry.pop("voice", None)
            elif key in entry:
                entry[key] = value
            else:  # new keys go before a character's `thought:` settings
                entry.insert(list(entry).index("thought") if "thought" in entry else len(entry), key, value)

    return _edit(text, change)


def with_character(text: str, cast: Cast, name: str, gender: str | None = None) -> str:
    """The cast with a new character `name` (gender optional, voice auto-cast)."""
    name = name.strip()
    if not name:
        raise InputError("a character needs a name")
    known = cast.character(name)
    if known is not None:
        raise InputError(f"{name!r} is already in the cast" + (f" (as {known.name!r})" if known.name != name else ""))

    def change(root: CommentedMap) -> None:
        _section(root, "characters")[name] = CommentedMap(gender=gender) if gender else CommentedMap()

    return _edit(text, change)


def with_alias(text: str, cast: Cast, name: str, alias: str) -> str:
    """The cast with `alias` added to the aliases of character `name`."""
    alias = alias.strip()
    character = cast.character(name)
    if character is None:
        raise InputError(f"no character {name!r} in the cast", hint="add the character first")
    if not alias:
        raise InputError("an alias needs some text")
    owner = cast.character(alias)
    if owner is not None:
        raise InputError(f"{alias!r} already names {owner.name!r}", hint="an alias names one character")

    def change(root: CommentedMap) -> None:
        entry = _entry(cast, root, character.name)
        if isinstance(entry.get("aliases"), CommentedSeq):
            entry["aliases"].append(alias)
        else:
            aliases = CommentedSeq([alias])
            aliases.fa.set_flow_style()
            entry.insert(0, "aliases", aliases)

    return _edit(text, change)
