"""Test integrands with exact integrals (from ``erf`` or in closed form).

Each integrand is an :class:`Integrand`: a vectorised ``f`` mapping an (n, d) float64
array to (n,) values, its ``bounds`` (d pairs of (low, high)), the ``exact`` integral
over the box and a ``name``.  :func:`get_integrand` builds them by name, and
:data:`INTEGRANDS` lists the names.

The two hard cases of the LeStrat-Net comparison (arXiv:2412.13982):

``fine_tuning_2d``
    f = 1000 [g(x1; 5, 2) g(x2; 0, 2) - g(x1; -5, 2.1) g(x2; 0, 2.1)]
    + g(x1; 0, 3) g(x2; 0, 3) on [-20, 20]^2, exact ~ 1 with |f| integrating to ~ 2000.
``cancellation_7d``
    f = 100 G(x; mu+, 0.3) - 100 G(x; mu-, 0.3) + 0.1 G(x; 0, 1) on [-5, 5]^7, exact ~ 0.1
    with |f| integrating to ~ 200.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Vectorised = Callable[[np.ndarray], np.ndarray]

MU_PLUS_7D = np.array(
    [1.42872452, 0.83847923, 1.58055441, 0.30422123, 1.7291153, 1.27053504, 1.54311618]
)
MU_MINUS_7D = np.array(
    [-1.99715329, -1.46426389, -1.77558595, -0.76466156, -1.09619859, -0.62166405, -1.69391713]
)


@dataclass(frozen=True)
class Integrand:
    """A vectorised integrand on a box with its exact integral.

    ``f``       maps an (n, d) float64 array to an (n,) float64 array.
    ``bounds``  tuple of d (low, high) pairs.
    ``exact``   the integral of ``f`` over the box.
    ``name``    a short identifier (used in benchmark tables).
    """

    f: Vectorised
    bounds: tuple[tuple[float, float], ...]
    exact: float
    name: str

    @property
    def dim(self) -> int:
        """Number of integration variables d."""
        return len(self.bounds)

    @property
    def volume(self) -> float:
        """Volume of the box."""
        return float(np.prod([hi - lo for lo, hi in self.bounds]))


def gaussian_box_mass(low: float, high: float, mu: float, sigma: float) -> float:
    """Mass of the normalised 1D Gaussian N(mu, sigma^2) inside [low, high]."""
    s = sigma * math.sqrt(2.0)
    return 0.5 * (math.erf((high - mu) / s) - math.erf((low - mu) / s))


def isotropic_gaussian(x: np.ndarray, mu: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised isotropic Gaussian density G(x; mu, sigma) in d dimensions.

    ``x`` (n, d), ``mu`` (d,); returns (n,).
    """
    d = x.shape[1]
    r2 = np.sum(((x - mu) / sigma) ** 2, axis=1)
    return np.exp(-0.5 * r2) / (sigma * math.sqrt(2.0 * math.pi)) ** d


def _box_mass(bounds: tuple[tuple[float, float], ...], mu: np.ndarray, sigma: float) -> float:
    """Mass of G(.; mu, sigma) inside the box (product of 1D erf masses)."""
    return math.prod(
        gaussian_box_mass(lo, hi, float(m), sigma) for (lo, hi), m in zip(bounds, mu, strict=True)
    )


def fine_tuning_2d() -> Integrand:
    """The 2D fine-tuning integrand (two large Gaussians of opposite sign, exact ~ 1)."""
    bounds = ((-20.0, 20.0), (-20.0, 20.0))
    plus = (np.array([5.0, 0.0]), 2.0)
    minus = (np.array([-5.0, 0.0]), 2.1)
    broad = (np.array([0.0, 0.0]), 3.0)

    def f(x: np.ndarray) -> np.ndarray:
        return 1000.0 * (
            isotropic_gaussian(x, *plus) - isotropic_gaussian(x, *minus)
        ) + isotropic_gaussian(x, *broad)

    exact = 1000.0 * (_box_mass(bounds, *plus) - _box_mass(bounds, *minus)) + _box_mass(
        bounds, *broad
    )
    return Integrand(f=f, bounds=bounds, exact=exact, name="fine_tuning_2d")


