"""Tagger inputs from a dataset split directory (``results/datasets/{task}/{split}``).

Every tagger takes the same dict of arrays (B = jets, N = constituents, S = subjets):
``features`` (B, N, 13) float32, ``mask`` (B, N) bool, ``p4`` (B, N, 4) float32
(px, py, pz, E [GeV]), ``subjet_features`` (B, S, 6) float32 (deta, dphi, ln pT,
ln E, ln pT/pT_jet, ln E/E_jet of the subjets of one algorithm), ``subjet_mask``
(B, S) bool, ``labels`` (B,) int8, plus ``substructure`` (B, k) for the baselines.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from phenoflow.jets.datasets import SUBSTRUCTURE_COLUMNS, load_split
from phenoflow.jets.pipeline import JET_FIELDS

SUBJET_FEATURES = ("deta", "dphi", "log_pt", "log_e", "log_pt_rel", "log_e_rel")
_FLOOR = 1e-30


def subjet_features(subjets: np.ndarray, subjet_mask: np.ndarray, jet: np.ndarray) -> np.ndarray:
    """(B, S, 6) features of subjets (B, S, 4: px, py, pz, E) relative to the jet (B, 8: JET_FIELDS)."""
    px, py, pz, e = (subjets[..., i].astype(np.float64) for i in range(4))
    pt = np.hypot(px, py)
    eta = np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=pt > 0))
    phi = np.arctan2(py, px)
    j = {f: jet[:, i].astype(np.float64)[:, None] for i, f in enumerate(JET_FIELDS)}
    dphi = (phi - j["phi"] + np.pi) % (2 * np.pi) - np.pi
    out = np.stack(
        [
            eta - j["eta"],
            dphi,
            np.log(np.maximum(pt, _FLOOR)),
            np.log(np.maximum(e, _FLOOR)),
            np.log(np.maximum(pt, _FLOOR) / j["pt"]),
            np.log(np.maximum(e, _FLOOR) / j["E"]),
        ],
        axis=-1,
    )
    return np.where(subjet_mask[..., None], out, 0.0).astype(np.float32)


def load_tagging_split(
    directory: str | os.PathLike[str], subjet_algorithm: str = "ca"
) -> dict[str, np.ndarray]:
    """The tagger inputs of one split, with subjets of ``subjet_algorithm``."""
    arrays = load_split(Path(directory))
    key = f"subjets_{subjet_algorithm}"
    if key not in arrays:
        algos = sorted(
            k.removeprefix("subjets_")
            for k in arrays
            if k.startswith("subjets_") and not k.endswith("_mask")
        )
        raise ValueError(
            f"{directory}: no subjets of algorithm {subjet_algorithm!r}; available: {algos}"
        )
    if "p4" not in arrays:
        raise ValueError(f"{directory}: no constituent four-momenta ('p4'): rebuild the dataset")
    sub_mask = np.asarray(arrays[f"{key}_mask"], dtype=bool)
    return {
        "features": arrays["features"],
        "mask": arrays["mask"],
        "p4": arrays["p4"],
        "subjet_features": subjet_features(
            np.asarray(arrays[key]), sub_mask, np.asarray(arrays["jet"])
        ),
        "subjet_mask": sub_mask,
        "labels": np.asarray(arrays["labels"]).astype(np.int64),
        "substructure": np.asarray(arrays["substructure"]),
    }


def substructure_column(data: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    return data["substructure"][:, SUBSTRUCTURE_COLUMNS.index(name)]
