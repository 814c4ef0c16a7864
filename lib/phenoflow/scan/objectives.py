"""Objectives with known answers, and a generic chi-square objective for pseudo-data.

Every objective is a callable (n, d) -> (n,) with a ``bounds`` (d, 2) box and a
``threshold`` to pass on to :func:`phenoflow.scan.explore` (None for boolean ones), e.g.
``explore(f, f.bounds, 10_000, threshold=f.threshold)``.  Score objectives also have
``log_density(scores)`` for the Metropolis-Hastings baseline.

* :class:`CosineLikelihood`: the test functions of MLscanner (arXiv:2207.09959),
  O(x) = [2 + prod_i cos(x_i / a_i)]^5 on [-10 pi, 10 pi]^d with the likelihood
  L = exp(-(O - c)^2 / (2 sigma^2)), c = 100, sigma = 20, target L > 0.9.
  :data:`FUNCTION_3D` (a = 7, 7, 7), :data:`FUNCTION_2D_5_7`, :data:`FUNCTION_2D_2_2`.
  (The 2D versions keep c = 100, sigma = 20; MLscanner's regressor notebook for
  a = (5, 7) uses sigma = 50 - pass ``sigma=50`` to reproduce it.)
* :class:`BoxTarget`, :class:`BallsTarget`: boolean targets of known volume;
  :func:`rare_balls_target` has < 1% of the box.
* :class:`PseudoMeasurement`: chi-square of a calculator's binned prediction against
  pseudo-data; in target = chi2 < limit (e.g. the 95% CL Delta chi2 for the number of
  parameters).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

HALF_WIDTH = 10.0 * math.pi


def _as_points(x: np.ndarray, d: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"expected points of shape (n, {d}), got {x.shape}")
    return x


@dataclass(frozen=True)
class CosineLikelihood:
    """L(x) = exp(-(O(x) - center)^2 / (2 sigma^2)), O = [2 + prod cos(x_i / a_i)]^power.

    ``periods`` are the a_i (one per dimension); the box is [-half_width, half_width]^d.
    Calling it returns (n,) L; in target: L > ``threshold``.
    """

    periods: tuple[float, ...]
    center: float = 100.0
    sigma: float = 20.0
    threshold: float = 0.9
    power: int = 5
    half_width: float = HALF_WIDTH

    @property
    def dim(self) -> int:
        return len(self.periods)

    @property
    def bounds(self) -> np.ndarray:
        """(d, 2) the box [-half_width, half_width]^d."""
        return np.tile([-self.half_width, self.half_width], (self.dim, 1))

    def observable(self, x: np.ndarray) -> np.ndarray:
        """(n,) O(x) for (n, d) points."""
        x = _as_points(x, self.dim)
        prod = np.prod(np.cos(x / np.asarray(self.periods)), axis=1)
        return (2.0 + prod) ** self.power

    def likelihood(self, observable: np.ndarray) -> np.ndarray:
        """(n,) L from (n,) values of O."""
        return np.exp(-((np.asarray(observable) - self.center) ** 2) / (2.0 * self.sigma**2))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.likelihood(self.observable(x))

    def in_target(self, x: np.ndarray) -> np.ndarray:
        """(n,) bool: L(x) > threshold."""
        return self(x) > self.threshold

    def observable_in_target(self, observable: np.ndarray) -> np.ndarray:
        """(n,) bool from (n,) O: the threshold to use when the objective returns O."""
        return self.likelihood(observable) > self.threshold

    def log_density(self, scores: np.ndarray) -> np.ndarray:
        """log L from (n,) L (for Metropolis-Hastings on the likelihood)."""
        with np.errstate(divide="ignore"):
            return np.log(scores)

    def product_window(self) -> tuple[float, float]:
        """(lo, hi): in target exactly when lo < prod_i cos(x_i / a_i) < hi.

        From L > t  <=>  |O - c| < sigma sqrt(-2 ln t)  and  O = (2 + prod)^power.
        """
        half = self.sigma * math.sqrt(-2.0 * math.log(self.threshold))
        lo_o, hi_o = max(self.center - half, 0.0), self.center + half
        return lo_o ** (1 / self.power) - 2.0, hi_o ** (1 / self.power) - 2.0


FUNCTION_3D = CosineLikelihood(periods=(7.0, 7.0, 7.0))
FUNCTION_2D_5_7 = CosineLikelihood(periods=(5.0, 7.0))
FUNCTION_2D_2_2 = CosineLikelihood(periods=(2.0, 2.0))


@dataclass(frozen=True)
class BoxTarget:
    """In target inside the box ``target`` (d, 2), scanned within ``bounds`` (d, 2)."""

    target: np.ndarray
    bounds: np.ndarray
    threshold: None = None

    def __post_init__(self) -> None:
        t, b = np.asarray(self.target, float), np.asarray(self.bounds, float)
        if t.shape != b.shape or t.ndim != 2 or t.shape[1] != 2:
            raise ValueError(f"target {t.shape} and bounds {b.shape} must both be (d, 2)")
        if np.any(t[:, 0] >= t[:, 1]) or np.any(t[:, 0] < b[:, 0]) or np.any(t[:, 1] > b[:, 1]):
            raise ValueError("target must be a non-empty box inside bounds")
        object.__setattr__(self, "target", t)
        object.__setattr__(self, "bounds", b)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = _as_points(x, len(self.target))
        return np.all((x > self.target[:, 0]) & (x < self.target[:, 1]), axis=1)

    @property
    def volume_fraction(self) -> float:
        """Target volume / box volume."""
        t, b = self.target, self.bounds
        return float(np.prod((t[:, 1] - t[:, 0]) / (b[:, 1] - b[:, 0])))


@dataclass(frozen=True)
class BallsTarget:
    """In target inside any of the balls (``centers`` (m, d), common ``radius``).

    The balls must lie inside ``bounds`` (d, 2) and must not overlap, so the target
    volume is m times the volume of one d-ball.
    """

    centers: np.ndarray
    radius: float
    bounds: np.ndarray
    threshold: None = None

    def __post_init__(self) -> None:
        c, b = np.asarray(self.centers, float), np.asarray(self.bounds, float)
        if c.ndim != 2 or b.shape != (c.shape[1], 2):
            raise ValueError(f"centers {c.shape} must be (m, d) and bounds {b.shape} (d, 2)")
        if np.any(c - self.radius < b[:, 0]) or np.any(c + self.radius > b[:, 1]):
            raise ValueError("every ball must lie inside bounds")
        gaps = np.linalg.norm(c[:, None] - c[None], axis=-1) + np.eye(len(c)) * 1e9
        if np.any(gaps < 2 * self.radius):
            raise ValueError("balls must not overlap")
        object.__setattr__(self, "centers", c)
        object.__setattr__(self, "bounds", b)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = _as_points(x, self.centers.shape[1])
        d2 = np.min(((x[:, None, :] - self.centers[None]) ** 2).sum(-1), axis=1)
        return d2 < self.radius**2

    def ball_index(self, x: np.ndarray) -> np.ndarray:
        """(n,) index of the ball containing each point, -1 outside all."""
        x = _as_points(x, self.centers.shape[1])
        d2 = ((x[:, None, :] - self.centers[None]) ** 2).sum(-1)
        idx = np.argmin(d2, axis=1)
        return np.where(d2[np.arange(len(x)), idx] < self.radius**2, idx, -1)

    @property
    def volume_fraction(self) -> float:
        d = self.centers.shape[1]
        ball = math.pi ** (d / 2) / math.gamma(d / 2 + 1) * self.radius**d
        return float(len(self.centers) * ball / np.prod(self.bounds[:, 1] - self.bounds[:, 0]))


def rare_balls_target(dim: int = 4, volume_fraction: float = 0.005) -> BallsTarget:
    """Three equal balls in [0, 1]^dim holding ``volume_fraction`` of it (default 0.5%).

    Centres at 0.25, 0.5 and 0.75 along the diagonal direction (0.25 + 0.5 t, 0.5, ...),
    spread so that they don't touch for the volumes used here.
    """
    if not 0.0 < volume_fraction < 0.05:
        raise ValueError(f"volume_fraction must be in (0, 0.05), got {volume_fraction}")
    unit = math.pi ** (dim / 2) / math.gamma(dim / 2 + 1)
    radius = (volume_fraction / (3 * unit)) ** (1 / dim)
    centers = np.full((3, dim), 0.5)
    centers[:, 0] = [0.25, 0.5, 0.75]
    centers[:, 1] = [0.3, 0.7, 0.3]
    return BallsTarget(centers=centers, radius=radius, bounds=np.tile([0.0, 1.0], (dim, 1)))


def delta_chi2(cl: float, n_params: int) -> float:
    """Delta chi2 of the ``cl`` confidence region for ``n_params`` parameters (5.99 for 0.95, 2)."""
    if not 0.0 < cl < 1.0 or n_params < 1:
        raise ValueError(f"need 0 < cl < 1 and n_params >= 1, got cl={cl}, n_params={n_params}")
    return float(stats.chi2.ppf(cl, n_params))


@dataclass(frozen=True)
class PseudoMeasurement:
    """chi2(theta) of a binned calculator against pseudo-data; in target: chi2 < limit.

    ``predict`` maps (n, p) parameters to (n, n_bins) observables (e.g. cross sections
    in pb per mass bin); ``data`` (n_bins,) are the pseudo-measured values and
    ``errors`` their (n_bins,) uncorrelated uncertainties or their (n_bins, n_bins)
    covariance, in the same units.  ``bounds`` (p, 2) is the box to scan.
    Calling it returns (n,) chi2; pass ``threshold=obj.threshold`` (= ``obj.accept``).
    """

    predict: Callable[[np.ndarray], np.ndarray]
    data: np.ndarray
    errors: np.ndarray
    limit: float
    bounds: np.ndarray
    _inv_cov: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        data = np.asarray(self.data, dtype=np.float64)
        errors = np.asarray(self.errors, dtype=np.float64)
        if data.ndim != 1:
            raise ValueError(f"data must be (n_bins,), got {data.shape}")
        if errors.shape == data.shape:
            if np.any(~(errors > 0)):
                raise ValueError("errors must all be > 0")
            cov = np.diag(errors**2)
        elif errors.shape == (len(data), len(data)):
            cov = errors
        else:
            raise ValueError(f"errors must be {data.shape} or its covariance, got {errors.shape}")
        try:
            inv = np.linalg.inv(np.linalg.cholesky(cov))
        except np.linalg.LinAlgError as exc:
            raise ValueError("covariance must be symmetric positive definite") from exc
        if not self.limit > 0:
            raise ValueError(f"limit must be > 0, got {self.limit}")
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "errors", errors)
        object.__setattr__(self, "bounds", np.asarray(self.bounds, dtype=np.float64))
        object.__setattr__(self, "_inv_cov", inv.T @ inv)

    @classmethod
    def from_truth(
        cls,
        predict: Callable[[np.ndarray], np.ndarray],
        theta_true: np.ndarray,
        bounds: np.ndarray,
        relative_error: float,
        cl: float = 0.95,
        rng: np.random.Generator | None = None,
        chi2_min: float = 0.0,
    ) -> PseudoMeasurement:
        """Pseudo-data predicted at ``theta_true`` (p,) with errors ``relative_error`` x value.

        Without ``rng`` the data are the prediction itself (Asimov data, chi2_min = 0 at
        the truth); with ``rng`` each bin is fluctuated by a Gaussian of its error, and
        the caller should pass the minimum ``chi2_min`` (e.g. from a fit).
        limit = chi2_min + Delta chi2(cl, p).
        """
        theta_true = np.atleast_2d(np.asarray(theta_true, dtype=np.float64))
        mean = np.asarray(predict(theta_true), dtype=np.float64)[0]
        errors = relative_error * np.abs(mean)
        data = mean if rng is None else mean + errors * rng.standard_normal(mean.shape)
        limit = chi2_min + delta_chi2(cl, theta_true.shape[1])
        return cls(predict=predict, data=data, errors=errors, limit=limit, bounds=bounds)

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        theta = _as_points(theta, len(self.bounds))
        pred = np.asarray(self.predict(theta), dtype=np.float64)
        if pred.shape != (len(theta), len(self.data)):
            raise ValueError(
                f"predict must return shape ({len(theta)}, {len(self.data)}) for "
                f"{len(theta)} points and {len(self.data)} bins, got {pred.shape}"
            )
        resid = pred - self.data
        return np.einsum("ni,ij,nj->n", resid, self._inv_cov, resid)

    def accept(self, chi2: np.ndarray) -> np.ndarray:
        """(n,) bool: chi2 < limit."""
        return np.asarray(chi2) < self.limit

    @property
    def threshold(self) -> Callable[[np.ndarray], np.ndarray]:
        return self.accept

    def log_density(self, chi2: np.ndarray) -> np.ndarray:
        """-chi2 / 2, the log-likelihood up to a constant."""
        return -0.5 * np.asarray(chi2)
