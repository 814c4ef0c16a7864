"""Keys of resumable state (checkpoints, caches): only the job that wrote it may resume it.

A job's output is determined by three things, hashed separately so that a mismatch can
say which one changed:

``settings``  the spec's params (``spec.to_params()``);
``data``      the content of the input files (:func:`dataset_fingerprint`);
``code``      the rule's code hash (``snakemake.params.code``, see ``phenoflow.codehash``).

A resumable artifact stores its key; whoever reads it compares with
:func:`key_differences` and starts afresh on any difference.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

KEY_PARTS = ("settings", "data", "code")


def resume_key(
    spec_params: Mapping[str, Any], code_hash: str, data_fingerprint: str
) -> dict[str, str]:
    """The key of one job: ``{"settings": sha256 of the params, "data": ..., "code": ...}``."""
    blob = json.dumps(spec_params, sort_keys=True, separators=(",", ":")).encode()
    return {
        "settings": hashlib.sha256(blob).hexdigest(),
        "data": str(data_fingerprint),
        "code": str(code_hash),
    }


def key_differences(stored: Mapping[str, Any] | None, current: Mapping[str, Any]) -> list[str]:
    """The parts of :data:`KEY_PARTS` in which ``stored`` (``None``: no key) differs from ``current``."""
    stored = stored if isinstance(stored, Mapping) else {}
    return [p for p in KEY_PARTS if stored.get(p) != current.get(p)]


def dataset_fingerprint(directory: str | os.PathLike[str]) -> str:
    """SHA-256 over a dataset's ``card.json`` and every split array ``<split>/*.npy``.

    Each file contributes its path relative to ``directory``, its size and its bytes, in
    sorted path order, so renaming, resizing or editing any array changes the result.
    Reads every byte once (streamed): cost is one pass over the dataset.
    """
    root = Path(directory)
    card = root / "card.json"
    if not card.is_file():
        raise FileNotFoundError(f"{card}: no dataset card (is {root} a dataset directory?)")
    h = hashlib.sha256()
    for path in [card, *sorted(root.glob("*/*.npy"))]:
        rel = path.relative_to(root).as_posix()
        h.update(f"{rel}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as fh:
            h.update(hashlib.file_digest(fh, "sha256").digest())
    return h.hexdigest()
