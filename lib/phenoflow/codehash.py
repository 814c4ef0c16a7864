"""Hash of the library code a workflow rule runs.

Snakemake's code trigger only sees the adapter script, not the lib modules it
imports.  Rules therefore carry ``code_hash("phenoflow.generation.pythia")``
in their params: the hash covers that module and, transitively, every
``phenoflow`` module it imports, so editing one of them reruns exactly the
rules that use it.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = "phenoflow"
LIB_ROOT = Path(__file__).resolve().parent


def _module_path(module: str) -> Path | None:
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = LIB_ROOT.joinpath(*parts[1:])
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _imports(path: Path, module: str) -> set[str]:
    """Names of phenoflow modules imported by the file at ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_pkg = path.name == "__init__.py"
    package = module if is_pkg else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                continue
            found.add(target)
            # `from phenoflow.io import parquet` imports a submodule
            found.update(f"{target}.{a.name}" for a in node.names)
    return {m for m in found if _module_path(m) is not None}


@cache
def module_closure(module: str) -> tuple[str, ...]:
    """Sorted names of ``module`` and every phenoflow module it imports, transitively."""
    if _module_path(module) is None:
        raise ValueError(f"unknown phenoflow module {module!r}")
    seen: set[str] = set()
    todo = [module]
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        # a submodule import also runs its parent packages' __init__
        parts = mod.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        path = _module_path(mod)
        if path is not None:
            todo.extend(_imports(path, mod) - seen)
    return tuple(sorted(seen))


def code_hash(*modules: str) -> str:
    """Short SHA-256 over the source of ``modules`` and their phenoflow imports."""
    h = hashlib.sha256()
    names = sorted({m for mod in modules for m in module_closure(mod)})
    for name in names:
        path = _module_path(name)
        assert path is not None
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
