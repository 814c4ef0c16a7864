"""A multi-modal task's dataset: selected b bbar events, kinematics and radiation images.

``{outdir}/{train,val,test}/<array>.npy`` and ``{outdir}/card.json``:

==================  ==============  ==========================================================
``kinematics``      (n, K) float32  :data:`~phenoflow.jets.bbevents.KINEMATIC_FEATURES`,
                                    standardised with the training split's mean and spread
``image_plain``     (n, S, S) f32   log(1 + sum pT / GeV) over rotated (eta', phi')
``image_riemann``   (n, S, S) f32   log(1 + sum pT / GeV) over (psi, arcsin z)
``labels``          (n,) int8       1 signal, 0 background
``weights``         (n,) float32    1, or the background reweighted to the signal's
                                    (pT_bb, eta_bb, m_bb) when the task says ``reweight``
``pt_bb`` ...       (n,) float32    ``pt_bb``, ``eta_bb``, ``m_bb``, ``dr_bb`` (unstandardised)
``event_id``        (n,) int64      the event ids; ``process`` (n,) int8 index into the card
==================  ==============  ==========================================================

The split of an event is a hash of (seed, process, event id): the same event lands in the
same split whatever else changes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from phenoflow.analyses.multimodal.spec import MultimodalDatasetSpec
from phenoflow.io.parquet import read_events, read_metadata
from phenoflow.io.splits import load_split, standardise, write_dataset
from phenoflow.jets.bbevents import (
    KINEMATIC_FEATURES,
    BBSelection,
    bb_axis,
    kinematic_features,
    select_bb_events,
)
from phenoflow.jets.datasets import split_of
from phenoflow.jets.radiation import RadiationImageConfig, radiation_images
from phenoflow.physics.cross_sections import sample_card

log = logging.getLogger(__name__)

AXIS_KEYS = ("pt_bb", "eta_bb", "m_bb", "dr_bb")


def selection_of(spec: MultimodalDatasetSpec) -> BBSelection:
    s = spec.selection
    return BBSelection(
        r=s["r"],
        pt_min=(float(s["pt_min"][0]), float(s["pt_min"][1])),
        eta_max=s["eta_max"],
        m_window=(float(s["m_window"][0]), float(s["m_window"][1])),
        dr_max=s["dr_max"],
        match_r=s["match_r"],
    )


def image_config_of(spec: MultimodalDatasetSpec) -> RadiationImageConfig:
    return RadiationImageConfig(**spec.image)


def _shard_arrays(
    path: Path, process: str, spec: MultimodalDatasetSpec
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """The selected events of one event shard as flat arrays, and its cut flow."""
    events = read_events(path)
    sel, flow = select_bb_events(events, selection_of(spec))
    images = radiation_images(sel.particles, sel.b_jets, image_config_of(spec))
    axis = bb_axis(sel.b_jets)
    out = {
        "kinematics": kinematic_features(sel.b_jets).astype(np.float32),
        "image_plain": np.log1p(images["plain"]).astype(np.float32),
        "image_riemann": np.log1p(images["riemann"]).astype(np.float32),
        "event_id": np.asarray(sel.event_id, dtype=np.int64),
        "generator_weight": np.asarray(sel.weight, dtype=np.float64),
        **{k: np.asarray(axis[k], dtype=np.float32) for k in AXIS_KEYS},
    }
    out["split"] = split_of(process, out["event_id"], spec.split, spec.seed)
    return out, flow


def _collect(
    spec: MultimodalDatasetSpec, inputs: Mapping[str, Sequence[str | os.PathLike[str]]]
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    """Every process's selected events, concatenated (signal processes first)."""
    parts: list[dict[str, np.ndarray]] = []
    processes: dict[str, dict[str, Any]] = {}
    for index, process in enumerate(spec.processes):
        label = 1 if process in spec.signal else 0
        flows, sigmas = [], []
        for path in map(Path, inputs[process]):
            arrays, flow = _shard_arrays(path, process, spec)
            arrays["labels"] = np.full(len(arrays["event_id"]), label, dtype=np.int8)
            arrays["process"] = np.full(len(arrays["event_id"]), index, dtype=np.int8)
            parts.append(arrays)
            flows.append(flow)
            meta = read_metadata(path)
            sigmas.append((meta.get("sigma_pb"), meta.get("sigma_err_pb") or 0.0, flow["events"]))
            log.info("%s: %d of %d events selected", path, len(arrays["labels"]), flow["events"])
        processes[process] = sample_card(index, label, flows, sigmas)
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return merged, processes


