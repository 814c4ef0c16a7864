"""Binary-classifier figures of merit: ROC curve, AUC, background rejection, accuracy.

Conventions used throughout:

* ``labels`` (n,) holds 1 for signal and 0 for background; ``scores`` (n,) is any real
  number that is larger for more signal-like jets (a probability or a logit).
* A jet is *selected* at threshold ``t`` when ``score >= t``.
* ε_S (ε_B) is the fraction of signal (background) jets selected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata


def _check(labels: npt.ArrayLike, scores: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return (labels as bool (n,), scores as float64 (n,))."""
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=np.float64)
    if y.ndim != 1 or s.ndim != 1 or y.shape != s.shape:
        raise ValueError(
            f"labels and scores must be 1-d arrays of equal length, got {y.shape} and {s.shape}"
        )
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must contain only 0 (background) and 1 (signal)")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN or infinite values")
    y = y.astype(bool)
    if y.all() or not y.any():
        raise ValueError("need at least one signal (label 1) and one background (label 0) entry")
    return y, s


def roc_curve(labels: npt.ArrayLike, scores: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """ROC curve over every distinct threshold.

    Args:
        labels: (n,) in {0, 1}.
        scores: (n,) real; larger means more signal-like.

    Returns:
        ``(eps_s, eps_b)``, each (k + 1,) float64 with k the number of distinct scores: the
        signal and background efficiencies for thresholds at every distinct score, from the
        highest down, preceded by the point (0, 0).  Both are non-decreasing and end at
        (1, 1).  Tied scores are one threshold, so a tie between signal and background is a
        single diagonal step (the ROC of choosing at random among the tied jets).
    """
    y, s = _check(labels, scores)
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    # last index of each group of equal scores
    ends = np.flatnonzero(np.diff(s_sorted) != 0)
    ends = np.append(ends, s_sorted.size - 1)
    tp = np.cumsum(y_sorted)[ends]
    fp = (ends + 1) - tp
    eps_s = np.concatenate(([0.0], tp / y.sum()))
    eps_b = np.concatenate(([0.0], fp / (~y).sum()))
    return eps_s, eps_b


def auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Area under the ROC curve, the Mann–Whitney statistic.

    Equal to P(score of a random signal jet > score of a random background jet), with ties
    counting 1/2: 1.0 for perfect separation, 0.0 for perfectly reversed, 0.5 when all
    scores are equal.

    Args:
        labels: (n,) in {0, 1}.
        scores: (n,) real.
    """
    y, s = _check(labels, scores)
    n_s, n_b = int(y.sum()), int((~y).sum())
    ranks = rankdata(s, method="average")  # ties share their mean rank -> count 1/2
    u = ranks[y].sum() - n_s * (n_s + 1) / 2.0
    return float(u / (n_s * n_b))


def rejection_at(labels: npt.ArrayLike, scores: npt.ArrayLike, eps_s: float) -> float:
    """Background rejection 1/ε_B at signal efficiency ``eps_s`` (e.g. R50 for 0.5).

    ε_B is read off the ROC polyline of :func:`roc_curve` by linear interpolation (the ROC
    of a classifier that picks randomly between two neighbouring thresholds).  Where the
    curve has a vertical segment exactly at ``eps_s`` (background jets tied with nothing
    signal-like), the lowest ε_B on it is used: the best working point with that ε_S.

    Args:
        labels: (n,) in {0, 1}.
        scores: (n,) real.
        eps_s: target signal efficiency in [0, 1].

    Returns:
        1/ε_B; ``math.inf`` when ε_B = 0, i.e. no background jet survives the working point
        (with finite samples this means "larger than the number of background jets").
    """
    if not 0.0 <= eps_s <= 1.0:
        raise ValueError(f"eps_s must be in [0, 1], got {eps_s}")
    es, eb = roc_curve(labels, scores)
    exact = np.flatnonzero(es == eps_s)
    if exact.size:
        e_b = float(eb[exact[0]])  # eb is non-decreasing: the first point is the lowest
    else:
        j = int(np.searchsorted(es, eps_s, side="right"))  # first point with es > eps_s
        x0, x1, y0, y1 = es[j - 1], es[j], eb[j - 1], eb[j]
        e_b = float(y0 + (y1 - y0) * (eps_s - x0) / (x1 - x0))
    return math.inf if e_b <= 0.0 else 1.0 / e_b


def accuracy(labels: npt.ArrayLike, scores: npt.ArrayLike, threshold: float = 0.5) -> float:
    """Fraction of jets classified correctly, calling ``score >= threshold`` signal.

    Args:
        labels: (n,) in {0, 1}.
        scores: (n,) real (probabilities for the default threshold 0.5).
    """
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=np.float64)
    if y.ndim != 1 or y.shape != s.shape or y.size == 0:
        raise ValueError(
            f"labels and scores must be non-empty 1-d arrays of equal length, "
            f"got {y.shape} and {s.shape}"
        )
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must contain only 0 (background) and 1 (signal)")
    return float(np.mean((s >= threshold) == y.astype(bool)))


def summarize_seeds(values: Sequence[float]) -> dict[str, float | int]:
    """Mean and spread of one metric over independently seeded trainings.

    Returns:
        ``{"mean": ..., "std": ..., "n": ...}`` with ``std`` the sample standard deviation
        (ddof = 1), NaN when there is a single value; an empty sequence gives
        ``{"mean": nan, "std": nan, "n": 0}`` (check ``n`` before quoting an error).
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"need a flat sequence of numbers, got shape {v.shape}")
    mean = float(np.mean(v)) if v.size else math.nan
    std = float(np.std(v, ddof=1)) if v.size > 1 else math.nan
    return {"mean": mean, "std": std, "n": int(v.size)}


