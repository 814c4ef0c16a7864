"""Events with two b jets from a resonance -> b bbar (or QCD b bbar): selection and kinematics.

The b jets are anti-kt jets of all visible particles (FastJet, one ClusterSequence over all
events), b-tagged by **truth matching**: a jet is a b jet when its axis lies within
``match_r`` of a hard-process b quark (``|pid| == 5`` in the event's ``partons``).  No
detector-level tagging efficiency or mistag rate is modelled.

Shapes: ``b_jets`` is ``(n_events, 2, 4)`` float64, ``(px, py, pz, E)`` in GeV, the leading
(higher-pT) b jet first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

from phenoflow.jets.cluster import MOMENTUM_FIELDS, JetInputError, check_particles, jet_kinematics
from phenoflow.physics.kinematics import delta_phi, delta_r, mass

B_QUARK_PID = 5
# floor under pT when computing pseudorapidities of the features, so that a system with
# pT = 0 (two exactly back-to-back jets) gets a large finite eta instead of +-inf or NaN
_PT_FLOOR = 1e-9  # GeV

CUT_FLOW_KEYS: tuple[str, ...] = ("events", "two_b_jets", "pt", "m_bb", "dr")
KINEMATIC_FEATURES: tuple[str, ...] = (
    "pt1",
    "eta1",
    "m1",
    "pt2",
    "eta2",
    "m2",
    "m_bb",
    "pt_bb",
    "eta_bb",
    "dr_bb",
    "deta_bb",
    "dphi_bb",
)


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"BBSelection.{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"BBSelection.{name} must be positive and finite, got {value!r}")
    return float(value)


def _pair(name: str, value: Any, unit: str) -> tuple[float, float]:
    if isinstance(value, str) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"BBSelection.{name} must be a pair of numbers [{unit}], got {value!r}")
    a, b = value
    for x in (a, b):
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x < 0:
            raise ValueError(
                f"BBSelection.{name} must hold two finite numbers >= 0 [{unit}], got {value!r}"
            )
    return float(a), float(b)


@dataclass(frozen=True)
class BBSelection:
    """Two-b-jet event selection.

    Attributes:
        r: anti-kt radius of the b jets.
        pt_min: (leading, subleading) b-jet pT thresholds [GeV]; jets are clustered down to
            the smaller of the two.
        eta_max: |eta| acceptance of the jets.
        m_window: (low, high) window of the b bbar invariant mass [GeV], low < m_bb < high.
        dr_max: upper cut on Delta R between the two b-jet axes.
        match_r: a jet is b-tagged when a hard-process b quark lies within match_r of its axis.
    """

    r: float = 0.4
    pt_min: tuple[float, float] = (45.0, 20.0)
    eta_max: float = 2.5
    m_window: tuple[float, float] = (110.0, 140.0)
    dr_max: float = 3.0
    match_r: float = 0.4

    def __post_init__(self) -> None:
        # lists (from YAML) become tuples, so the selection stays hashable
        for name in ("r", "eta_max", "dr_max", "match_r"):
            object.__setattr__(self, name, _positive(name, getattr(self, name)))
        object.__setattr__(self, "pt_min", _pair("pt_min", self.pt_min, "GeV"))
        window = _pair("m_window", self.m_window, "GeV")
        if window[0] >= window[1]:
            raise ValueError(f"BBSelection.m_window must have low < high [GeV], got {window}")
        object.__setattr__(self, "m_window", window)


@dataclass
class BBEvents:
    """The selected events.

    Attributes:
        event_id: (n,) int64.
        weight: (n,) float64.
        b_jets: (n, 2, 4) float64 (px, py, pz, E) [GeV], leading b jet first.
        particles: ``n * var * {px, py, pz, E, pid, charge}``, the selected events' particles
            (records unchanged).
    """

    event_id: np.ndarray
    weight: np.ndarray
    b_jets: np.ndarray
    particles: ak.Array

    def __len__(self) -> int:
        return int(self.event_id.shape[0])


def _event_column(events: ak.Array, name: str, dtype: type) -> np.ndarray:
    if name not in ak.fields(events):
        raise JetInputError(f"events: no {name!r} field (fields: {ak.fields(events)})")
    return np.asarray(ak.to_numpy(events[name]), dtype=dtype)


def _cluster(particles: ak.Array, r: float, pt_min: float, eta_max: float) -> ak.Array:
    """Anti-kt jets ``n * var * {px, py, pz, E, pt, eta, phi, mass}``, pT-descending, cut in
    pT > pt_min and |eta| < eta_max."""
    import fastjet
    import vector

    vector.register_awkward()
    p = ak.zip({f: particles[f] for f in MOMENTUM_FIELDS}, with_name="Momentum4D")
    cs = fastjet.ClusterSequence(p, fastjet.JetDefinition(fastjet.antikt_algorithm, r))
    jets = jet_kinematics(cs.inclusive_jets(min_pt=pt_min))
    jets = jets[(jets.pt > pt_min) & (abs(jets.eta) < eta_max)]
    return jets[ak.argsort(jets.pt, axis=1, ascending=False)]


def _b_tagged(jets: ak.Array, partons: ak.Array, match_r: float) -> ak.Array:
    """``n * var * bool``: a hard-process b quark lies within ``match_r`` of the jet axis."""
    quarks = partons[abs(partons.pid) == B_QUARK_PID]
    qk = jet_kinematics(quarks)
    pairs = ak.cartesian({"jet": jets, "quark": qk}, axis=1, nested=True)
    with np.errstate(invalid="ignore"):  # a quark along the beam has eta = +-inf: no match
        dr = delta_r(pairs.jet.eta, pairs.jet.phi, pairs.quark.eta, pairs.quark.phi)
    return ak.any(dr < match_r, axis=2)


def _two_leading(jets: ak.Array) -> np.ndarray:
    """(n, 2, 4) float64 momenta of the two leading jets; zeros where an event has fewer."""
    two = ak.pad_none(jets, 2, axis=1, clip=True)
    columns = [
        np.asarray(ak.to_numpy(ak.fill_none(two[f], 0.0)), dtype=np.float64)
        for f in MOMENTUM_FIELDS
    ]
    return np.stack(columns, axis=-1).reshape(len(jets), 2, 4)


def select_bb_events(events: ak.Array, selection: BBSelection) -> tuple[BBEvents, dict[str, int]]:
    """Events with two truth-matched b jets passing the pT, m_bb and Delta R_bb cuts.

    All particles are clustered with anti-kt ``selection.r``; jets with pT > min(pt_min) and
    |eta| < eta_max are kept.  b tagging is by truth matching to hard-process b quarks
    (``|pid| == 5`` in ``events.partons``, within ``match_r`` of the jet axis).  The two
    leading b-tagged jets must pass pT > pt_min (leading, subleading), low < m_bb < high and
    Delta R_bb < dr_max.  Vectorised over events.

    Args:
        events: ``n * {particles, partons, weight, event_id}`` (the event Parquet record).
        selection: the cuts.

    Returns:
        The selected events and the cumulative cut flow ``{"events", "two_b_jets", "pt",
        "m_bb", "dr"}`` (numbers of events passing up to and including each cut).
    """
    if not isinstance(selection, BBSelection):
        raise TypeError(f"selection must be a BBSelection, got {type(selection).__name__}")
    particles = check_particles(events)
    if "partons" not in ak.fields(events) or "pid" not in ak.fields(events["partons"]):
        raise JetInputError("events: no 'partons' with a 'pid' field: cannot b-tag by truth")
    event_id = _event_column(events, "event_id", np.int64)
    weight = _event_column(events, "weight", np.float64)
    n = len(events)
    if n == 0:
        empty = BBEvents(event_id, weight, np.zeros((0, 2, 4)), particles[:0])
        return empty, dict.fromkeys(CUT_FLOW_KEYS, 0)

    jets = _cluster(particles, selection.r, min(selection.pt_min), selection.eta_max)
    b = jets[_b_tagged(jets, events["partons"], selection.match_r)]
    b_jets = _two_leading(b)
    two = np.asarray(ak.to_numpy(ak.num(b, axis=1)) >= 2)
    axis = bb_axis(b_jets)
    pt1, pt2 = (np.hypot(b_jets[:, i, 0], b_jets[:, i, 1]) for i in (0, 1))
    lo, hi = selection.m_window
    cuts = {
        "two_b_jets": two,
        "pt": (pt1 > selection.pt_min[0]) & (pt2 > selection.pt_min[1]),
        "m_bb": (axis["m_bb"] > lo) & (axis["m_bb"] < hi),
        "dr": axis["dr_bb"] < selection.dr_max,
    }
    keep = np.ones(n, dtype=bool)
    flow = {"events": n}
    for name, passed in cuts.items():
        keep &= passed
        flow[name] = int(keep.sum())
    out = BBEvents(event_id[keep], weight[keep], b_jets[keep], particles[keep])
    return out, flow


def _check_b_jets(b_jets: Any) -> np.ndarray:
    array = np.asarray(b_jets, dtype=np.float64)
    if array.ndim != 3 or array.shape[1:] != (2, 4):
        raise ValueError(
            f"b_jets has shape {array.shape}, expected (n, 2, 4) (two jets of px, py, pz, E)"
        )
    return array


def _pt_eta_phi(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pT [GeV], eta (pT floored at 1e-9 GeV: always finite) and phi of (..., 4) momenta."""
    pt_ = np.hypot(p[..., 0], p[..., 1])
    return pt_, np.arcsinh(p[..., 2] / np.maximum(pt_, _PT_FLOOR)), np.arctan2(p[..., 1], p[..., 0])


