"""Four-vector kinematics on whole arrays (numpy or awkward), GeV and rad."""

from __future__ import annotations

from typing import Any

import numpy as np


def pt(px: Any, py: Any) -> Any:
    """Transverse momentum sqrt(px^2 + py^2) [GeV]."""
    return np.sqrt(px**2 + py**2)


def mass(px: Any, py: Any, pz: Any, E: Any) -> Any:
    """Invariant mass sqrt(max(E^2 - |p|^2, 0)) [GeV]."""
    m2 = E**2 - px**2 - py**2 - pz**2
    return np.sqrt(np.maximum(m2, 0.0))


def eta(px: Any, py: Any, pz: Any) -> Any:
    """Pseudorapidity arcsinh(pz / pT); +-inf along the beam."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.arcsinh(pz / pt(px, py))


def phi(px: Any, py: Any) -> Any:
    """Azimuth in (-pi, pi] [rad]."""
    return np.arctan2(py, px)


def rapidity(pz: Any, E: Any) -> Any:
    """Rapidity 0.5 ln((E + pz) / (E - pz))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * np.log((E + pz) / (E - pz))


def delta_phi(phi1: Any, phi2: Any) -> Any:
    """phi1 - phi2 wrapped into [-pi, pi) [rad]."""
    return (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi


def delta_r(eta1: Any, phi1: Any, eta2: Any, phi2: Any) -> Any:
    """sqrt(delta_eta^2 + delta_phi^2)."""
    return np.sqrt((eta1 - eta2) ** 2 + delta_phi(phi1, phi2) ** 2)
