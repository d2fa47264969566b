"""The package's shape holds: no import cycle between modules, and each vendor stays in the package that wraps it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "assistant"

VENDOR_HOMES = {
    "streamlit": ("assistant.ui",),
    "langchain_core": ("assistant.models",),
    "langchain_openai": ("assistant.models",),
    "openai": ("assistant.models",),
    "chromadb": ("assistant.knowledge",),
}
"""Third-party package → the only sub-packages allowed to import it (app.py is the Streamlit entry point)."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> set[str]:
    """Every module name imported anywhere in the file, lazy imports inside functions included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {imported for imported in _imports(path) if imported in modules} - {name}
        for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (its modules in order), or None; iterative depth-first search."""
    state: dict[str, str] = {}
    for start in graph:
        if start in state:
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        path = [start]
        state[start] = "open"
        while stack:
            node, todo = stack[-1]
            if not todo:
                state[node] = "done"
                stack.pop()
                path.pop()
                continue
            nxt = todo.pop()
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                state[nxt] = "open"
                stack.append((nxt, sorted(graph[nxt])))
                path.append(nxt)
    return None


def test_the_import_graph_of_the_package_has_no_cycle():
    """A cycle (even one hidden behind a lazy import inside a function) fails with the modules that form it."""
    cycle = _cycle(_graph())
    assert cycle is None, " → ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle():
    """The check above could fail: a made-up graph with a cycle is caught, one without is not."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize("vendor", sorted(VENDOR_HOMES))
def test_each_vendor_is_imported_only_by_the_package_that_wraps_it(vendor: str):
    homes = VENDOR_HOMES[vendor]
    offenders = [
        name
        for name, path in _modules().items()
        if not name.startswith(homes)
        and any(imported == vendor or imported.startswith(f"{vendor}.") for imported in _imports(path))
    ]
    assert offenders == []
