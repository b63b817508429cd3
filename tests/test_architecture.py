"""The house's shape: stages import one way, no circles, no room holding two jobs.

The import graph is read from the source with `ast` (every `import` and `from ... import`, at any
depth, type-checking-only ones included), so a new backwards import fails here before it tangles the
pipeline.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "audiodrama"

STAGES = (
    ("errors", "files", "yamlfile", "runtime"),
    ("text",),
    ("script",),
    ("synthesis",),
    ("attribution",),
    ("mixing",),
    ("settings",),
    ("export",),
    ("casting",),
    ("episode",),
    ("series",),
    ("studio",),
    ("cli", "__main__"),
)
"""Every top-level module or package, in pipeline order: each may import only from its own group and
the groups before it (infrastructure first, the command line last)."""

LONG_MODULES: dict[str, str] = {}
"""Modules allowed over MAX_LINES, each with the reason it must be one room."""
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    """Dotted module name (without `audiodrama.`) -> file, for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name or "__init__"] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The package's own modules that `name` imports."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
                module = f"audiodrama.{base}".rstrip(".")
            else:
                module = node.module or ""
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for full in names:
            if full == "audiodrama" or not full.startswith("audiodrama."):
                continue
            inner = full.removeprefix("audiodrama.")
            while inner and inner not in MODULES:
                inner = inner.rpartition(".")[0]
            if inner and inner != name:
                targets.add(inner)
    return targets


GRAPH = {name: _imports(name, path) for name, path in MODULES.items() if name != "__init__"}


def _stage(module: str) -> int:
    top = module.split(".")[0]
    for index, group in enumerate(STAGES):
        if top in group:
            return index
    raise AssertionError(f"audiodrama.{top} is in no stage of STAGES: add it where it belongs in the pipeline")


def test_every_module_belongs_to_a_stage() -> None:
    for module in GRAPH:
        _stage(module)


def test_no_import_circles_between_modules() -> None:
    try:
        tuple(TopologicalSorter(GRAPH).static_order())
    except CycleError as error:
        pytest.fail(f"modules import each other in a circle: {' -> '.join(error.args[1])}")


def test_stages_import_only_from_earlier_stages() -> None:
    backwards = sorted(f"{module} imports {target}" for module, targets in GRAPH.items() for target in targets
                       if _stage(target) > _stage(module))
    assert not backwards, "imports against the pipeline: " + "; ".join(backwards)


def test_no_room_holds_two_jobs() -> None:
    long = {name: lines for name, path in MODULES.items()
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES and name not in LONG_MODULES}
    assert not long, f"modules over {MAX_LINES} lines (split them, or say in LONG_MODULES why not): {long}"


def test_the_graph_is_read() -> None:
    """The reader finds real edges, so the tests above cannot pass by reading nothing."""
    assert "text.chapter" in GRAPH["script"]
    assert "script" in GRAPH["attribution"]
