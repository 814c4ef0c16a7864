"""The two-fat-jet dataset: every signal mass point and background, one split per event.

``{outdir}/{train,val,test}/<array>.npy`` (arrays of :func:`phenoflow.jets.dijet_events.
dijet_inputs`, ``kinematics`` standardised with the training split) plus:

==============  ============  =============================================================
``labels``      (n,) int8     1 for every signal mass point, 0 for the backgrounds
``process``     (n,) int8     index into the card's ``processes``
``mass``        (n,) float32  m_H [GeV]: the sample's for signal; for background one of the
                              signal masses, drawn per event from a hash of its id (the
                              usual trick of mass-parameterised networks)
``kinematics_raw``  (n, K)    the high-level kinematics in GeV (for cuts and figures)
==============  ============  =============================================================
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from phenoflow.analyses.multiscale.spec import MultiscaleDatasetSpec
from phenoflow.io.parquet import iter_events, read_metadata
from phenoflow.io.splits import standardise, write_dataset
from phenoflow.jets.datasets import split_of
from phenoflow.jets.dijet_events import (
    KIN_TOKEN_FEATURES,
    KINEMATIC_FEATURES,
    DijetSelection,
    dijet_inputs,
)
from phenoflow.physics.cross_sections import sample_card

log = logging.getLogger(__name__)


def selection_of(spec: MultiscaleDatasetSpec) -> DijetSelection:
    return DijetSelection(**spec.selection)


def _shard(path: Path, selection: DijetSelection) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """The selected events of one shard (row group by row group) and its cut flow."""
    parts, flows = [], []
    for chunk in iter_events(path):
        arrays, flow = dijet_inputs(chunk, selection)
        parts.append(arrays)
        flows.append(flow)
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return merged, {k: int(sum(f[k] for f in flows)) for k in flows[0]}


def _background_mass(event_id: np.ndarray, process: str, masses: Sequence[float]) -> np.ndarray:
    salt = zlib.crc32(f"mass/{process}".encode())
    h = (event_id.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt)) >> np.uint64(
        33
    )
    return np.asarray(masses, dtype=np.float32)[(h % np.uint64(len(masses))).astype(np.int64)]


def _collect(
    spec: MultiscaleDatasetSpec, inputs: Mapping[str, Sequence[str | os.PathLike[str]]]
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    selection = selection_of(spec)
    masses = sorted(spec.signal.values())
    parts, processes = [], {}
    for index, process in enumerate(spec.processes):
        label = int(process in spec.signal)
        flows, sigmas = [], []
        for path in map(Path, inputs[process]):
            arrays, flow = _shard(path, selection)
            n = len(arrays["event_id"])
            arrays["labels"] = np.full(n, label, dtype=np.int8)
            arrays["process"] = np.full(n, index, dtype=np.int8)
            arrays["mass"] = (
                np.full(n, spec.signal[process], dtype=np.float32)
                if label
                else _background_mass(arrays["event_id"], process, masses)
            )
            arrays["split"] = split_of(process, arrays["event_id"], spec.split, spec.seed)
            parts.append(arrays)
            flows.append(flow)
            meta = read_metadata(path)
            sigmas.append((meta.get("sigma_pb"), meta.get("sigma_err_pb") or 0.0, flow["events"]))
            log.info("%s: %d of %d events selected", path, n, flow["events"])
        processes[process] = sample_card(index, label, flows, sigmas)
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return merged, processes


def build_multiscale_dataset(
    spec: MultiscaleDatasetSpec,
    inputs: Mapping[str, Sequence[str | os.PathLike[str]]],
    outdir: str | os.PathLike[str],
) -> dict[str, Any]:
    """Write the dataset from event shards per process; return its card.

    Written into ``<outdir>.tmp`` and renamed, so a failed job leaves nothing behind.
    """
    data, processes = _collect(spec, inputs)
    for name, label in (("signal", 1), ("background", 0)):
        if not np.any(data["labels"] == label):
            raise ValueError(
                f"multiscale: no {name} event has two fat jets passing {spec.selection} "
                f"(cut flows: {[p['cut_flow'] for p in processes.values()]})"
            )
    data.pop("weight")
    data["kinematics_raw"] = data["kinematics"].copy()
    data["kinematics"], standard = standardise(data["kinematics"], data["split"] == 0)
    card = {
        "processes": processes,
        "signal_masses": dict(spec.signal),
        "kinematic_features": list(KINEMATIC_FEATURES),
        "kin_token_features": list(KIN_TOKEN_FEATURES),
        "standardisation": standard,
        "selection": dict(spec.selection),
        "config_hash": spec.config_hash,
    }
    return write_dataset(data, card, outdir)
