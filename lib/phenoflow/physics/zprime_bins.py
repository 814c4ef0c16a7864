"""Forward and backward pp -> e+e- cross sections in mass bins as a fast function of a Z'.

At LO the cross section in a bin is linear in the four partonic coefficients
(T_u, A_u, T_d, A_d) of :meth:`DrellYan.partonic_coefficients` at each mass:
the parton luminosities, the y integral and the (analytic) cos theta* integral
with the lepton cuts do not depend on the Z'.  :class:`BinnedDrellYan`
integrates those Z'-independent kernels once on a fine mass grid; a new Z'
(mass, g_quark, g_lepton) then costs only its partonic coefficients on that
grid, about a millisecond, which is what a parameter scan needs.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools

import numpy as np

from phenoflow.physics.drell_yan import DrellYan, ZPrime, _gauss_legendre_panels

# cos theta* ranges of the backward and forward halves
HALVES = ((-1.0, 0.0), (0.0, 1.0))


class BinnedDrellYan:
    """sigma_B, sigma_F [pb] in the mass bins ``m_edges`` [GeV] for any Z'.

    ``dy``  a Standard-Model :class:`DrellYan` (its cuts and parameters are used;
            its Z', if any, is ignored).
    ``panels_per_bin``  equal Gauss-Legendre panels (6 nodes each) per bin; 48
            resolve a Z' of width >= 0.3% of its mass to better than 1e-3.
    """

    def __init__(self, dy: DrellYan, m_edges: np.ndarray, panels_per_bin: int = 48) -> None:
        edges = np.asarray(m_edges, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("m_edges must be increasing bin edges [GeV]")
        if edges[0] < dy.cuts.m_min or edges[-1] > dy.cuts.m_max:
            raise ValueError(
                f"m_edges [{edges[0]}, {edges[-1]}] GeV must lie inside the cuts' window "
                f"[{dy.cuts.m_min}, {dy.cuts.m_max}] GeV"
            )
        self.dy = dy
        self.m_edges = edges
        fine = np.concatenate(
            [np.linspace(lo, hi, panels_per_bin + 1)[:-1] for lo, hi in itertools.pairwise(edges)]
            + [edges[-1:]]
        )
        self.m, w = _gauss_legendre_panels(fine, 6)
        self.bin_of_node = np.searchsorted(edges, self.m) - 1
        # kernels[h, j, node]: weight x (y, cos) integral of unit coefficient j in half h
        self.kernels = np.empty((len(HALVES), 4, self.m.size))
        for j in range(4):
            unit = copy.copy(dy)
            unit.partonic_coefficients = lambda m, j=j: tuple(  # type: ignore[method-assign,misc]
                np.full_like(m, float(i == j)) for i in range(4)
            )
            for h, (lo, hi) in enumerate(HALVES):
                self.kernels[h, j] = w * unit._y_integrated(self.m, lo, hi)

    @property
    def n_bins(self) -> int:
        return self.m_edges.size - 1

    def _coefficients(self, zprime: ZPrime | None) -> np.ndarray:
        """(4, nodes) partonic coefficients of the SM plus ``zprime``."""
        model = copy.copy(self.dy)
        model.params = dataclasses.replace(self.dy.params, zprime=zprime)
        model.width_zprime = zprime.width() if zprime is not None else 0.0
        return np.stack(model.partonic_coefficients(self.m))

    def sigma(self, zprime: ZPrime | None = None) -> np.ndarray:
        """(2, n_bins) [pb]: backward (cos theta* < 0) and forward cross sections per bin."""
        c = self._coefficients(zprime)
        per_node = np.einsum("hjk,jk->hk", self.kernels, c)
        out = np.zeros((len(HALVES), self.n_bins))
        for h in range(len(HALVES)):
            np.add.at(out[h], self.bin_of_node, per_node[h])
        return out

    def predict(self, theta: np.ndarray) -> np.ndarray:
        """(n, 2 n_bins) [pb] for (n, 3) Z' parameters (mass [GeV], g_quark, g_lepton).

        Columns: the backward cross sections of every bin, then the forward ones.
        """
        theta = np.atleast_2d(np.asarray(theta, dtype=np.float64))
        if theta.shape[1] != 3:
            raise ValueError(f"theta must be (n, 3): mass, g_quark, g_lepton; got {theta.shape}")
        return np.stack(
            [self.sigma(ZPrime(float(m), float(gq), float(gl))).ravel() for m, gq, gl in theta]
        ).reshape(len(theta), -1)
