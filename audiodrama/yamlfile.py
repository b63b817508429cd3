"""Safe YAML reading for the user's files, with every value's line and column kept for messages.

Files are composed into nodes with the safe loader (no tag ever constructs a Python object),
anchors/aliases are refused (they serve no purpose in these files and allow "billion laughs"
bombs), duplicate keys are refused, and every error names file:line:column.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from audiodrama.errors import InputError

MAX_DEPTH = 50
"""Deepest nesting of lists and mappings read (the files need 4; the YAML composer recurses)."""

RANGE = "yaml_range"
"""Field metadata key: the (lowest, highest) a number read from a user's file may take."""
T = TypeVar("T")

STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


def bounded(default: Any, low: float, high: float) -> Any:
    """A dataclass field whose value, when read from a user's YAML file, must lie in [low, high]: the
    range is declared beside the field it bounds, and read by `Node.numbers` and `Node.field_number`."""
    return field(default=default, metadata={RANGE: (low, high)})


def field_range(cls: type, name: str) -> tuple[float, float]:
    """The [low, high] range `bounded` declared for field `name` of dataclass `cls`."""
    return next(f.metadata[RANGE] for f in dataclasses.fields(cls) if f.name == name)


def present(node: Node | None) -> bool:
    """True when a key was given a value (not left out, not empty, not `null`)."""
    return node is not None and not node.is_null()


@dataclass(frozen=True)
class Node:
    """A YAML node with the file it came from, for located error messages."""

    node: yaml.Node
    """The composed node."""
    path: str
    """The file it was read from."""

    def error(self, message: str, hint: str | None = None) -> InputError:
        """An InputError pointing at this node."""
        line, column = self.position
        return InputError(message, path=self.path, line=line, column=column, hint=hint)

    def mapping(self, what: str) -> Iterator[tuple[str, Node]]:
        """The (key, value) pairs of a mapping node, keys as strings."""
        if not isinstance(self.node, yaml.MappingNode):
            raise self.error(f"{what} must be a mapping of keys to values")
        for key_node, value_node in self.node.value:
            key = Node(key_node, self.path)
            if not isinstance(key_node, yaml.ScalarNode):
                raise key.error(f"a key in {what} must be a plain name")
            yield str(key_node.value), Node(value_node, self.path)

    def check_keys(self, what: str, allowed: tuple[str, ...]) -> None:
        """Refuse keys of a mapping not in `allowed`, suggesting the closest one."""
        for key, value in self.mapping(what):
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else "allowed: " + ", ".join(allowed)
                raise Node(self._key_node(key), self.path).error(f"unknown key {key!r} in {what}", hint)
            del value

    def _key_node(self, key: str) -> yaml.Node:
        return next(k for k, _ in self.node.value if k.value == key)

    @property
    def position(self) -> tuple[int, int]:
        """(line, column) where the node starts, counted from 1."""
        mark = self.node.start_mark
        return mark.line + 1, mark.column + 1

    def plain(self, what: str = "a value") -> object:
        """The node and everything under it as plain Python values (dicts, lists, scalars)."""
        try:
            return yaml.SafeLoader("").construct_object(self.node, deep=True)
        except ValueError:  # an integer of thousands of digits
            raise self.error(f"{what} is a number too long to read") from None

    def sequence(self, what: str) -> list[Node]:
        """The items of a sequence node."""
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.error(f"{what} must be a list, like [a, b]")
        return [Node(item, self.path) for item in self.node.value]

    def is_null(self) -> bool:
        """True for an empty value or `null`."""
        return isinstance(self.node, yaml.ScalarNode) and self.node.tag.endswith(":null")

    def value(self, what: str) -> object:
        """The plain Python value of a scalar node (str, int, float, bool or None)."""
        if not isinstance(self.node, yaml.ScalarNode):
            raise self.error(f"{what} must be a single value, not a list or mapping")
        return self.plain(what)

    def text(self, what: str) -> str:
        """A scalar as text (numbers are accepted and turned into text)."""
        value = self.value(what)
        if value is None or isinstance(value, bool):
            raise self.error(f"{what} must be text")
        return str(value)

    def file(self, what: str, base: Path) -> Path:
        """A file name, relative to `base` unless absolute."""
        name = self.text(what)
        if "\0" in name or not name.strip():
            raise self.error(f"{what} {name!r} is not a usable file name")
        return base / name

    def existing_file(self, what: str, base: Path) -> Path:
        """A file name, relative to `base` unless absolute, of a file that exists."""
        path = self.file(what, base)
        try:
            found = path.is_file()
        except OSError as error:  # a name too long
            raise self.error(f"{what} cannot be read: {error.strerror}") from None
        if not found:
            raise self.error(f"{what} not found: {path}", f"paths are relative to {Path(self.path).name}")
        return path

    def flag(self, what: str) -> bool:
        """A `true` or `false`."""
        value = self.value(what)
        if not isinstance(value, bool):
            raise self.error(f"{what} must be true or false, not {value!r}")
        return value

    def choice(self, what: str, allowed: tuple[Any, ...]) -> Any:
        """One of the `allowed` values."""
        value = self.value(what)
        if value not in allowed:
            raise self.error(f"{what} must be one of {', '.join(map(str, allowed))}, not {value!r}")
        return value

    def field_number(self, what: str, cls: type, name: str) -> int | float:
        """A number for field `name` of dataclass `cls`, within the range the field declares, whole when
        the field's default is."""
        integer = isinstance(next(f.default for f in dataclasses.fields(cls) if f.name == name), int)
        number = self.number(what, *field_range(cls, name), integer=integer)
        return int(number) if integer else float(number)

    def numbers(self, what: str, defaults: T) -> T:
        """A mapping of numbers read into a copy of the frozen dataclass `defaults`, every key a field
        with its declared range."""
        self.check_keys(what, tuple(f.name for f in dataclasses.fields(defaults)))
        cls = type(defaults)
        values = {key: value.field_number(f"{key} in {what}", cls, key) for key, value in self.mapping(what)}
        return dataclasses.replace(defaults, **values)

    def number(self, what: str, low: float, high: float, integer: bool = False) -> float:
        """A number within [low, high]."""
        value = self.value(what)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
            kind = "a whole number" if integer else "a number"
            raise self.error(f"{what} must be {kind} from {low:g} to {high:g}, not {value!r}")
        if not low <= value <= high:
            raise self.error(f"{what} must be from {low:g} to {high:g}, not {value!r}")
        return value


