"""The library's shape: no import cycles among phenoflow modules, no overlong functions.

Both checks read the source with ``ast`` (nothing is imported), so they see every import,
including relative ones, ones inside functions and ones under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from pathlib import Path

LIB = Path(__file__).resolve().parents[2] / "lib"
PACKAGE = "phenoflow"
MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted((LIB / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(LIB).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The phenoflow modules that the module ``name`` (file ``path``) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        # an attribute of a module (``from a.b import func``) counts as its module
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            if source.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                add(submodule if submodule in modules else source)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first search, sorted for stable output)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def long_functions(limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, str, int]]:
    """(qualified name, file, lines) of every function longer than ``limit`` lines.

    A function's length runs from its ``def`` line to its last line, docstring included.
    """
    out = []

    def walk(node: ast.AST, prefix: str, path: Path) -> None:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    length = child.end_lineno - child.lineno + 1  # type: ignore[operator]
                    if length > limit:
                        out.append((name, str(path.relative_to(LIB.parent)), length))
                name += "."
            walk(child, name, path)

    for path in _modules().values():
        walk(ast.parse(path.read_text(), str(path)), "", path)
    return out


def test_the_checker_sees_every_kind_of_import(tmp_path, monkeypatch):
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import b\n")
    (pkg / "sub" / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "sub" / "b.py").write_text("import phenoflow.c\n")
    (pkg / "c.py").write_text("from phenoflow.sub.a import f\n")
    monkeypatch.setitem(globals(), "LIB", tmp_path)
    graph = import_graph()
    assert graph["phenoflow.sub"] == {"phenoflow.sub.b"}
    assert graph["phenoflow.sub.a"] == {"phenoflow.sub.b"}
    assert graph["phenoflow.c"] == {"phenoflow.sub.a"}
    assert find_cycle(graph) == ["phenoflow.c", "phenoflow.sub.a", "phenoflow.sub.b", "phenoflow.c"]


def test_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 50
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle among phenoflow modules: " + " -> ".join(cycle or [])


def test_no_function_longer_than_the_limit():
    found = long_functions()
    listing = "\n".join(f"  {name} in {file}: {n} lines" for name, file, n in sorted(found))
    assert not found, f"functions longer than {MAX_FUNCTION_LINES} lines:\n{listing}"
