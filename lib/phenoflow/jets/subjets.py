"""Subjets of fat jets: C/A or anti-kt reclustering, or pT-weighted HDBSCAN.

Every function takes ``constituents``, an awkward Array of type
``n_jets * var * {px, py, pz, E: float64, pid: int32, charge: int32}`` in GeV,
one list per fat jet, and returns a :class:`Subjets`:

* ``p4``: ``n_jets * var * {px, py, pz, E: float64}`` [GeV], the subjets of
  each jet sorted by pT descending (plain records, no vector behaviour);
* ``index``: ``n_jets * var * int32``, aligned with ``constituents``: for each
  constituent the position of its subjet in ``p4`` of the same jet, or -1 when
  it belongs to no subjet (a subjet below ``pt_min``, or HDBSCAN noise).

Only the ``px, py, pz, E`` fields are read; ``pid`` and ``charge`` may be absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import awkward as ak
import fastjet
import numpy as np
from sklearn.cluster import HDBSCAN

from phenoflow.physics import kinematics as kin

SUBJET_ALGORITHMS = ("ca", "antikt", "hdbscan")

_P4_FIELDS = ("px", "py", "pz", "E")
_FASTJET_ALGORITHMS = {"ca": fastjet.cambridge_algorithm, "antikt": fastjet.antikt_algorithm}
_RECLUSTER_OPTIONS = frozenset({"pt_min"})
_HDBSCAN_OPTIONS = frozenset({"min_cluster_size", "min_pt_fraction"})


@dataclass(frozen=True)
class Subjets:
    """Subjets of a batch of fat jets.

    Attributes:
        p4: ``n_jets * var * {px, py, pz, E: float64}`` [GeV], subjets sorted by pT descending.
        index: ``n_jets * var * int32`` aligned with the constituents: index into ``p4`` of the
            same jet of the subjet each constituent belongs to; -1 = in no subjet.
    """

    p4: ak.Array
    index: ak.Array


# --------------------------------------------------------------------------- helpers


def _flatten_constituents(constituents: ak.Array) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Counts per jet (int64, shape (n_jets,)) and flat float64 px, py, pz, E (shape (n_total,)).

    Raises ValueError for a wrong layout, a missing field or non-finite momenta.
    """
    if not isinstance(constituents, ak.Array):
        raise TypeError(f"constituents must be an awkward Array, got {type(constituents).__name__}")
    if constituents.ndim != 2:
        raise ValueError(
            "constituents must have type n_jets * var * {px, py, pz, E, ...}, "
            f"got {constituents.type}"
        )
    missing = [f for f in _P4_FIELDS if f not in ak.fields(constituents)]
    if missing:
        raise ValueError(
            f"constituents lack the field(s) {missing}; need {list(_P4_FIELDS)}, "
            f"have {ak.fields(constituents)}"
        )
    counts = ak.to_numpy(ak.num(constituents, axis=1)).astype(np.int64)
    flat = ak.flatten(constituents, axis=1)
    p4: dict[str, np.ndarray] = {}
    for name in _P4_FIELDS:
        values = np.ascontiguousarray(ak.to_numpy(flat[name]), dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            jet = int(np.searchsorted(np.cumsum(counts), np.flatnonzero(bad)[0], side="right"))
            raise ValueError(
                f"constituents field {name!r} has {int(bad.sum())} non-finite value(s) "
                f"(NaN or inf), first in jet {jet}; clean the input before subjet finding"
            )
        p4[name] = values
    return counts, p4


def _offsets(counts: np.ndarray) -> np.ndarray:
    """Offsets (n + 1,) int64 from counts (n,)."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _jagged(counts: np.ndarray, content: ak.contents.Content) -> ak.Array:
    """Wrap flat ``content`` into ``len(counts) * var * ...`` lists."""
    return ak.Array(ak.contents.ListOffsetArray(ak.index.Index64(_offsets(counts)), content))


def _p4_content(px: np.ndarray, py: np.ndarray, pz: np.ndarray, E: np.ndarray) -> Any:
    """Flat record content {px, py, pz, E} from four float64 arrays."""
    return ak.contents.RecordArray(
        [
            ak.contents.NumpyArray(np.ascontiguousarray(x, dtype=np.float64))
            for x in (px, py, pz, E)
        ],
        list(_P4_FIELDS),
    )


def _assemble(
    counts: np.ndarray,
    jet_of_sub: np.ndarray,
    sub_p4: tuple[np.ndarray, ...],
    keep: np.ndarray,
    sub_of_constituent: np.ndarray,
) -> Subjets:
    """Sort subjets by pT within each jet, drop the unkept ones, and renumber the index.

    Args:
        counts: constituents per jet, shape (n_jets,).
        jet_of_sub: jet of each candidate subjet, shape (n_sub,), non-decreasing.
        sub_p4: px, py, pz, E of each candidate subjet [GeV], each shape (n_sub,).
        keep: which candidate subjets to keep, bool shape (n_sub,).
        sub_of_constituent: candidate subjet of each constituent (flat, shape (n_total,)),
            -1 for none.
    """
    n_jets = len(counts)
    n_sub = len(jet_of_sub)
    sub_pt = kin.pt(sub_p4[0], sub_p4[1])
    # Kept subjets first, then by pT descending, within each jet; lexsort is stable.
    order = np.lexsort((-sub_pt, ~keep, jet_of_sub))
    first_of_jet = _offsets(np.bincount(jet_of_sub, minlength=n_jets))
    rank = np.empty(n_sub, dtype=np.int64)
    rank[order] = np.arange(n_sub) - first_of_jet[jet_of_sub[order]]
    rank[~keep] = -1

    index_flat = np.full(len(sub_of_constituent), -1, dtype=np.int32)
    member = sub_of_constituent >= 0
    index_flat[member] = rank[sub_of_constituent[member]]

    kept = order[keep[order]]
    p4 = _jagged(
        np.bincount(jet_of_sub[keep], minlength=n_jets),
        _p4_content(*(x[kept] for x in sub_p4)),
    )
    index = _jagged(counts, ak.contents.NumpyArray(index_flat))
    return Subjets(p4=p4, index=index)


def _empty_subjets(counts: np.ndarray) -> Subjets:
    """No subjets at all: every constituent gets index -1."""
    none = np.zeros(0, dtype=np.int64)
    return _assemble(counts, none, (np.zeros(0),) * 4, np.zeros(0, bool), np.full(counts.sum(), -1))


# --------------------------------------------------------------------------- reclustering


def recluster_subjets(
    constituents: ak.Array, algorithm: str, r_sub: float = 0.3, pt_min: float = 0.0
) -> Subjets:
    """Inclusive C/A or anti-kt subjets of radius ``r_sub`` with FastJet, all jets at once.

    Each fat jet is handed to one FastJet ``ClusterSequence`` as an "event" (E-scheme
    recombination), so the loop over jets runs in C++.

    Args:
        constituents: ``n_jets * var * {px, py, pz, E}`` [GeV].
        algorithm: ``"ca"`` (Cambridge/Aachen) or ``"antikt"``.
        r_sub: subjet radius R in the (rapidity, phi) plane, > 0.
        pt_min: subjets with pT < ``pt_min`` [GeV] are dropped; their constituents get index -1.

    Returns:
        :class:`Subjets` with subjets sorted by pT descending in each jet.

    Raises:
        ValueError: unknown ``algorithm``, bad ``r_sub`` or ``pt_min``, or NaN/inf momenta.
    """
    if algorithm not in _FASTJET_ALGORITHMS:
        raise ValueError(
            f"recluster_subjets: unknown algorithm {algorithm!r}; "
            f"allowed: {tuple(_FASTJET_ALGORITHMS)}"
        )
    if not (np.isfinite(r_sub) and r_sub > 0):
        raise ValueError(f"recluster_subjets: r_sub must be finite and > 0, got {r_sub!r}")
    if not (np.isfinite(pt_min) and pt_min >= 0):
        raise ValueError(f"recluster_subjets: pt_min must be finite and >= 0 GeV, got {pt_min!r}")
    counts, p4 = _flatten_constituents(constituents)
    if counts.sum() == 0:
        return _empty_subjets(counts)

    offsets = _offsets(counts)
    data = _jagged(counts, _p4_content(p4["px"], p4["py"], p4["pz"], p4["E"]))
    sequence = fastjet.ClusterSequence(
        data, fastjet.JetDefinition(_FASTJET_ALGORITHMS[algorithm], float(r_sub))
    )
    jets = sequence.inclusive_jets(0.0)
    members = sequence.constituent_index(0.0)  # n_jets * var (subjet) * var (local index)

    n_sub_per_jet = ak.to_numpy(ak.num(jets, axis=1)).astype(np.int64)
    flat_jets = ak.flatten(jets, axis=1)
    sub_p4 = tuple(ak.to_numpy(flat_jets[f]).astype(np.float64) for f in _P4_FIELDS)
    jet_of_sub = np.repeat(np.arange(len(counts)), n_sub_per_jet)

    # FastJet's constituent indices are local to each jet's input list, in input order.
    members_per_sub = ak.to_numpy(ak.flatten(ak.num(members, axis=2), axis=None)).astype(np.int64)
    local = ak.to_numpy(ak.flatten(members, axis=None)).astype(np.int64)
    sub_of_member = np.repeat(np.arange(len(jet_of_sub)), members_per_sub)
    sub_of_constituent = np.full(counts.sum(), -1, dtype=np.int64)
    sub_of_constituent[offsets[jet_of_sub[sub_of_member]] + local] = sub_of_member

    keep = kin.pt(sub_p4[0], sub_p4[1]) >= pt_min
    return _assemble(counts, jet_of_sub, sub_p4, keep, sub_of_constituent)


# --------------------------------------------------------------------------- HDBSCAN


def _reachability(
    d_eta: np.ndarray, d_phi: np.ndarray, pt: np.ndarray, min_pt_fraction: float
) -> np.ndarray:
    """pT-weighted mutual reachability matrix of one jet, shape (n, n).

    Args:
        d_eta, d_phi: coordinates relative to the jet axis [rad], shape (n,).
        pt: transverse momenta [GeV], shape (n,).
        min_pt_fraction: the core distance of particle i is the smallest delta-R radius around
            i within which the summed pT (i included) reaches this fraction of the jet pT.

    Returns:
        ``M_ij = max(core_i, core_j, dR_ij)``, ``M_ii = 0``.
    """
    d_eta_ij = d_eta[:, None] - d_eta[None, :]
    d_phi_ij = d_phi[:, None] - d_phi[None, :]
    wide = bool(np.ptp(d_phi) > np.pi)  # only then can a pairwise difference need wrapping
    if wide:
        d_phi_ij = kin.delta_phi(d_phi_ij, 0.0)
    # Squared distances throughout (same ordering), one sqrt at the end; a_i - a_j is exactly
    # -(a_j - a_i), so the matrix is exactly symmetric with an exactly zero diagonal.
    dr2 = d_eta_ij * d_eta_ij + d_phi_ij * d_phi_ij
    order = np.argsort(dr2, axis=1)
    cumulative = np.cumsum(pt[order], axis=1)
    # Each row's own total (not pt.sum()) so summation rounding cannot miss the threshold.
    reached = cumulative >= min_pt_fraction * cumulative[:, -1:]
    rows = np.arange(len(pt))
    core2 = dr2[rows, order[rows, np.argmax(reached, axis=1)]]
    reach2 = np.maximum(np.maximum.outer(core2, core2), dr2)
    if wide:
        reach2 = np.minimum(reach2, reach2.T)  # the wrap-around may round asymmetrically
    np.fill_diagonal(reach2, 0.0)
    return np.sqrt(reach2)


def hdbscan_subjets(
    constituents: ak.Array,
    jet_eta: np.ndarray,
    jet_phi: np.ndarray,
    min_cluster_size: int = 3,
    min_pt_fraction: float = 0.05,
) -> Subjets:
    """Density-based subjets: HDBSCAN on a pT-weighted reachability in (delta eta, delta phi).

    No fixed radius. For each jet, particle coordinates are taken relative to the jet axis
    (pseudorapidity, azimuth with wrap-around), and each particle gets a pT-weighted core
    distance: the smallest delta-R radius around it within which the summed pT (itself
    included) reaches ``min_pt_fraction`` times the jet pT (the scalar sum of the constituents'
    pT). The mutual reachability ``M_ij = max(core_i, core_j, dR_ij)`` goes to scikit-learn's
    ``HDBSCAN(metric="precomputed", min_samples=1)``; with ``min_samples=1`` HDBSCAN's own core
    distances vanish, so the hierarchy is built on this pT-weighted reachability. Defaults of
    HDBSCAN are kept otherwise (``cluster_selection_method="eom"``,
    ``allow_single_cluster=False``).

    Special cases: a jet with no constituents has no subjets; a jet with fewer than
    ``min_cluster_size`` constituents is too small to cluster and gets all its constituents
    in one subjet (index 0). Particles HDBSCAN calls noise get index -1 and are in no subjet.
    Particles with zero pT (undefined eta) are placed far from everything, so they end up as
    noise or in their own group.

    Python loops over jets only; the per-jet distance work is numpy.

    Args:
        constituents: ``n_jets * var * {px, py, pz, E}`` [GeV].
        jet_eta: jet-axis pseudorapidity, shape (n_jets,).
        jet_phi: jet-axis azimuth [rad], shape (n_jets,).
        min_cluster_size: smallest subjet in particles, >= 2.
        min_pt_fraction: pT fraction defining the core distance, in [0, 1].

    Returns:
        :class:`Subjets`; subjet four-momenta are the sums of their members, sorted by pT
        descending.

    Raises:
        ValueError: bad shapes or parameters, or NaN/inf momenta.
    """
    _check_hdbscan_options(min_cluster_size, min_pt_fraction)
    counts, p4 = _flatten_constituents(constituents)
    n_jets = len(counts)
    axis_eta = _axis_column("jet_eta", jet_eta, counts)
    axis_phi = _axis_column("jet_phi", jet_phi, counts)
    pt = kin.pt(p4["px"], p4["py"])
    eta = np.nan_to_num(kin.eta(p4["px"], p4["py"], p4["pz"]), nan=1e3, posinf=1e3, neginf=-1e3)
    jet_of_constituent = np.repeat(np.arange(n_jets), counts)
    d_eta = eta - axis_eta[jet_of_constituent]
    d_phi = kin.delta_phi(kin.phi(p4["px"], p4["py"]), axis_phi[jet_of_constituent])
    labels, n_sub_per_jet = _hdbscan_labels(
        counts, d_eta, d_phi, pt, min_cluster_size, min_pt_fraction
    )

    # Candidate subjets numbered jet by jet; their momenta are sums over members.
    first_sub = _offsets(n_sub_per_jet)
    member = labels >= 0
    sub_of_constituent = np.where(member, first_sub[jet_of_constituent] + labels, -1)
    n_sub = int(first_sub[-1])
    sub_p4 = tuple(
        np.bincount(sub_of_constituent[member], weights=p4[f][member], minlength=n_sub)
        for f in _P4_FIELDS
    )
    jet_of_sub = np.repeat(np.arange(n_jets), n_sub_per_jet)
    return _assemble(counts, jet_of_sub, sub_p4, np.ones(n_sub, bool), sub_of_constituent)


def _check_hdbscan_options(min_cluster_size: Any, min_pt_fraction: Any) -> None:
    if isinstance(min_cluster_size, bool) or not isinstance(min_cluster_size, int | np.integer):
        raise ValueError(
            f"hdbscan_subjets: min_cluster_size must be an integer >= 2, got {min_cluster_size!r}"
        )
    if min_cluster_size < 2:
        raise ValueError(
            f"hdbscan_subjets: min_cluster_size must be >= 2, got {min_cluster_size!r}"
        )
    if not (np.isfinite(min_pt_fraction) and 0.0 <= min_pt_fraction <= 1.0):
        raise ValueError(
            f"hdbscan_subjets: min_pt_fraction must be in [0, 1], got {min_pt_fraction!r}"
        )


def _axis_column(name: str, values: Any, counts: np.ndarray) -> np.ndarray:
    """A jet-axis coordinate as (n_jets,) float64, finite for every non-empty jet."""
    n_jets = len(counts)
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (n_jets,):
        raise ValueError(
            f"hdbscan_subjets: {name} must have shape ({n_jets},) like the constituents, "
            f"got {values.shape}"
        )
    if not np.isfinite(values[counts > 0]).all():
        raise ValueError(f"hdbscan_subjets: {name} has NaN/inf for a non-empty jet")
    return values


def _hdbscan_labels(
    counts: np.ndarray,
    d_eta: np.ndarray,
    d_phi: np.ndarray,
    pt: np.ndarray,
    min_cluster_size: int,
    min_pt_fraction: float,
) -> tuple[np.ndarray, np.ndarray]:
    """HDBSCAN jet by jet: (subjet label per constituent (-1: noise), subjets per jet)."""
    n_jets = len(counts)
    offsets = _offsets(counts)
    labels = np.full(len(pt), -1, dtype=np.int64)
    n_sub_per_jet = np.zeros(n_jets, dtype=np.int64)
    clusterer = HDBSCAN(
        min_cluster_size=min_cluster_size, min_samples=1, metric="precomputed", copy=True
    )
    for jet in np.flatnonzero(counts):
        lo, hi = offsets[jet], offsets[jet + 1]
        if hi - lo < min_cluster_size:
            labels[lo:hi] = 0
            n_sub_per_jet[jet] = 1
            continue
        reach = _reachability(d_eta[lo:hi], d_phi[lo:hi], pt[lo:hi], min_pt_fraction)
        jet_labels = clusterer.fit_predict(reach)
        labels[lo:hi] = jet_labels
        n_sub_per_jet[jet] = jet_labels.max() + 1
    return labels, n_sub_per_jet


# --------------------------------------------------------------------------- dispatcher


def subjets(
    constituents: ak.Array,
    algorithm: str,
    *,
    r_sub: float = 0.3,
    jet_eta: np.ndarray | None = None,
    jet_phi: np.ndarray | None = None,
    **options: Any,
) -> Subjets:
    """Subjets of each fat jet with one of :data:`SUBJET_ALGORITHMS`.

    Args:
        constituents: ``n_jets * var * {px, py, pz, E}`` [GeV].
        algorithm: ``"ca"``, ``"antikt"`` or ``"hdbscan"``.
        r_sub: subjet radius for ``"ca"``/``"antikt"``; HDBSCAN has no radius and ignores it.
        jet_eta, jet_phi: jet axes, shape (n_jets,), for ``"hdbscan"``; when left out, the axis
            of the summed constituent four-momentum is used.
        **options: algorithm settings: ``pt_min`` for ``"ca"``/``"antikt"``;
            ``min_cluster_size`` and ``min_pt_fraction`` for ``"hdbscan"``. Settings that belong
            to the other family are ignored, so one call site can pass them all (as ``r_sub``
            is ignored by HDBSCAN); names known to neither raise.

    Raises:
        ValueError: unknown ``algorithm`` or unknown option names.
    """
    unknown = sorted(set(options) - _RECLUSTER_OPTIONS - _HDBSCAN_OPTIONS)
    if unknown:
        raise ValueError(
            f"subjets: unknown option(s) {unknown}; allowed: "
            f"{sorted(_RECLUSTER_OPTIONS)} for 'ca'/'antikt', "
            f"{sorted(_HDBSCAN_OPTIONS)} for 'hdbscan'"
        )
    if algorithm in _FASTJET_ALGORITHMS:
        mine = {k: v for k, v in options.items() if k in _RECLUSTER_OPTIONS}
        return recluster_subjets(constituents, algorithm, r_sub=r_sub, **mine)
    if algorithm == "hdbscan":
        mine = {k: v for k, v in options.items() if k in _HDBSCAN_OPTIONS}
        if jet_eta is None or jet_phi is None:
            total = {f: ak.to_numpy(ak.sum(constituents[f], axis=1)) for f in ("px", "py", "pz")}
            # A jet with no transverse momentum has no defined axis; any finite one will do,
            # since pairwise distances do not depend on it.
            if jet_eta is None:
                jet_eta = np.nan_to_num(
                    kin.eta(total["px"], total["py"], total["pz"]), posinf=1e3, neginf=-1e3
                )
            if jet_phi is None:
                jet_phi = kin.phi(total["px"], total["py"])
        return hdbscan_subjets(constituents, jet_eta, jet_phi, **mine)
    raise ValueError(f"unknown subjet algorithm {algorithm!r}; allowed: {SUBJET_ALGORITHMS}")
