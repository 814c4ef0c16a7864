"""How well a scan did: efficiency, calls to N in-target points, coverage of the cells.

Coverage of the MLscanner test functions.  For O = [2 + prod_i cos(x_i / a_i)]^5 the
target L > t is a window lo < prod_i cos(x_i / a_i) < hi with 0 < lo < hi < 1 (for the
paper's c = 100, sigma = 20, t = 0.9: 0.464 < prod < 0.556).  The product reaches +1
at the lattice points x_i = a_i pi k_i with an even number of odd k_i, and every
in-target point sits in a closed shell around one of them: |cos(x_i / a_i)| > lo forces
each x_i within a_i arccos(lo) < a_i pi / 2 of a multiple of a_i pi, and between two
maxima the product passes through 0.  So a point's cell is the nearest such lattice
point (k_i = round(x_i / (a_i pi))).

For the 3D function (a = 7, box [-10 pi, 10 pi]^3) the lattice coordinates are
k_i in {-1, 0, 1} (|7 pi k| = 22 < 31.4; the shell reaches at most 7 arccos(lo) = 7.6
further, inside the box), with an even number of non-zero k: (0, 0, 0) and the 12
points with two of the three k_i = +-1, i.e. 13 cells, all whole shells of equal
volume (cos is symmetric about 0 and about pi, so they are congruent).
:func:`grid_components` confirms 13 by connected components on a dense grid.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from phenoflow.scan.objectives import CosineLikelihood
from phenoflow.scan.result import ScanResult, efficiency_per_iteration

__all__ = [
    "CoverageReport",
    "calls_to_reach",
    "cosine_cell_labels",
    "cosine_cells",
    "coverage",
    "efficiency_per_iteration",
    "grid_components",
]


def calls_to_reach(result: ScanResult, n_target: int) -> int | None:
    """Objective calls after which ``n_target`` in-target points had been found, or None."""
    if n_target < 1:
        raise ValueError(f"n_target must be >= 1, got {n_target}")
    cumulative = np.cumsum(result.in_target)
    hit = np.searchsorted(cumulative, n_target)  # first index with cumulative >= n_target
    return int(hit) + 1 if hit < len(cumulative) else None


def cosine_cells(objective: CosineLikelihood) -> np.ndarray:
    """(m, d) int lattice coordinates k of the cells (maxima x = a pi k) that reach the box.

    Needs a target window above 0 (lo > 0).  A maximum counts when its shell, which
    extends at most a_i arccos(lo) from it along each axis, reaches into the box.
    """
    lo, _ = objective.product_window()
    if not lo > 0:
        raise ValueError(f"the cell structure needs a product window above 0, got lo = {lo}")
    reach = math.acos(lo)
    ranges = []
    for a in objective.periods:
        k_max = math.floor((objective.half_width / a + reach) / math.pi)
        ranges.append(
            [
                k
                for k in range(-k_max, k_max + 1)
                if a * (math.pi * abs(k) - reach) < objective.half_width
            ]
        )
    cells = [k for k in itertools.product(*ranges) if sum(abs(v) for v in k) % 2 == 0]
    return np.array(cells, dtype=np.int64).reshape(-1, objective.dim)


def cosine_cell_labels(objective: CosineLikelihood, points: np.ndarray) -> np.ndarray:
    """(n,) index into :func:`cosine_cells` of the cell of each (n, d) point; -1 if none.

    Meaningful for in-target points (each lies in exactly one cell); other points get
    the nearest lattice point, or -1 when that is a minimum or outside the list.
    """
    cells = cosine_cells(objective)
    points = np.asarray(points, dtype=np.float64).reshape(-1, objective.dim)
    k = np.rint(points / (np.pi * np.asarray(objective.periods))).astype(np.int64)
    lookup = {tuple(c): i for i, c in enumerate(cells.tolist())}
    return np.array([lookup.get(tuple(row), -1) for row in k.tolist()], dtype=np.int64)


@dataclass(frozen=True)
class CoverageReport:
    """Population of each cell by a set of in-target points.

    ``cells`` (m, d) lattice coordinates, ``counts`` (m,), ``deviation`` (m,) =
    counts / mean(counts) (1 = average; NaN when no point at all), ``unassigned`` =
    points in no cell (0 for in-target points).
    """

    cells: np.ndarray
    counts: np.ndarray
    deviation: np.ndarray
    unassigned: int

    @property
    def n_cells(self) -> int:
        return len(self.cells)

    @property
    def n_found(self) -> int:
        return int(np.count_nonzero(self.counts))

    @property
    def all_found(self) -> bool:
        return self.n_found == self.n_cells

    @property
    def max_abs_deviation(self) -> float:
        """max |counts / mean - 1| over cells (0.5 = some cell is 50% off the mean)."""
        return float(np.max(np.abs(self.deviation - 1.0)))


def coverage(objective: CosineLikelihood, points: np.ndarray | ScanResult) -> CoverageReport:
    """Cell populations of (n, d) in-target points (or of a scan's in-target points)."""
    if isinstance(points, ScanResult):
        points = points.target_points
    cells = cosine_cells(objective)
    labels = cosine_cell_labels(objective, points)
    counts = np.bincount(labels[labels >= 0], minlength=len(cells))
    mean = counts.mean() if len(cells) else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        deviation = counts / mean if mean > 0 else np.full(len(cells), np.nan)
    return CoverageReport(
        cells=cells,
        counts=counts,
        deviation=deviation,
        unassigned=int(np.count_nonzero(labels < 0)),
    )


def grid_components(
    in_target: Callable[[np.ndarray], np.ndarray],
    bounds: np.ndarray,
    n_per_dim: int,
) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected components of the target on a regular grid of cell centres.

    ``in_target`` maps (n, d) points to (n,) bool; the grid has ``n_per_dim`` cell
    centres per dimension of the box ``bounds`` (d, 2); components are face-, edge- and
    corner-connected (full connectivity).  Returns (number of components, (n_comp, d)
    centroid of each component, (n_comp,) grid points per component).  The grid must be
    finer than the thinnest part of the target, or a shell may break up.
    """
    bounds = np.asarray(bounds, dtype=np.float64)
    d = len(bounds)
    axes = [lo + (hi - lo) * (np.arange(n_per_dim) + 0.5) / n_per_dim for lo, hi in bounds]
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    mask = np.asarray(in_target(mesh), dtype=bool).reshape((n_per_dim,) * d)
    labels, n = ndimage.label(mask, structure=np.ones((3,) * d, dtype=bool))
    flat = labels.reshape(-1)
    sizes = np.bincount(flat, minlength=n + 1)[1:]
    centroids = np.stack(
        [np.bincount(flat, weights=mesh[:, i], minlength=n + 1)[1:] / sizes for i in range(d)],
        axis=-1,
    )
    return n, centroids, sizes