def bb_axis(b_jets: np.ndarray) -> dict[str, np.ndarray]:
    """The b bbar system: (n,) float64 ``pt_bb`` [GeV], ``eta_bb``, ``m_bb`` [GeV] and
    ``dr_bb`` (Delta R between the two jet axes) of ``b_jets`` (n, 2, 4)."""
    jets = _check_b_jets(b_jets)
    total = jets[:, 0] + jets[:, 1]
    pt_bb, eta_bb, _ = _pt_eta_phi(total)
    _, eta_j, phi_j = _pt_eta_phi(jets)
    return {
        "pt_bb": pt_bb,
        "eta_bb": eta_bb,
        "m_bb": mass(total[:, 0], total[:, 1], total[:, 2], total[:, 3]),
        "dr_bb": delta_r(eta_j[:, 0], phi_j[:, 0], eta_j[:, 1], phi_j[:, 1]),
    }


def kinematic_features(b_jets: np.ndarray) -> np.ndarray:
    """(n, len(KINEMATIC_FEATURES)) float32 kinematic features of the two b jets, unstandardised.

    Columns, in the order of :data:`KINEMATIC_FEATURES`: pT [GeV], eta and mass [GeV] of the
    leading and of the subleading jet; m, pT [GeV] and eta of the b bbar system; Delta R,
    |Delta eta| and |Delta phi| (in [0, pi]) between the two jet axes.  Pseudorapidities use
    pT floored at 1e-9 GeV, so a system with pT = 0 gets a large finite eta.
    """
    jets = _check_b_jets(b_jets)
    pt_j, eta_j, phi_j = _pt_eta_phi(jets)
    m_j = mass(jets[..., 0], jets[..., 1], jets[..., 2], jets[..., 3])
    axis = bb_axis(jets)
    columns = {
        "pt1": pt_j[:, 0],
        "eta1": eta_j[:, 0],
        "m1": m_j[:, 0],
        "pt2": pt_j[:, 1],
        "eta2": eta_j[:, 1],
        "m2": m_j[:, 1],
        **axis,
        "deta_bb": np.abs(eta_j[:, 0] - eta_j[:, 1]),
        "dphi_bb": np.abs(delta_phi(phi_j[:, 0], phi_j[:, 1])),
    }
    return np.stack([columns[k] for k in KINEMATIC_FEATURES], axis=1).astype(np.float32)