def _check_tree(node: yaml.Node, path: str) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.tag not in STANDARD_TAGS:
            raise Node(current, path).error(
                f"YAML tag {current.tag!r} is not allowed", "remove the tag; only plain values are read"
            )
        if isinstance(current, yaml.MappingNode):
            seen: dict[str, yaml.Node] = {}
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode) and key.value in seen:
                    raise Node(key, path).error(f"duplicate key {key.value!r}", "keep only one of them")
                if isinstance(key, yaml.ScalarNode):
                    seen[key.value] = key
                stack.extend((key, value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def read_yaml(path: str | Path, what: str) -> Node | None:
    """Compose a YAML file into checked nodes; None for an empty document.

    `what` names the kind of file for messages ("cast file").
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found", path=file, hint="check the path") from None
    except IsADirectoryError:
        raise InputError(f"{what} is a directory, not a file", path=file) from None
    except OSError as error:
        raise InputError(f"cannot read {what}: {error.strerror}", path=file) from None
    try:
        source = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{what} is not UTF-8 text (byte {error.start})", path=file,
                         hint="save it as UTF-8") from None
    try:
        depth = 0
        for event in yaml.parse(source, Loader=yaml.SafeLoader):
            mark = event.start_mark
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise InputError("YAML anchors and aliases (&name, *name) are not supported", path=file,
                                 line=mark.line + 1, column=mark.column + 1, hint="write the values out")
            depth += isinstance(event, yaml.CollectionStartEvent) - isinstance(event, yaml.CollectionEndEvent)
            if depth > MAX_DEPTH:
                raise InputError(f"lists and mappings nested more than {MAX_DEPTH} deep", path=file,
                                 line=mark.line + 1, column=mark.column + 1, hint=f"fix the {what}'s structure")
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(str(error.problem or error.context or "invalid YAML").split())
        raise InputError(f"YAML syntax error: {problem}", path=file,
                         line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None,
                         hint=f"fix the {what}'s syntax") from None
    except yaml.YAMLError as error:
        raise InputError(f"YAML error: {' '.join(str(error).split())}", path=file) from None
    if node is None:
        return None
    _check_tree(node, str(file))
    return Node(node, str(file))