def cancellation_7d() -> Integrand:
    """The 7D cancellation integrand (two narrow peaks of +-100, exact ~ 0.1)."""
    bounds = tuple((-5.0, 5.0) for _ in range(7))
    zero = np.zeros(7)

    def f(x: np.ndarray) -> np.ndarray:
        return (
            100.0 * isotropic_gaussian(x, MU_PLUS_7D, 0.3)
            - 100.0 * isotropic_gaussian(x, MU_MINUS_7D, 0.3)
            + 0.1 * isotropic_gaussian(x, zero, 1.0)
        )

    exact = (
        100.0 * _box_mass(bounds, MU_PLUS_7D, 0.3)
        - 100.0 * _box_mass(bounds, MU_MINUS_7D, 0.3)
        + 0.1 * _box_mass(bounds, zero, 1.0)
    )
    return Integrand(f=f, bounds=bounds, exact=exact, name="cancellation_7d")


def gaussian(dim: int = 3, sigma: float = 0.2) -> Integrand:
    """A centred Gaussian on [0, 1]^d with width ``sigma`` (exact from erf)."""
    bounds = tuple((0.0, 1.0) for _ in range(dim))
    mu = np.full(dim, 0.5)

    def f(x: np.ndarray) -> np.ndarray:
        return isotropic_gaussian(x, mu, sigma)

    return Integrand(
        f=f, bounds=bounds, exact=_box_mass(bounds, mu, sigma), name=f"gaussian_{dim}d"
    )


def polynomial(dim: int = 2) -> Integrand:
    """f = prod_i (1 + x_i + 3 x_i^2) on [0, 2]^d; exact = 12^d (per axis 2 + 2 + 8)."""
    bounds = tuple((0.0, 2.0) for _ in range(dim))

    def f(x: np.ndarray) -> np.ndarray:
        return np.prod(1.0 + x + 3.0 * x**2, axis=1)

    return Integrand(f=f, bounds=bounds, exact=12.0**dim, name=f"polynomial_{dim}d")


def sign_changing_sin(dim: int = 2) -> Integrand:
    """f = sin(x_1 + ... + x_d) on [0, 2]^d (changes sign); exact from the closed form.

    The integral of sin(sum x) over [0, a]^d is Im[((e^{ia} - 1)/i)^d].
    """
    a = 2.0
    bounds = tuple((0.0, a) for _ in range(dim))

    def f(x: np.ndarray) -> np.ndarray:
        return np.sin(np.sum(x, axis=1))

    exact = float((((np.exp(1j * a) - 1.0) / 1j) ** dim).imag)
    return Integrand(f=f, bounds=bounds, exact=exact, name=f"sin_{dim}d")


def zero(dim: int = 2) -> Integrand:
    """The zero function on [0, 1]^d; exact = 0."""
    bounds = tuple((0.0, 1.0) for _ in range(dim))

    def f(x: np.ndarray) -> np.ndarray:
        return np.zeros(x.shape[0])

    return Integrand(f=f, bounds=bounds, exact=0.0, name=f"zero_{dim}d")


def narrow_peak(dim: int = 2, sigma: float = 0.01) -> Integrand:
    """A narrow Gaussian peak of width ``sigma`` off-centre at 0.3 on [0, 1]^d (exact from erf)."""
    bounds = tuple((0.0, 1.0) for _ in range(dim))
    mu = np.full(dim, 0.3)

    def f(x: np.ndarray) -> np.ndarray:
        return isotropic_gaussian(x, mu, sigma)

    return Integrand(
        f=f, bounds=bounds, exact=_box_mass(bounds, mu, sigma), name=f"narrow_peak_{dim}d"
    )


INTEGRANDS: dict[str, Callable[[], Integrand]] = {
    "fine_tuning_2d": fine_tuning_2d,
    "cancellation_7d": cancellation_7d,
    "gaussian_3d": gaussian,
    "polynomial_2d": polynomial,
    "sin_2d": sign_changing_sin,
    "zero_2d": zero,
    "narrow_peak_2d": narrow_peak,
}


def get_integrand(name: str) -> Integrand:
    """The integrand called ``name`` (one of :data:`INTEGRANDS`)."""
    try:
        return INTEGRANDS[name]()
    except KeyError:
        raise ValueError(
            f"unknown integrand {name!r}; expected one of {sorted(INTEGRANDS)}"
        ) from None


__all__ = [
    "INTEGRANDS",
    "MU_MINUS_7D",
    "MU_PLUS_7D",
    "Integrand",
    "cancellation_7d",
    "fine_tuning_2d",
    "gaussian",
    "gaussian_box_mass",
    "get_integrand",
    "isotropic_gaussian",
    "narrow_peak",
    "polynomial",
    "sign_changing_sin",
    "zero",
]
