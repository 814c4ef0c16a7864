"""Helpers for the Snakefile (imported at DAG-build time: keep imports light)."""

from __future__ import annotations

import os


def export_library_path(lib: str) -> None:
    """Put ``lib`` first on PYTHONPATH so every job imports phenoflow from this checkout.

    Jobs run in the venv, a ``--sdm conda`` environment or on a cluster node;
    in all of them the adapters must import the library version that the DAG
    (and the code hashes in its params) was built from.
    """
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != lib]
    os.environ["PYTHONPATH"] = os.pathsep.join([lib, *parts])
