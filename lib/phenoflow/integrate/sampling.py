"""Proposal densities and antithetic stratified sampling for the ``lestrat`` estimator.

A *component* maps the unit cube ``y in [0, 1]^d`` onto x-space with a known density
``q(x)``: :class:`MapComponent` is a frozen separable VEGAS map (``x`` stays in the
box), :class:`GaussianComponent` is ``x = mean + L Phi^-1(y)`` (a multivariate normal;
points outside the box are dropped, they carry ``f = 0``).

A :class:`StratifiedDesign` cuts the y cube into ``nstrat[d]`` cells per axis and puts
``n_pairs`` antithetic pairs ``(y0 + u h, y0 + (1 - u) h)`` in each cell: for a smooth
integrand the linear variation inside a cell cancels in each pair, and the spread of
the ``n_pairs`` independent pair sums gives an unbiased variance for each cell.

Several components with ``n_k`` points each are combined with the balance heuristic
(multiple importance sampling): every point, whichever component drew it, contributes
``f(x) / sum_k n_k q_k(x)``, an unbiased estimate of the integral whose variance is the
sum of the per-cell variances of all components.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import vegas
from scipy.special import ndtri

LOG_2PI = math.log(2.0 * math.pi)


def grid_of(m: vegas.AdaptiveMap) -> list[np.ndarray]:
    """The nodes of ``m`` per axis: a list of d arrays of shape (ninc_d + 1,)."""
    return [np.asarray(g, dtype=np.float64) for g in m.extract_grid()]


def _nodes_from_mass(edges: np.ndarray, mass: np.ndarray, n_inc: int) -> np.ndarray:
    """Nodes of ``n_inc`` equal-mass increments of a piecewise-constant 1D density.

    ``edges`` (m + 1,) bin edges, ``mass`` (m,) non-negative bin masses (not all zero).
    """
    cdf = np.concatenate([[0.0], np.cumsum(mass)])
    cdf /= cdf[-1]
    nodes = np.interp(np.linspace(0.0, 1.0, n_inc + 1), cdf, edges)
    nodes[0], nodes[-1] = edges[0], edges[-1]
    # coincident nodes would make a zero-width increment (infinite density)
    tiny = (edges[-1] - edges[0]) * 1e-12
    gaps = np.maximum(np.diff(nodes), tiny)
    nodes = (
        edges[0] + np.concatenate([[0.0], np.cumsum(gaps)]) * (edges[-1] - edges[0]) / gaps.sum()
    )
    nodes[-1] = edges[-1]
    return nodes


def tempered_map(m: vegas.AdaptiveMap, tau: float, ninc: np.ndarray) -> vegas.AdaptiveMap:
    """A map whose density per axis is ``∝ q_d^tau`` with ``ninc[d]`` equal-mass increments.

    ``tau = 1`` keeps the shape of ``m`` (only re-binning), ``tau = 0`` gives the uniform
    map.  ``ninc`` (d,) ints.  A broader map (``tau < 1``) suits stratified sampling.
    """
    out = []
    for gd, n in zip(grid_of(m), ninc, strict=True):
        inc = np.diff(gd)
        density = np.power(1.0 / np.maximum(inc, 1e-300), tau)
        out.append(_nodes_from_mass(gd, density * inc, int(n)))
    return vegas.AdaptiveMap(out)


def map_from_samples(
    x: np.ndarray, v: np.ndarray, bounds: np.ndarray, ninc: int, floor: float = 0.05
) -> vegas.AdaptiveMap:
    """A separable map fitted to weighted samples: per axis the weighted marginal of ``v``.

    ``x`` (n, d) points, ``v`` (n,) non-negative weights (e.g. ``|f| / q_sample``),
    ``bounds`` (d, 2).  Each axis uses ``ninc`` equal-mass increments of the weighted
    empirical distribution, mixed with a fraction ``floor`` of the uniform density so
    the map never starves a region.
    """
    grids = []
    for d in range(x.shape[1]):
        lo, hi = bounds[d]
        order = np.argsort(x[:, d], kind="stable")
        xs = x[order, d]
        cw = np.cumsum(v[order])
        if cw[-1] <= 0:
            grids.append(np.linspace(lo, hi, ninc + 1))
            continue
        # fine bins with the weighted mass, then mix in the uniform floor
        edges = np.concatenate(
            [[lo], np.interp(np.linspace(0, cw[-1], 4 * ninc + 1)[1:-1], cw, xs), [hi]]
        )
        edges = np.maximum.accumulate(np.clip(edges, lo, hi))
        mass = np.full(len(edges) - 1, 1.0 / (len(edges) - 1))
        width = np.diff(edges)
        mass = (1.0 - floor) * mass + floor * width / (hi - lo)
        keep = width > 0
        grids.append(_nodes_from_mass(np.concatenate([[lo], edges[1:][keep]]), mass[keep], ninc))
    return vegas.AdaptiveMap(grids)


def choose_nstrat(n_cells: int, dim: int) -> np.ndarray:
    """Cells per axis (d,) with product <= ``n_cells``, as even as possible (like vegas)."""
    n_cells = max(int(n_cells), 1)
    ns = max(math.floor(n_cells ** (1.0 / dim) + 1e-9), 1)
    while (ns + 1) ** dim <= n_cells:
        ns += 1
    while ns > 1 and ns**dim > n_cells:
        ns -= 1
    nstrat = np.full(dim, ns, dtype=np.int64)
    for d in range(dim):
        trial = nstrat.copy()
        trial[d] += 1
        if np.prod(trial, dtype=np.float64) <= n_cells:
            nstrat = trial
    return nstrat


@dataclass(frozen=True)
class StratifiedDesign:
    """``nstrat[d]`` cells per axis of the y cube, ``n_pairs`` antithetic pairs per cell."""

    nstrat: np.ndarray
    n_pairs: int = 2

    @classmethod
    def for_points(cls, n_points: int, dim: int, n_pairs: int = 2) -> StratifiedDesign:
        """The design with the most cells whose point count is <= ``n_points`` (>= 1 cell)."""
        return cls(choose_nstrat(n_points // (2 * n_pairs), dim), n_pairs)

    @property
    def dim(self) -> int:
        return len(self.nstrat)

    @property
    def n_cells(self) -> int:
        return int(np.prod(self.nstrat, dtype=np.int64))

    @property
    def points_per_cell(self) -> int:
        return 2 * self.n_pairs

    @property
    def n_points(self) -> int:
        return self.n_cells * self.points_per_cell

    def chunks(self, rng: np.random.Generator, max_points: int = 262_144) -> Iterator[np.ndarray]:
        """Yield y chunks (m, d) covering all cells in order, laid out [cell][pair][2]."""
        ppc = self.points_per_cell
        cells_per_chunk = max(max_points // ppc, 1)
        nstrat = self.nstrat.astype(np.float64)
        for start in range(0, self.n_cells, cells_per_chunk):
            cells = np.arange(start, min(start + cells_per_chunk, self.n_cells), dtype=np.int64)
            corner = np.empty((len(cells), self.dim))
            rem = cells.copy()
            for d in range(self.dim):
                corner[:, d] = rem % self.nstrat[d]
                rem //= self.nstrat[d]
            u = rng.random((len(cells), self.n_pairs, self.dim))
            uu = np.stack([u, 1.0 - u], axis=2)  # (cells, pairs, 2, d)
            y = (corner[:, None, None, :] + uu) / nstrat
            yield np.ascontiguousarray(y.reshape(-1, self.dim))


def cell_sums(contrib: np.ndarray, n_pairs: int) -> tuple[float, float]:
    """Integral and variance from per-point contributions laid out [cell][pair][2].

    ``contrib`` (n_cells * n_pairs * 2,) values (0 where f was not needed).  Returns
    ``(sum, variance)``: the variance is the sum over cells of the unbiased variance of
    the cell sum, estimated from its ``n_pairs`` independent pair sums.
    """
    pairs = contrib.reshape(-1, n_pairs, 2).sum(axis=2)  # (cells, pairs)
    s1 = pairs.sum(axis=1)
    s2 = np.einsum("ij,ij->i", pairs, pairs)
    var = (n_pairs * s2 - s1 * s1) / (n_pairs - 1)
    return float(s1.sum()), float(np.maximum(var, 0.0).sum())


class MapComponent:
    """A frozen separable VEGAS map as a proposal: ``x = x(y)``, ``q = 1 / (dx/dy)``."""

    kind = "map"

    def __init__(self, m: vegas.AdaptiveMap) -> None:
        nodes = grid_of(m)
        if any(np.any(np.diff(n) <= 0) for n in nodes):
            # an adapted map can collapse increments to zero width (infinite density)
            m = tempered_map(m, 1.0, np.array([len(n) - 1 for n in nodes]))
            nodes = grid_of(m)
        self.map = m
        self.nodes = nodes

    def transform(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """y (n, d) -> (x (n, d), log q(x) (n,), valid (n,) bool)."""
        x = np.empty_like(y)
        jac = np.empty(y.shape[0])
        self.map.map(y, x, jac)
        return x, -np.log(jac), np.ones(len(y), dtype=bool)

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """log q(x) for points ``x`` (n, d) inside the box.

        Computed here rather than with ``AdaptiveMap.invmap``, which reads uninitialised
        grid padding when the axes have different numbers of increments.
        """
        out = np.zeros(x.shape[0])
        for d, nodes in enumerate(self.nodes):
            n_inc = len(nodes) - 1
            i = np.clip(np.searchsorted(nodes, x[:, d], side="right") - 1, 0, n_inc - 1)
            out -= np.log(np.diff(nodes)[i] * n_inc)
        return out


class GaussianComponent:
    """A multivariate normal proposal ``x = mean + L z``, ``z = Phi^-1(y)``.

    ``mean`` (d,), ``chol`` (d, d) lower-triangular, ``bounds`` (d, 2): points outside
    the box are flagged invalid (the integrand is zero there).
    """

    kind = "gauss"

    def __init__(self, mean: np.ndarray, chol: np.ndarray, bounds: np.ndarray) -> None:
        self.mean = mean
        self.chol = chol
        self.bounds = bounds
        self.log_norm = -0.5 * len(mean) * LOG_2PI - float(np.sum(np.log(np.diag(chol))))

    def transform(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """y (n, d) -> (x (n, d), log q(x) (n,), valid (n,) bool: inside the box)."""
        z = ndtri(np.clip(y, 1e-300, 1.0 - 1e-16))
        x = self.mean + z @ self.chol.T
        logq = self.log_norm - 0.5 * np.einsum("ij,ij->i", z, z)
        valid = np.all((x >= self.bounds[:, 0]) & (x <= self.bounds[:, 1]), axis=1)
        return x, logq, valid

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """log q(x) for points ``x`` (n, d)."""
        from scipy.linalg import solve_triangular

        z = solve_triangular(self.chol, (x - self.mean).T, lower=True).T
        return self.log_norm - 0.5 * np.einsum("ij,ij->i", z, z)


def fit_gaussian(x: np.ndarray, v: np.ndarray, bounds: np.ndarray) -> GaussianComponent | None:
    """The normal with the weighted mean and covariance of ``x`` (n, d) under weights ``v``.

    Returns ``None`` when the weights are too concentrated (effective sample size
    below ``10 d``) or the covariance is singular.
    """
    total = float(v.sum())
    if total <= 0:
        return None
    w = v / total
    ess = 1.0 / float(np.sum(w * w))
    d = x.shape[1]
    if ess < 10 * d:
        return None
    mean = w @ x
    dx = x - mean
    cov = (dx * w[:, None]).T @ dx
    cov = 0.5 * (cov + cov.T) + np.diag((bounds[:, 1] - bounds[:, 0]) ** 2 * 1e-12)
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return None
    return GaussianComponent(mean, chol, bounds)
