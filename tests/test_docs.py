"""Docs that cannot drift: every command, option and file key the code accepts is documented.

As sqlite-utils' own `test_docs.py` does, the lists come from the code (the CLI's click commands, the
readers' key tuples and the settings dataclasses), so adding a command, an option or a key without
documenting it fails here.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from audiodrama import cli, script, settings
from audiodrama.casting import cast

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


def _doc(*names: str) -> str:
    return "\n".join((DOCS / name).read_text(encoding="utf-8") for name in names)


ALL_DOCS = (REPO / "README.md").read_text(encoding="utf-8") + "\n" + "\n".join(
    path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.md")))


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """(`audiodrama sub command`, command) for every click command the CLI offers (typer vendors its
    own click, so groups are told by their sub-commands, not by class)."""
    if hasattr(group, "commands"):
        for name, command in group.commands.items():
            yield from _commands(command, (*prefix, name))
    else:
        yield " ".join(("audiodrama", *prefix)), group


COMMANDS = dict(_commands(typer.main.get_command(cli.app)))


def test_the_cli_has_commands() -> None:
    assert {"audiodrama produce", "audiodrama script", "audiodrama batch", "audiodrama cast init"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_documented_with_help(name: str) -> None:
    assert name in ALL_DOCS, f"`{name}` is in no doc (README.md or docs/*.md)"
    assert (COMMANDS[name].help or "").strip(), f"`{name} --help` says nothing about what it does"


@pytest.mark.parametrize(
    ("name", "option"),
    sorted((name, option) for name, command in COMMANDS.items() for param in command.params
           if param.param_type_name == "option" for option in param.opts if option.startswith("--")),
)
def test_every_option_is_documented(name: str, option: str) -> None:
    assert re.search(rf"{re.escape(option)}\b", ALL_DOCS), f"`{name} {option}` is in no doc"


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _keys_in(text: str, keys: tuple[str, ...]) -> list[str]:
    """The keys of `keys` that `text` never names as `key` or `key:`."""
    return [key for key in keys if not re.search(rf"(`{re.escape(key)}`|^\s*-?\s*{re.escape(key)}:)", text, re.M)]


@pytest.mark.parametrize(
    ("doc", "keys"),
    [
        ("cast-format.md", cast.TOP_KEYS + cast.CHARACTER_KEYS),
        ("production-settings.md", settings.TOP_KEYS),
        ("production-settings.md", _fields(settings.Settings().pauses.__class__)),
        ("production-settings.md", _fields(settings.Settings().levels.__class__)),
        ("production-settings.md", settings.AMBIENCE_KEYS),
        ("script-format.md", script.JSONL_KEYS + script.YAML_KEYS),
    ],
    ids=["cast", "settings", "pauses", "levels", "ambience", "script"],
)
def test_every_file_key_is_documented(doc: str, keys: tuple[str, ...]) -> None:
    assert not _keys_in(_doc(doc), keys), f"{doc} does not document {_keys_in(_doc(doc), keys)}"


def test_every_series_key_is_documented() -> None:
    from audiodrama.series import manifest

    keys = manifest.SERIES_KEYS + manifest.EPISODE_KEYS
    assert not _keys_in(_doc("series-format.md"), keys)


def test_every_segment_kind_is_documented() -> None:
    assert not _keys_in(_doc("script-format.md"), tuple(kind.value for kind in script.SCRIPT_KINDS))
