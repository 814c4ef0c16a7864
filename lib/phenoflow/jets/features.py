"""Per-constituent input features for jet taggers (the particle-transformer input set).

Input convention shared by the jets modules:

- ``constituents``: awkward Array ``n_jets * var * {px, py, pz, E, pid, charge}`` [GeV], one list
  per fat jet. A record name (e.g. ``Momentum4D``) is allowed; only the plain fields are read.
- ``jet``: awkward record array, numpy structured array or mapping of ``(n_jets,)`` arrays with
  fields ``px, py, pz, E, pt, eta, phi, mass`` [GeV, rad].

All work is done on flat numpy arrays of every particle of every jet at once, with a per-particle
jet index; there is no Python loop over jets or particles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

from phenoflow.physics.kinematics import delta_phi, eta, phi, pt

FEATURE_NAMES: tuple[str, ...] = (
    "deta",
    "dphi",
    "log_pt",
    "log_e",
    "log_pt_rel",
    "log_e_rel",
    "delta_r",
    "charge",
    "is_electron",
    "is_muon",
    "is_photon",
    "is_charged_hadron",
    "is_neutral_hadron",
)

CONSTITUENT_FIELDS: tuple[str, ...] = ("px", "py", "pz", "E", "pid", "charge")

# Floor under the arguments of the logarithms: a particle (or jet) with pT or E of exactly zero
# would give -inf and a numpy warning; ln(1e-30) ~ -69 is far below anything physical.
_LOG_FLOOR = 1e-30


@dataclass(frozen=True)
class FlatConstituents:
    """All constituents of all jets as flat arrays, in input order.

    Attributes:
        counts: (n_jets,) int64, number of constituents per jet.
        jet_index: (n_particles,) int64, the jet each particle belongs to (non-decreasing).
        px, py, pz, E: (n_particles,) float64 [GeV].
        pid, charge: (n_particles,) int64, PDG id and electric charge [e].
    """

    counts: np.ndarray
    jet_index: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    E: np.ndarray
    pid: np.ndarray
    charge: np.ndarray

    @property
    def n_jets(self) -> int:
        """Number of jets."""
        return int(self.counts.size)


def flatten_constituents(constituents: ak.Array) -> FlatConstituents:
    """Flatten ``n_jets * var * {px, py, pz, E, pid, charge}`` into per-particle numpy arrays.

    Raises:
        TypeError: ``constituents`` is not an awkward Array.
        ValueError: a field is missing or the array is not two-dimensional (jets x particles).
    """
    if not isinstance(constituents, ak.Array):
        raise TypeError(
            f"constituents must be an awkward Array n_jets * var * {{{', '.join(CONSTITUENT_FIELDS)}}}"
            f", got {type(constituents).__name__}"
        )
    missing = [f for f in CONSTITUENT_FIELDS if f not in constituents.fields]
    if missing:
        raise ValueError(
            f"constituents lacks field(s) {missing}; has {constituents.fields}, "
            f"expected n_jets * var * {{{', '.join(CONSTITUENT_FIELDS)}}}"
        )
    if constituents.ndim != 2:
        raise ValueError(
            f"constituents must have type n_jets * var * record (2 dimensions), got "
            f"{constituents.ndim} dimensions: {constituents.type}"
        )
    counts = np.asarray(ak.to_numpy(ak.num(constituents, axis=1)), dtype=np.int64)
    jet_index = np.repeat(np.arange(counts.size, dtype=np.int64), counts)

    # flatten the records once (without behaviours such as vector's), then read the fields
    particles = ak.flatten(ak.Array(constituents.layout), axis=1)

    def column(name: str, dtype: type) -> np.ndarray:
        return np.asarray(ak.to_numpy(particles[name], allow_missing=False), dtype=dtype)

    return FlatConstituents(
        counts=counts,
        jet_index=jet_index,
        px=column("px", np.float64),
        py=column("py", np.float64),
        pz=column("pz", np.float64),
        E=column("E", np.float64),
        pid=column("pid", np.int64),
        charge=column("charge", np.int64),
    )


def jet_column(jet: Any, name: str, n_jets: int) -> np.ndarray:
    """Field ``name`` of ``jet`` as a float64 array of shape (n_jets,).

    ``jet`` may be an awkward record array, a numpy structured array or a mapping of arrays.

    Raises:
        KeyError: the field is missing.
        ValueError: the field does not have shape (n_jets,).
    """
    try:
        values = jet[name]
    except (KeyError, IndexError, ValueError) as err:
        raise KeyError(
            f"jet has no field {name!r} (expected px, py, pz, E, pt, eta, phi, mass)"
        ) from err
    if isinstance(values, ak.Array):
        values = ak.to_numpy(values, allow_missing=False)
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n_jets,):
        raise ValueError(
            f"jet field {name!r} has shape {array.shape}, expected ({n_jets},) to match constituents"
        )
    return array


def _safe_log(x: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(x, _LOG_FLOOR))


def constituent_features(
    constituents: ak.Array, jet: Any, n_max: int = 128
) -> tuple[np.ndarray, np.ndarray]:
    """Padded per-constituent features in the particle-transformer input set.

    Particles are sorted by pT descending within each jet (the input order is not trusted), the
    ``n_max`` hardest are kept and shorter jets are zero-padded.

    Features, in the order of ``FEATURE_NAMES`` (p = particle, J = jet; angles in rad, energies
    in GeV):

    - ``deta`` = eta_p - eta_J; ``dphi`` = phi_p - phi_J wrapped into [-pi, pi);
    - ``log_pt`` = ln pT_p; ``log_e`` = ln E_p; ``log_pt_rel`` = ln(pT_p / pT_J);
      ``log_e_rel`` = ln(E_p / E_J); arguments are floored at 1e-30 so zeros give ~-69, not -inf;
    - ``delta_r`` = sqrt(deta^2 + dphi^2); ``charge`` [e];
    - one-hots: ``is_electron`` |pid| == 11, ``is_muon`` |pid| == 13, ``is_photon`` pid == 22,
      else ``is_charged_hadron`` if charge != 0, else ``is_neutral_hadron``.

    Jet eta, phi, pt and E are read from ``jet`` (not recomputed from the constituents).

    Args:
        constituents: awkward Array ``n_jets * var * {px, py, pz, E, pid, charge}`` [GeV].
        jet: record array or mapping with (n_jets,) fields ``eta, phi, pt, E``.
        n_max: number of particle slots per jet (>= 1).

    Returns:
        features: (n_jets, n_max, len(FEATURE_NAMES)) float32, zero where ``mask`` is False.
        mask: (n_jets, n_max) bool, True for real particles (a prefix of each row).
    """
    if isinstance(n_max, bool) or not isinstance(n_max, int | np.integer) or n_max < 1:
        raise ValueError(f"n_max must be a positive integer, got {n_max!r}")
    n_max = int(n_max)
    flat = flatten_constituents(constituents)
    n_jets = flat.n_jets
    axis = _JetAxis(
        eta=jet_column(jet, "eta", n_jets),
        phi=jet_column(jet, "phi", n_jets),
        log_pt=_safe_log(jet_column(jet, "pt", n_jets)),
        log_e=_safe_log(jet_column(jet, "E", n_jets)),
    )
    hardest = _hardest_first(flat, n_max)
    packed = _feature_rows(flat, hardest, axis)
    slot = hardest.jet * n_max + hardest.rank
    features = np.zeros((n_jets, n_max, len(FEATURE_NAMES)), dtype=np.float32)
    features.reshape(-1, len(FEATURE_NAMES))[slot] = packed
    mask = np.zeros((n_jets, n_max), dtype=bool)
    mask.reshape(-1)[slot] = True
    return features, mask


@dataclass(frozen=True)
class _JetAxis:
    """Per-jet (n_jets,) quantities the particle features are taken relative to."""

    eta: np.ndarray
    phi: np.ndarray
    log_pt: np.ndarray  # ln pT_J (floored)
    log_e: np.ndarray  # ln E_J (floored)


@dataclass(frozen=True)
class _Hardest:
    """The kept particles: the n_max hardest of each jet, in pT order."""

    particle: np.ndarray  # index into the flat particle arrays
    jet: np.ndarray  # their jet
    rank: np.ndarray  # their pT rank within the jet (0 = hardest)
    pt: np.ndarray  # pT of *every* flat particle


def _hardest_first(flat: FlatConstituents, n_max: int) -> _Hardest:
    """Sort by pT within each jet and keep the first ``n_max``.

    A per-list ak.argsort, ~4x faster than np.lexsort on (jet, -pT).  The jet index of
    the sorted particles is unchanged and their rank within the jet is the position
    minus the jet's offset.
    """
    p_pt = pt(flat.px, flat.py)
    starts = np.cumsum(flat.counts) - flat.counts
    local = ak.argsort(ak.unflatten(p_pt, flat.counts), axis=1, ascending=False, stable=True)
    local_flat = np.asarray(ak.to_numpy(ak.flatten(local, axis=1)), dtype=np.int64)
    order = local_flat + starts[flat.jet_index]
    rank = np.arange(flat.jet_index.size, dtype=np.int64) - starts[flat.jet_index]
    keep = rank < n_max
    return _Hardest(order[keep], flat.jet_index[keep], rank[keep], p_pt)


def _feature_rows(flat: FlatConstituents, hardest: _Hardest, axis: _JetAxis) -> np.ndarray:
    """(n_kept, len(FEATURE_NAMES)) float32 features of the kept particles."""
    sel, j = hardest.particle, hardest.jet
    px, py, pz, energy = flat.px[sel], flat.py[sel], flat.pz[sel], flat.E[sel]
    pid, charge = flat.pid[sel], flat.charge[sel]
    part_pt = hardest.pt[sel]
    deta = eta(px, py, pz) - axis.eta[j]
    dphi = delta_phi(phi(px, py), axis.phi[j])
    log_pt = _safe_log(part_pt)
    log_e = _safe_log(energy)
    abs_pid = np.abs(pid)
    is_electron = abs_pid == 11
    is_muon = abs_pid == 13
    is_photon = pid == 22
    is_other = ~(is_electron | is_muon | is_photon)
    charged = charge != 0

    columns = (
        deta,
        dphi,
        log_pt,
        log_e,
        log_pt - axis.log_pt[j],
        log_e - axis.log_e[j],
        np.hypot(deta, dphi),
        charge,
        is_electron,
        is_muon,
        is_photon,
        is_other & charged,
        is_other & ~charged,
    )
    packed = np.empty((j.size, len(FEATURE_NAMES)), dtype=np.float32)
    for i, column in enumerate(columns):  # 13 whole-array columns, not a loop over data
        packed[:, i] = column
    return packed
