"""Combining cross-section estimates of independent shards."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def combine_cross_sections(
    sigmas: Sequence[float], errors: Sequence[float], weights: Sequence[float]
) -> tuple[float, float]:
    """Event-weighted mean of per-shard cross sections and its error [pb].

    Shards are independent estimates; with weights w_i (events per shard)
    the mean is sum(w sigma)/sum(w) and its error sqrt(sum(w^2 err^2))/sum(w).
    """
    w = np.asarray(weights, dtype=float)
    s = np.asarray(sigmas, dtype=float)
    e = np.asarray(errors, dtype=float)
    if w.size == 0 or w.sum() <= 0:
        return math.nan, math.nan
    return float((w * s).sum() / w.sum()), float(np.sqrt((w**2 * e**2).sum()) / w.sum())


def sample_card(
    index: int,
    label: int,
    flows: Sequence[Mapping[str, int]],
    sigmas: Sequence[tuple[float | None, float, int]],
) -> dict[str, Any]:
    """A sample's entry in a dataset card, from its shards' cut flows and cross sections.

    ``flows``: per shard, cumulative event counts after each cut (``events`` first, the
    selected events last); ``sigmas``: per shard, (sigma, error, events) in pb.  The
    efficiency is selected / generated, and the fiducial cross section sigma x efficiency.
    """
    flow = {k: int(sum(f[k] for f in flows)) for k in flows[0]}
    known = [(s, e, n) for s, e, n in sigmas if s is not None and n]
    sigma = err = None
    if known:
        sigma, err = combine_cross_sections(*zip(*known, strict=True))
    eff = list(flow.values())[-1] / flow["events"] if flow["events"] else 0.0
    return {
        "index": index,
        "label": label,
        "cut_flow": flow,
        "efficiency": eff,
        "sigma_pb": sigma,
        "sigma_err_pb": err,
        "fiducial_sigma_pb": None if sigma is None else sigma * eff,
    }