def weighted_auc(
    labels: npt.ArrayLike, scores: npt.ArrayLike, weights: npt.ArrayLike | None = None
) -> float:
    """AUC with per-event weights: P_w(score_s > score_b), ties counting 1/2.

    ``weights`` ``None`` (or all equal) gives :func:`auc` exactly.
    """
    y, s = _check(labels, scores)
    if weights is None:
        return auc(y, s)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != s.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite, non-negative and shaped like the scores")
    order = np.argsort(s, kind="stable")
    s, y, w = s[order], y[order], w[order]
    # group equal scores: background weight strictly below + half the tied background
    _, start = np.unique(s, return_index=True)
    group = np.searchsorted(start, np.arange(len(s)), side="right") - 1
    wb = np.where(~y, w, 0.0)
    tied_b = np.bincount(group, weights=wb)
    below_b = np.concatenate([[0.0], np.cumsum(tied_b)[:-1]])
    ws = np.where(y, w, 0.0)
    num = float(np.sum(ws * (below_b[group] + 0.5 * tied_b[group])))
    den = float(ws.sum() * wb.sum())
    if den <= 0:
        raise ValueError("weighted AUC needs positive signal and background weight")
    return num / den


def distance_correlation(
    x: npt.ArrayLike, y: npt.ArrayLike, max_n: int = 2000, seed: int = 0
) -> float:
    """Distance correlation dCor(x, y) in [0, 1] of two 1-d samples (Szekely et al. 2007).

    0 exactly when x and y are independent (in the large-sample limit), 1 for a linear
    relation; unlike Pearson's r it sees any dependence (e.g. y = x^2 on symmetric x).
    Samples above ``max_n`` events are subsampled (seeded) to bound the O(n^2) memory.
    """
    a = np.asarray(x, dtype=np.float64).ravel()
    b = np.asarray(y, dtype=np.float64).ravel()
    if a.shape != b.shape or a.size < 2:
        raise ValueError(f"need two samples of equal length >= 2, got {a.shape} and {b.shape}")
    if a.size > max_n:
        pick = np.random.default_rng(seed).choice(a.size, max_n, replace=False)
        a, b = a[pick], b[pick]

    def centred(v: np.ndarray) -> np.ndarray:
        d = np.abs(v[:, None] - v[None, :])
        return d - d.mean(axis=0)[None, :] - d.mean(axis=1)[:, None] + d.mean()

    A, B = centred(a), centred(b)
    dcov2 = (A * B).mean()
    dvar = (A * A).mean() * (B * B).mean()
    return float(np.sqrt(max(dcov2, 0.0) / np.sqrt(dvar))) if dvar > 0 else 0.0
