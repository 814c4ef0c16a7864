"""Reference event variables on numpy four-vectors: m_inv, m_T and m_T2.

Four-vectors are float arrays whose last axis is (E, px, py, pz) [GeV]; the
leading axes (usually one, the event axis of length n) broadcast as in numpy.
Missing transverse momentum is an array whose last axis is (px, py) [GeV].
"""

from __future__ import annotations

import numpy as np
from mt2 import mt2 as _lester_mt2

__all__ = ["invariant_mass", "mt2", "transverse_mass"]


def _as_array(x: np.ndarray, name: str, last: int) -> np.ndarray:
    """``x`` as float64 with last axis of length ``last``, else ValueError naming ``name``."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != last:
        raise ValueError(
            f"{name}: expected an array with last axis of length {last}, got shape {arr.shape}"
        )
    return arr


def _mass_squared(p4: np.ndarray) -> np.ndarray:
    """E^2 - |p|^2 [GeV^2] of (..., 4) four-vectors, not clipped."""
    return p4[..., 0] ** 2 - np.sum(p4[..., 1:] ** 2, axis=-1)


def invariant_mass(*p4s: np.ndarray) -> np.ndarray:
    """Invariant mass of the sum of four-vectors.

    Args:
        *p4s: one or more arrays of shape (n, 4), (E, px, py, pz) [GeV].

    Returns:
        (n,) sqrt(max(E^2 - |p|^2, 0)) of the summed four-vector [GeV]; the clip
        absorbs the rounding of light-like sums (m^2 of order -1e-12 E^2).
    """
    if not p4s:
        raise ValueError("p4s: invariant_mass needs at least one four-vector array")
    total: np.ndarray = sum(
        (_as_array(p, f"p4s[{i}]", 4) for i, p in enumerate(p4s)), start=np.zeros(4)
    )
    return np.sqrt(np.maximum(_mass_squared(total), 0.0))


def _check_mass(m_invis: float | np.ndarray) -> np.ndarray:
    """Test mass(es) as a float64 array, else ValueError naming ``m_invis``."""
    m = np.asarray(m_invis, dtype=np.float64)
    if not np.all(np.isfinite(m) & (m >= 0.0)):
        raise ValueError(f"m_invis: expected finite masses >= 0 GeV, got {m_invis}")
    return m


def transverse_mass(
    p_vis: np.ndarray, met: np.ndarray, m_invis: float | np.ndarray = 0.0
) -> np.ndarray:
    """Transverse mass of a visible system and the missing transverse momentum.

    m_T^2 = m_vis^2 + m_invis^2 + 2 (E_T,vis E_T,miss - pT_vis . pT_miss), with
    E_T = sqrt(m^2 + pT^2) and m_vis the invariant mass of ``p_vis``.

    Args:
        p_vis: (n, 4) visible four-momentum (E, px, py, pz) [GeV].
        met: (n, 2) missing transverse momentum (px, py) [GeV].
        m_invis: test mass of the invisible particle [GeV], >= 0; a float or (n,).

    Returns:
        (n,) m_T [GeV], >= 0 (rounding negatives of m_T^2 are clipped).
    """
    p_vis = _as_array(p_vis, "p_vis", 4)
    met = _as_array(met, "met", 2)
    m_invis = _check_mass(m_invis)
    m2_vis = np.maximum(_mass_squared(p_vis), 0.0)
    pt2_vis = p_vis[..., 1] ** 2 + p_vis[..., 2] ** 2
    et_vis = np.sqrt(m2_vis + pt2_vis)
    et_miss = np.sqrt(m_invis**2 + np.sum(met**2, axis=-1))
    dot = p_vis[..., 1] * met[..., 0] + p_vis[..., 2] * met[..., 1]
    mt2_sq = m2_vis + m_invis**2 + 2.0 * (et_vis * et_miss - dot)
    return np.sqrt(np.maximum(mt2_sq, 0.0))


def mt2(
    p_vis1: np.ndarray, p_vis2: np.ndarray, met: np.ndarray, m_invis: float | np.ndarray = 0.0
) -> np.ndarray:
    """Symmetric stransverse mass m_T2 (Lester's bisection, the ``mt2`` package).

    Both invisible particles get the same test mass ``m_invis``; the visible
    masses are the invariant masses of ``p_vis1`` and ``p_vis2``.

    Args:
        p_vis1: (n, 4) first visible four-momentum (E, px, py, pz) [GeV].
        p_vis2: (n, 4) second visible four-momentum [GeV].
        met: (n, 2) missing transverse momentum (px, py) [GeV].
        m_invis: test mass of each invisible particle [GeV], >= 0; a float or (n,).

    Returns:
        (n,) m_T2 [GeV], computed to machine precision.
    """
    p_vis1 = _as_array(p_vis1, "p_vis1", 4)
    p_vis2 = _as_array(p_vis2, "p_vis2", 4)
    met = _as_array(met, "met", 2)
    m_invis = _check_mass(m_invis)
    result = _lester_mt2(
        invariant_mass(p_vis1),
        p_vis1[..., 1],
        p_vis1[..., 2],
        invariant_mass(p_vis2),
        p_vis2[..., 1],
        p_vis2[..., 2],
        met[..., 0],
        met[..., 1],
        m_invis,
        m_invis,
    )
    return np.asarray(result, dtype=np.float64)
