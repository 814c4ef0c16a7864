"""Combining cross-section estimates of independent shards."""

from __future__ import annotations

import math
from collections.abc import Sequence

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