def reweight_background(
    data: Mapping[str, np.ndarray], train: np.ndarray, bins: Mapping[str, int]
) -> tuple[np.ndarray, dict[str, Any]]:
    """Weights that give the background the signal's (pT_bb, eta_bb, m_bb) distribution.

    A 3-d histogram ratio signal / background with quantile bin edges of the training
    events; signal events keep weight 1.  Background events in bins without training
    background keep 1; the weights are normalised so that the background's sum of
    weights equals its number of events.
    """
    labels = data["labels"]
    edges = []
    for key in ("pt_bb", "eta_bb", "m_bb"):
        q = np.quantile(data[key][train], np.linspace(0.0, 1.0, bins[key] + 1))
        q[0], q[-1] = -np.inf, np.inf
        edges.append(np.unique(q))
    coords = np.stack([data[k] for k in ("pt_bb", "eta_bb", "m_bb")], axis=1)
    sig, _ = np.histogramdd(coords[train & (labels == 1)], bins=edges)
    bkg, _ = np.histogramdd(coords[train & (labels == 0)], bins=edges)
    ratio = np.where(bkg > 0, sig / np.maximum(bkg, 1) * bkg.sum() / max(sig.sum(), 1), 1.0)
    idx = tuple(
        np.clip(np.searchsorted(e, coords[:, i], side="right") - 1, 0, len(e) - 2)
        for i, e in enumerate(edges)
    )
    w = np.where(labels == 0, ratio[idx], 1.0)
    bkg_all = labels == 0
    w[bkg_all] *= bkg_all.sum() / max(w[bkg_all].sum(), 1e-300)
    wb = w[bkg_all]
    info = {
        "bins": dict(bins),
        "max_weight": float(wb.max()) if wb.size else None,
        "effective_background_events": float(wb.sum() ** 2 / max((wb**2).sum(), 1e-300)),
    }
    return w.astype(np.float32), info


def build_multimodal_dataset(
    spec: MultimodalDatasetSpec,
    inputs: Mapping[str, Sequence[str | os.PathLike[str]]],
    outdir: str | os.PathLike[str],
) -> dict[str, Any]:
    """Write the dataset of ``spec.task`` from event shards per process; return its card.

    Written into ``<outdir>.tmp`` and renamed, so a failed job leaves nothing behind.
    """
    data, processes = _collect(spec, inputs)
    for name in ("signal", "background"):
        if not np.any(data["labels"] == (name == "signal")):
            raise ValueError(
                f"multimodal task {spec.task!r}: no {name} event passes the selection "
                f"{spec.selection} (cut flows: {[p['cut_flow'] for p in processes.values()]})"
            )
    train = data["split"] == 0
    data["kinematics"], standard = standardise(data["kinematics"], train)
    rw_info = None
    if spec.reweight:
        data["weights"], rw_info = reweight_background(data, train, spec.reweight_bins)
    else:
        data["weights"] = np.ones(len(data["labels"]), dtype=np.float32)
    card = {
        "task": spec.task,
        "signal": list(spec.signal),
        "background": list(spec.background),
        "processes": processes,
        "kinematic_features": list(KINEMATIC_FEATURES),
        "standardisation": standard,
        "image": dict(spec.image),
        "selection": dict(spec.selection),
        "reweight": rw_info,
        "config_hash": spec.config_hash,
    }
    return write_dataset(data, card, outdir)


__all__ = ["build_multimodal_dataset", "load_split", "reweight_background"]
