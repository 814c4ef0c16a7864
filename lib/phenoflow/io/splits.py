"""Datasets as one ``.npy`` file per array and split: ``<dir>/{train,val,test}/<array>.npy``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from phenoflow.io.json import write_json

SPLITS = ("train", "val", "test")


def write_splits(data: Mapping[str, np.ndarray], outdir: Path) -> dict[str, dict[str, int]]:
    """Write every array but ``split`` (the split index 0, 1, 2 per row) per split.

    Returns the number of signal (``labels == 1``) and background rows per split.
    """
    counts = {}
    for i, name in enumerate(SPLITS):
        sel = data["split"] == i
        (outdir / name).mkdir(parents=True, exist_ok=True)
        for key, values in data.items():
            if key != "split":
                np.save(outdir / name / f"{key}.npy", np.ascontiguousarray(values[sel]))
        lab = data["labels"][sel]
        counts[name] = {"signal": int((lab == 1).sum()), "background": int((lab == 0).sum())}
    return counts


def write_dataset(
    data: Mapping[str, np.ndarray], card: Mapping[str, Any], outdir: str | os.PathLike[str]
) -> dict[str, Any]:
    """Write ``data`` split by split (:func:`write_splits`) and ``card.json`` into ``outdir``.

    ``card`` gets the split counts as ``splits``.  Everything is written into
    ``<outdir>.tmp`` and renamed, so a failed job leaves nothing behind.
    """
    out = Path(outdir)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        full = {**card, "splits": write_splits(data, tmp)}
        write_json(full, tmp / "card.json")
        shutil.rmtree(out, ignore_errors=True)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return full


def load_split(directory: str | os.PathLike[str], split: str) -> dict[str, np.ndarray]:
    """The arrays of one split of a dataset, in memory."""
    path = Path(directory) / split
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such dataset split (rebuild the dataset)")
    return {p.stem: np.load(p) for p in sorted(path.glob("*.npy"))}


def standardise(x: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, dict[str, list[float]]]:
    """``x`` shifted and scaled by the mean and spread of the ``train`` rows (float32)."""
    mean = x[train].mean(axis=0)
    std = x[train].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return ((x - mean) / std).astype(np.float32), {"mean": mean.tolist(), "std": std.tolist()}
