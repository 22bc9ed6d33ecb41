"""The shape of the code, checked so it cannot regress: no import cycle inside lite/ (type-only and
function-local imports included), no sys.path edits, no test file importing another."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

LITE = REPO / "lite"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The lite modules a file imports anywhere in it (top level, in functions, under TYPE_CHECKING)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from package import submodule` imports the submodule; `from module import name` the module
            targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules else origin for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = sorted(LITE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imported_modules(p, modules) for p in paths}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_is_read():
    graph = import_graph()
    assert "lite.model.spec" in graph["lite.model.families"]  # a plain relative import
    assert "lite.score.kernels_numba" in graph["lite.score.kernels"]  # a function-local `from . import x`
    assert "lite.store.hub" in graph["lite.store.open_source"]  # a function-local import
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycle_in_lite():
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle)


def python_files() -> list[Path]:
    return [p for top in ("lite", "tests", "tools", "bench") for p in sorted((REPO / top).rglob("*.py"))]


def test_no_sys_path_edits():
    edits = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr in ("insert", "append", "extend")
                    and isinstance(node.value, ast.Attribute) and node.value.attr == "path"
                    and isinstance(node.value.value, ast.Name) and node.value.value.id == "sys"):
                edits.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not edits, edits


def test_no_test_file_imports_another():
    offenders = []
    for path in sorted((REPO / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                leaf = name.rpartition(".")[2]
                if leaf.startswith("test_") or leaf == "conftest":
                    offenders.append(f"{path.name} imports {name}")
    assert not offenders, offenders


def test_no_function_in_lite_is_longer_than_60_lines():
    long = []
    for path in sorted((REPO / "lite").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})")
    assert not long, long


def test_the_pruner_is_a_small_api():
    from lite.prune import Pruner

    public = sorted(name for name, value in vars(Pruner).items() if not name.startswith("_") and callable(value))
    assert len(public) <= 8, public
    assert {"prune", "prune_messages", "compress_prompt", "importance", "count_tokens"} <= set(public)
