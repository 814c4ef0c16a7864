"""Toy decay topologies of Kim, Kong, Matchev, Park, Shyamsundar (arXiv:2105.10126).

Three topologies, each with its parameter prior and reference event variable:

* ``two_body`` (paper topology 1): A -> b c, b and c massless and visible.
  Theta = (m_A,); reference m_bc (= m_A exactly).
* ``one_invisible`` (topology 2): A -> b C, b massless visible, C invisible of
  mass m_C, A along the beam. Theta = (m_A, m_C); reference m_T with test mass 0,
  whose endpoint is mu = (m_A^2 - m_C^2) / m_A.
* ``two_invisible`` (topology 3): A1 A2 -> (b1 C1)(b2 C2) with equal masses and
  no transverse momentum of the pair. Theta = (m_A, m_C); reference m_T2 with
  test mass 0, endpoint mu.

All energies and masses are in GeV. Every decay is isotropic in the parent's
rest frame (the frame reached from the lab by a pure boost) and every
function draws only from the ``numpy.random.Generator`` it is given.

Conventions of the network inputs ``X`` (float64, one row per event):

* ``two_body``: (E, px, py, pz) of b, then of c (8 columns). Swapping b and c is
  the same as reversing the rest-frame decay direction, which is isotropic, so
  the order carries no information and needs no extra shuffle.
* ``one_invisible``: (E, px, py, pz) of b, then (px, py) of the missing
  transverse momentum, i.e. of C (6 columns).
* ``two_invisible``: (E, px, py, pz) of b1, of b2, then (px, py) of the missing
  transverse momentum C1 + C2 (10 columns). A1's direction in the pair rest
  frame is isotropic, so the b1/b2 order is symmetric too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, overload

import numpy as np

from phenoflow.physics.variables import invariant_mass, mt2, transverse_mass

__all__ = [
    "E_MAX",
    "E_SYSTEM_MAX",
    "M_A_RANGE",
    "M_PAIR_MAX",
    "TOPOLOGIES",
    "ToySample",
    "boost",
    "fixed_theta",
    "input_dim",
    "isotropic_directions",
    "sample_theta",
    "sample_topology",
    "simulate",
    "theta_dim",
]

TOPOLOGIES = ("two_body", "one_invisible", "two_invisible")
M_A_RANGE = (100.0, 500.0)  # prior range of m_A [GeV]
E_MAX = 1500.0  # single A: lab energy ~ U[m_A, E_MAX] [GeV]
M_PAIR_MAX = 1500.0  # A1 A2 pair: invariant mass ~ U[2 m_A, M_PAIR_MAX] [GeV]
E_SYSTEM_MAX = 2500.0  # A1 A2 pair: lab energy ~ U[m_pair, E_SYSTEM_MAX] [GeV]

_P4 = ("E", "px", "py", "pz")
_X_NAMES = {
    "two_body": tuple(f"{c}_{p}" for p in ("b", "c") for c in _P4),
    "one_invisible": (*(f"{c}_b" for c in _P4), "met_x", "met_y"),
    "two_invisible": (*(f"{c}_{p}" for p in ("b1", "b2") for c in _P4), "met_x", "met_y"),
}
_THETA_NAMES = {
    "two_body": ("m_A",),
    "one_invisible": ("m_A", "m_C"),
    "two_invisible": ("m_A", "m_C"),
}
_REFERENCE_NAMES = {"two_body": "m_bc", "one_invisible": "m_T", "two_invisible": "m_T2"}


@dataclass(frozen=True)
class ToySample:
    """Events of one toy topology with their parameters and reference variable.

    Attributes:
        X: (n, d) float64 network inputs [GeV]; columns named by ``x_names``.
        theta: (n, k) float64 parameters [GeV]: (m_A,) or (m_A, m_C).
        reference: (n,) reference variable [GeV]: m_bc, m_T(0) or m_T2(0).
        x_names: the d column names of ``X``.
        theta_names: the k column names of ``theta``.
        reference_name: name of the reference variable.
    """

    X: np.ndarray
    theta: np.ndarray
    reference: np.ndarray
    x_names: tuple[str, ...]
    theta_names: tuple[str, ...]
    reference_name: str

    def __post_init__(self) -> None:
        n = self.X.shape[0]
        if self.X.shape != (n, len(self.x_names)):
            raise ValueError(f"X: expected shape ({n}, {len(self.x_names)}), got {self.X.shape}")
        if self.theta.shape != (n, len(self.theta_names)):
            raise ValueError(
                f"theta: expected shape ({n}, {len(self.theta_names)}), got {self.theta.shape}"
            )
        if self.reference.shape != (n,):
            raise ValueError(f"reference: expected shape ({n},), got {self.reference.shape}")

    def __len__(self) -> int:
        return int(self.X.shape[0])


def _check_topology(topology: str) -> None:
    if topology not in TOPOLOGIES:
        raise ValueError(f"topology: expected one of {TOPOLOGIES}, got {topology!r}")


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n: expected a non-negative integer number of events, got {n!r}")


def input_dim(topology: str) -> int:
    """Number d of columns of ``X`` for ``topology`` (8, 6 or 10)."""
    _check_topology(topology)
    return len(_X_NAMES[topology])


def theta_dim(topology: str) -> int:
    """Number k of parameters for ``topology`` (1 for two_body, else 2)."""
    _check_topology(topology)
    return len(_THETA_NAMES[topology])


# --------------------------------------------------------------------------- kinematics


def isotropic_directions(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 3) unit vectors uniform on the sphere (cos(theta) ~ U[-1, 1], phi ~ U[0, 2 pi))."""
    _check_n(n)
    cos_t = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    sin_t = np.sqrt(np.maximum(1.0 - cos_t**2, 0.0))
    return np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=-1)


