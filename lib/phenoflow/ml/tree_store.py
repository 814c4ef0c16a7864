"""Boosted-tree models on disk without pickle: skops.io, with an explicit trusted-types list.

A pickle runs whatever code its bytes name when it is read; a skops file is a zip of a JSON
schema and ``.npy`` arrays, and :func:`load_trees` refuses, before building anything, a
file whose schema names a type outside the defaults of skops and :data:`TRUSTED_TYPES`.

skops names the arrays and the object memo after ``id()`` and stamps the zip members with
the time; :func:`save_trees` renumbers both in schema order and writes fixed timestamps, so
the same model gives the same bytes on every run (the reproducibility contract).
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

# the one type of a fitted HistGradientBoostingClassifier that skops does not trust by default
TRUSTED_TYPES = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)
_ARRAY_FILE = re.compile(r"(\d+)\.npy")
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest zip timestamp


def _renumber(node: Any, ids: dict[int, int]) -> Any:
    """The schema with every object id (``__id__``, ``<id>.npy``) replaced by its rank."""
    if isinstance(node, list):
        return [_renumber(v, ids) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k == "__id__" and isinstance(v, int):
            out[k] = ids.setdefault(v, len(ids))
        elif k == "file" and isinstance(v, str) and _ARRAY_FILE.fullmatch(v):
            out[k] = f"{ids.setdefault(int(v[:-4]), len(ids))}.npy"
        else:
            out[k] = _renumber(v, ids)
    return out


def _canonical(blob: bytes) -> bytes:
    """The skops zip ``blob`` with ids renumbered and fixed timestamps (same model, same bytes)."""
    ids: dict[int, int] = {}
    with zipfile.ZipFile(io.BytesIO(blob)) as src:
        schema = _renumber(json.loads(src.read("schema.json")), ids)
        members = [(i.filename, src.read(i)) for i in src.infolist() if i.filename != "schema.json"]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for name, data in members:
            m = _ARRAY_FILE.fullmatch(name)
            if m is None or int(m.group(1)) not in ids:
                raise ValueError(f"skops archive member {name!r} is not named in its schema")
            dst.writestr(zipfile.ZipInfo(f"{ids[int(m.group(1))]}.npy", _EPOCH), data)
        dst.writestr(zipfile.ZipInfo("schema.json", _EPOCH), json.dumps(schema, indent=2))
    return out.getvalue()


def save_trees(model: Any, path: str | os.PathLike[str]) -> None:
    """Write a fitted scikit-learn tree model to ``path`` (skops), atomically and reproducibly."""
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(_canonical(sio.dumps(model)))
    tmp.replace(path)


def load_trees(path: str | os.PathLike[str], expected: type | None = None) -> Any:
    """Read a model written by :func:`save_trees`; ``expected``: the class it must be.

    Raises ``ValueError`` naming the file if it is no skops archive (e.g. a pickle) or its
    schema names a type outside the trusted ones; nothing in the file is built before that
    check.
    """
    import skops.io as sio

    path = Path(path)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise ValueError(
            f"{path}: not a skops model file ({type(exc).__name__}: {exc}); "
            "rerun the rule that writes it"
        ) from exc
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ValueError(
            f"{path}: refusing to load a model that names untrusted types {refused} "
            f"(trusted: the skops defaults and {list(TRUSTED_TYPES)})"
        )
    model = sio.load(path, trusted=list(TRUSTED_TYPES))
    if expected is not None and not isinstance(model, expected):
        raise ValueError(f"{path}: holds a {type(model).__name__}, expected a {expected.__name__}")
    return model
