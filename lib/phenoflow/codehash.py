"""Hash of the library code a workflow rule runs.

Snakemake's code trigger only sees the adapter script, not the lib modules it
imports.  Every rule therefore carries ``adapter_code_hash(its script)`` in its
params: the hash covers the adapter and, transitively, every ``phenoflow``
module it imports (found by walking the source's syntax tree, function-level
imports included), so editing one of them reruns exactly the rules that reach
it.  Nothing is listed by hand.
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
    """Names of phenoflow modules imported by the file at ``path`` (module name ``module``)."""
    is_pkg = path.name == "__init__.py"
    return _tree_imports(path, module if is_pkg else module.rpartition(".")[0])


def _tree_imports(path: Path, package: str) -> set[str]:
    """Phenoflow modules imported anywhere in the file at ``path``, relative to ``package``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if not package:
                    raise ValueError(f"{path}: relative import outside a package")
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


def script_closure(script: str | Path) -> tuple[str, ...]:
    """Sorted phenoflow modules a script (a workflow adapter) reaches through its imports."""
    mods: set[str] = set()
    for mod in _tree_imports(Path(script), ""):
        mods.update(module_closure(mod))
    return tuple(sorted(mods))


def adapter_code_hash(script: str | Path) -> str:
    """Short SHA-256 over an adapter script and every phenoflow module it reaches.

    This is the ``code`` param of every rule: editing the adapter or any module
    in its import closure changes it (and so reruns the rule); editing any other
    module does not.
    """
    path = Path(script)
    h = hashlib.sha256(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in script_closure(path):
        mod_path = _module_path(name)
        assert mod_path is not None
        h.update(name.encode() + b"\0" + mod_path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