def boost(p4: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """General Lorentz boost of four-vectors by velocity ``beta``.

    A particle at rest ends up moving with velocity ``beta``:
    E' = gamma (E + beta.p), p' = p + (gamma^2 / (1 + gamma) beta.p + gamma E) beta.
    (gamma^2 / (1 + gamma) equals (gamma - 1) / beta^2 without the 0/0 at rest.)

    Args:
        p4: (..., 4) four-vectors (E, px, py, pz) [GeV].
        beta: (..., 3) velocities in units of c, |beta| < 1; broadcasts with ``p4``.

    Returns:
        (..., 4) boosted four-vectors [GeV].
    """
    p4 = np.asarray(p4, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    if p4.ndim == 0 or p4.shape[-1] != 4:
        raise ValueError(f"p4: expected last axis of length 4, got shape {p4.shape}")
    if beta.ndim == 0 or beta.shape[-1] != 3:
        raise ValueError(f"beta: expected last axis of length 3, got shape {beta.shape}")
    beta2 = np.sum(beta**2, axis=-1)
    if not np.all(beta2 < 1.0):
        raise ValueError(f"beta: speeds must be below 1, got max |beta|^2 = {np.max(beta2)}")
    gamma = 1.0 / np.sqrt(1.0 - beta2)
    energy, mom = p4[..., 0], p4[..., 1:]
    bp = np.sum(beta * mom, axis=-1)
    coef = gamma**2 / (1.0 + gamma) * bp + gamma * energy
    out_e = gamma * (energy + bp)
    out_p = mom + coef[..., None] * beta
    return np.concatenate([out_e[..., None], out_p], axis=-1)


def _velocity(p4: np.ndarray) -> np.ndarray:
    """(n, 3) velocity p / E of massive (n, 4) four-vectors."""
    return p4[:, 1:] / p4[:, :1]


def _momentum_along(energy: np.ndarray, mass: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """(n, 4) four-vectors of given energy and mass moving along unit ``direction`` (n, 3)."""
    # (E - m)(E + m) avoids the cancellation of E^2 - m^2 near threshold
    p = np.sqrt(np.maximum((energy - mass) * (energy + mass), 0.0))
    return np.concatenate([energy[:, None], p[:, None] * direction], axis=-1)


def _two_body_decay(
    parent: np.ndarray,
    m_parent: np.ndarray,
    m1: np.ndarray,
    m2: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic two-body decays in the parent rest frame, boosted to the lab.

    Args:
        parent: (n, 4) lab four-momenta of the parents [GeV].
        m_parent, m1, m2: (n,) masses of parent and daughters [GeV], m1 + m2 <= m_parent.
        rng: random generator (draws the rest-frame directions).

    Returns:
        (n, 4) lab four-momenta of daughters 1 and 2 [GeV].
    """
    n = parent.shape[0]
    # E_1* = (M^2 + m1^2 - m2^2) / 2M is exact; |p*| from the Kallen function.
    e1 = (m_parent**2 + m1**2 - m2**2) / (2.0 * m_parent)
    e2 = (m_parent**2 + m2**2 - m1**2) / (2.0 * m_parent)
    lam = (m_parent**2 - (m1 + m2) ** 2) * (m_parent**2 - (m1 - m2) ** 2)
    p_star = np.sqrt(np.maximum(lam, 0.0)) / (2.0 * m_parent)
    direction = isotropic_directions(n, rng)
    d1 = np.concatenate([e1[:, None], p_star[:, None] * direction], axis=-1)
    d2 = np.concatenate([e2[:, None], -p_star[:, None] * direction], axis=-1)
    beta = _velocity(parent)
    return boost(d1, beta), boost(d2, beta)


def _beam_directions(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 3) unit vectors (0, 0, +-1) with a random sign."""
    sign = rng.choice(np.array([-1.0, 1.0]), size=n)
    zeros = np.zeros(n)
    return np.stack([zeros, zeros, sign], axis=-1)


# --------------------------------------------------------------------------- parameters


def sample_theta(topology: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw parameters from the prior of ``topology``.

    * ``two_body``: m_A ~ U[100, 500].
    * ``one_invisible``, ``two_invisible``: (m_A, delta_m) uniform on the region
      100 <= m_A <= 500, 0 < delta_m <= m_A, where delta_m = (m_A - m_C)^2 / m_A;
      so p(m_A) is proportional to m_A and delta_m | m_A ~ U(0, m_A], and
      m_C = m_A - sqrt(delta_m m_A) lies in [0, m_A).

    Args:
        topology: one of ``TOPOLOGIES``.
        n: number of events.
        rng: random generator.

    Returns:
        (n, k) float64 parameters [GeV]: columns (m_A,) or (m_A, m_C).
    """
    _check_topology(topology)
    _check_n(n)
    lo, hi = M_A_RANGE
    if topology == "two_body":
        return rng.uniform(lo, hi, n)[:, None]
    # inverse CDF of p(m) ~ m on [lo, hi]
    m_a = np.sqrt(lo**2 + rng.uniform(0.0, 1.0, n) * (hi**2 - lo**2))
    # 1 - U[0, 1) keeps delta_m > 0, hence m_C < m_A strictly
    delta_m = m_a * (1.0 - rng.uniform(0.0, 1.0, n))
    m_c = np.maximum(m_a - np.sqrt(delta_m * m_a), 0.0)
    return np.stack([m_a, m_c], axis=-1)


def fixed_theta(topology: str, n: int, m_A: float, m_C: float | None = None) -> np.ndarray:
    """(n, k) parameters with the same m_A (and m_C) in every row [GeV].

    Raises ValueError unless 100 <= m_A <= 500 and, for the invisible topologies,
    0 <= m_C < m_A (``m_C`` must be None for ``two_body``).
    """
    _check_topology(topology)
    _check_n(n)
    lo, hi = M_A_RANGE
    if not (np.isfinite(m_A) and lo <= m_A <= hi):
        raise ValueError(f"m_A: expected a mass in [{lo}, {hi}] GeV, got {m_A}")
    if topology == "two_body":
        if m_C is not None:
            raise ValueError(f"m_C: two_body has no invisible particle, got m_C={m_C}")
        return np.full((n, 1), float(m_A))
    if m_C is None:
        raise ValueError(f"m_C: topology {topology!r} needs m_C together with m_A")
    if not (np.isfinite(m_C) and 0.0 <= m_C < m_A):
        raise ValueError(f"m_C: expected 0 <= m_C < m_A = {m_A} GeV, got {m_C}")
    return np.tile(np.array([float(m_A), float(m_C)]), (n, 1))


def _check_theta(topology: str, theta: np.ndarray) -> np.ndarray:
    theta = np.asarray(theta, dtype=np.float64)
    k = theta_dim(topology)
    if theta.ndim != 2 or theta.shape[1] != k:
        raise ValueError(f"theta: expected shape (n, {k}) for {topology!r}, got {theta.shape}")
    lo, hi = M_A_RANGE
    m_a = theta[:, 0]
    if not np.all(np.isfinite(theta)):
        raise ValueError("theta: contains non-finite values")
    if not np.all((m_a >= lo) & (m_a <= hi)):
        raise ValueError(f"theta: m_A must lie in [{lo}, {hi}] GeV, got [{m_a.min()}, {m_a.max()}]")
    if k == 2 and not np.all((theta[:, 1] >= 0.0) & (theta[:, 1] < m_a)):
        raise ValueError("theta: m_C must satisfy 0 <= m_C < m_A in every row")
    return theta


# --------------------------------------------------------------------------- events


def _simulate_two_body(
    theta: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    n = theta.shape[0]
    m_a = theta[:, 0]
    energy = rng.uniform(m_a, E_MAX)
    p_a = _momentum_along(energy, m_a, isotropic_directions(n, rng))
    zero = np.zeros(n)
    p_b, p_c = _two_body_decay(p_a, m_a, zero, zero, rng)
    X = np.concatenate([p_b, p_c], axis=-1)
    return X, invariant_mass(p_b, p_c), {"A": p_a, "b": p_b, "c": p_c}


def _simulate_one_invisible(
    theta: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    n = theta.shape[0]
    m_a, m_c = theta[:, 0], theta[:, 1]
    energy = rng.uniform(m_a, E_MAX)
    p_a = _momentum_along(energy, m_a, _beam_directions(n, rng))
    p_b, p_c = _two_body_decay(p_a, m_a, np.zeros(n), m_c, rng)
    met = p_c[:, 1:3]
    X = np.concatenate([p_b, met], axis=-1)
    return X, transverse_mass(p_b, met, 0.0), {"A": p_a, "b": p_b, "C": p_c}


def _simulate_two_invisible(
    theta: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    n = theta.shape[0]
    m_a, m_c = theta[:, 0], theta[:, 1]
    m_pair = rng.uniform(2.0 * m_a, M_PAIR_MAX)
    energy = rng.uniform(m_pair, E_SYSTEM_MAX)
    p_pair = _momentum_along(energy, m_pair, _beam_directions(n, rng))
    p_a1, p_a2 = _two_body_decay(p_pair, m_pair, m_a, m_a, rng)
    zero = np.zeros(n)
    p_b1, p_c1 = _two_body_decay(p_a1, m_a, zero, m_c, rng)
    p_b2, p_c2 = _two_body_decay(p_a2, m_a, zero, m_c, rng)
    met = p_c1[:, 1:3] + p_c2[:, 1:3]
    X = np.concatenate([p_b1, p_b2, met], axis=-1)
    truth = {
        "AA": p_pair,
        "A1": p_a1,
        "A2": p_a2,
        "b1": p_b1,
        "C1": p_c1,
        "b2": p_b2,
        "C2": p_c2,
    }
    return X, mt2(p_b1, p_b2, met, 0.0), truth


_SIMULATORS = {
    "two_body": _simulate_two_body,
    "one_invisible": _simulate_one_invisible,
    "two_invisible": _simulate_two_invisible,
}


@overload
def simulate(
    topology: str, theta: np.ndarray, rng: np.random.Generator, return_truth: Literal[False] = ...
) -> ToySample: ...


@overload
def simulate(
    topology: str, theta: np.ndarray, rng: np.random.Generator, return_truth: Literal[True]
) -> tuple[ToySample, dict[str, np.ndarray]]: ...


def simulate(
    topology: str, theta: np.ndarray, rng: np.random.Generator, return_truth: bool = False
) -> ToySample | tuple[ToySample, dict[str, np.ndarray]]:
    """Generate one event per row of ``theta``.

    Args:
        topology: one of ``TOPOLOGIES``.
        theta: (n, k) parameters [GeV], (m_A,) or (m_A, m_C) per event, with
            100 <= m_A <= 500 and 0 <= m_C < m_A.
        rng: random generator.
        return_truth: also return the lab four-momenta (n, 4) [GeV] of every
            particle: keys "A", "b", "c" (two_body); "A", "b", "C"
            (one_invisible); "AA" (the pair), "A1", "A2", "b1", "C1", "b2", "C2"
            (two_invisible).

    Returns:
        The ``ToySample`` (see the module docstring for the columns of ``X``),
        and the truth dictionary when ``return_truth`` is true.
    """
    _check_topology(topology)
    theta = _check_theta(topology, theta)
    X, reference, truth = _SIMULATORS[topology](theta, rng)
    sample = ToySample(
        X=X,
        theta=theta.copy(),
        reference=reference,
        x_names=_X_NAMES[topology],
        theta_names=_THETA_NAMES[topology],
        reference_name=_REFERENCE_NAMES[topology],
    )
    return (sample, truth) if return_truth else sample


def sample_topology(
    topology: str,
    n: int,
    rng: np.random.Generator,
    m_A: float | None = None,
    m_C: float | None = None,
) -> ToySample:
    """Generate ``n`` events, with parameters from the prior or fixed.

    Args:
        topology: one of ``TOPOLOGIES``.
        n: number of events.
        rng: random generator (parameters are drawn first, then the events).
        m_A: if given, the mass of A for every event [GeV], in [100, 500];
            otherwise (m_A, m_C) come from ``sample_theta``.
        m_C: mass of C for every event [GeV], 0 <= m_C < m_A; required with
            ``m_A`` for the invisible topologies, forbidden for ``two_body``.

    Returns:
        ``ToySample`` of n events.
    """
    _check_topology(topology)
    if m_A is None:
        if m_C is not None:
            raise ValueError(f"m_C: given ({m_C}) without m_A; fix both or neither")
        theta = sample_theta(topology, n, rng)
    else:
        theta = fixed_theta(topology, n, m_A, m_C)
    return simulate(topology, theta, rng)
