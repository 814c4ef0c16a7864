"""Event-level inputs of the two leading fat jets (multi-scale cross-attention taggers).

All visible particles of an event are clustered into anti-kt fat jets (FastJet, one
``ClusterSequence`` over the whole chunk); an event is selected when at least two jets pass
pT > ``pt_min`` and |eta| < ``eta_max``.  Of those, the two leading by pT are kept, jet 1 being
the harder.  Per selected event :func:`dijet_inputs` returns three views of the same two jets:

* the **particles** of each jet: the particle-transformer features of
  :func:`phenoflow.jets.features.constituent_features` (``FEATURE_NAMES`` order) and the
  constituent four-momenta for the pair features, ``n_constituents`` hardest, pT-descending,
  zero-padded with a mask;
* **kinematic tokens** (:data:`KIN_TOKEN_FEATURES`): one per fat jet, one per kept subjet of
  each jet and one for the dijet system;
* flat high-level **kinematics** (:data:`KINEMATIC_FEATURES`).

Subjets are the *inclusive anti-kt subjets* of radius ``subjet_r`` of each fat jet's
constituents (E-scheme, :func:`phenoflow.jets.subjets.recluster_subjets`), the
``n_subjets`` hardest kept: the two b jets of h -> b bbar stay resolved down to
Delta R_bb ~ subjet_r, and soft radiation forms its own (soft) subjets rather than
distorting the exclusive-kt axes of a fixed number of subjets.

The default radius R = 1.0 contains both b quarks of h -> b bbar at the pT of a 700 GeV
resonance's decay (Delta R_bb ~ 2 m_h / pT_h ~ 0.8); R = 0.8 is enough from m_H ~ 1 TeV
(Delta R_bb ~ 0.5) upwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

from phenoflow.jets.cluster import MOMENTUM_FIELDS, JetInputError, check_particles, jet_kinematics
from phenoflow.jets.features import FEATURE_NAMES, constituent_features
from phenoflow.jets.subjets import recluster_subjets
from phenoflow.jets.substructure import SubstructureConfig, substructure
from phenoflow.physics.kinematics import delta_phi, mass

CUT_FLOW_KEYS: tuple[str, ...] = ("events", "one_fat_jet", "two_fat_jets")
KINEMATIC_FEATURES: tuple[str, ...] = (
    "m_j1",
    "m_j2",
    "m_jj",
    "pt_j1",
    "pt_j2",
    "eta_j1",
    "eta_j2",
    "delta_eta",
    "tau21_j1",
    "tau21_j2",
    "sd_mass_j1",
    "sd_mass_j2",
)
KIN_TOKEN_FEATURES: tuple[str, ...] = (
    "log_pt",
    "eta",
    "dphi",
    "log_e",
    "log_m",
    "is_jet",
    "is_subjet",
    "is_dijet",
)
# Floors under the logarithms of the tokens [GeV]: a single-particle subjet has m ~ 0, and
# ln(1 MeV) ~ -6.9 keeps it near the physical range instead of ln(1e-30) ~ -69.
_LOG_FLOOR = 1e-3
# Floor under pT for pseudorapidities [GeV]: a system with pT = 0 gets a large finite eta.
_PT_FLOOR = 1e-9
# Soft drop (beta 0, z_cut 0.1: mMDT) and N-subjettiness (beta 1) of the kinematics.
_SD_BETA, _SD_ZCUT, _NSUB_BETA = 0.0, 0.1, 1.0


def _number(name: str, value: Any, low: float, strict: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"DijetSelection.{name} must be a finite number, got {value!r}")
    if value < low or (strict and value == low):
        sign = ">" if strict else ">="
        raise ValueError(f"DijetSelection.{name} must be {sign} {low}, got {value!r}")
    return float(value)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"DijetSelection.{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class DijetSelection:
    """Two-fat-jet event selection and the sizes of the per-event inputs.

    Attributes:
        r: anti-kt radius of the fat jets (1.0 default; 0.8 supported).
        pt_min: pT threshold of both fat jets [GeV].
        eta_max: |eta| acceptance of both fat jets.
        n_constituents: constituents kept per jet (the hardest, pT-descending; padded, masked).
        subjet_r: radius of the inclusive anti-kt subjets of each fat jet, < r.
        n_subjets: subjets kept per jet (the hardest; padded, masked).
    """

    r: float = 1.0
    pt_min: float = 250.0
    eta_max: float = 2.0
    n_constituents: int = 64
    subjet_r: float = 0.2
    n_subjets: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "r", _number("r", self.r, 0.0, strict=True))
        object.__setattr__(self, "pt_min", _number("pt_min", self.pt_min, 0.0, strict=False))
        object.__setattr__(self, "eta_max", _number("eta_max", self.eta_max, 0.0, strict=True))
        object.__setattr__(self, "subjet_r", _number("subjet_r", self.subjet_r, 0.0, strict=True))
        if self.subjet_r >= self.r:
            raise ValueError(
                f"DijetSelection.subjet_r must be smaller than r = {self.r}, got {self.subjet_r}"
            )
        object.__setattr__(self, "n_constituents", _count("n_constituents", self.n_constituents))
        object.__setattr__(self, "n_subjets", _count("n_subjets", self.n_subjets))

    @property
    def n_tokens(self) -> int:
        """Kinematic tokens per event: two jets, their subjets and the dijet system."""
        return 2 + 2 * self.n_subjets + 1


def _event_column(events: ak.Array, name: str, dtype: type) -> np.ndarray:
    if name not in ak.fields(events):
        raise JetInputError(f"events: no {name!r} field (fields: {ak.fields(events)})")
    return np.asarray(ak.to_numpy(events[name]), dtype=dtype)


def _fat_jets(particles: ak.Array, selection: DijetSelection) -> tuple[ak.Array, ak.Array]:
    """Anti-kt jets in the pT/|eta| acceptance, pT-descending, and their constituents.

    Returns ``n * var * {px, py, pz, E, pt, eta, phi, mass}`` and ``n * var * var * {px, py,
    pz, E, pid, charge}`` (plain records, constituents in FastJet's order).
    """
    import fastjet
    import vector

    vector.register_awkward()
    fields = {f: particles[f] for f in (*MOMENTUM_FIELDS, "pid", "charge")}
    p = ak.zip(fields, with_name="Momentum4D")
    cs = fastjet.ClusterSequence(p, fastjet.JetDefinition(fastjet.antikt_algorithm, selection.r))
    jets = jet_kinematics(cs.inclusive_jets(min_pt=selection.pt_min))
    const = cs.constituents(min_pt=selection.pt_min)
    const = ak.zip({f: const[f] for f in fields})  # drop the vector behaviour
    keep = (jets.pt > selection.pt_min) & (abs(jets.eta) < selection.eta_max)
    jets, const = jets[keep], const[keep]
    order = ak.argsort(jets.pt, axis=1, ascending=False, stable=True)
    return jets[order], const[order]


def _pt_ordered(const: ak.Array) -> ak.Array:
    """Constituents ``n_jets * var * record`` sorted by pT descending within each jet."""
    order = ak.argsort(np.hypot(const.px, const.py), axis=1, ascending=False, stable=True)
    return const[order]


def _padded_p4(records: ak.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """``n * var * {px, py, pz, E}`` -> (n, width, 4) float64 zero-padded and (n, width) mask."""
    two = ak.pad_none(records, width, axis=1, clip=True)
    p4 = np.stack(
        [
            np.asarray(ak.to_numpy(ak.fill_none(two[f], 0.0)), dtype=np.float64)
            for f in MOMENTUM_FIELDS
        ],
        axis=-1,
    ).reshape(len(records), width, 4)
    mask = np.arange(width)[None, :] < np.asarray(ak.to_numpy(ak.num(records, axis=1)))[:, None]
    return p4, mask


def _pt_eta_phi_m(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """pT [GeV], eta (pT floored: always finite), phi [rad] and mass [GeV] of (..., 4) momenta."""
    pt_ = np.hypot(p[..., 0], p[..., 1])
    eta_ = np.arcsinh(p[..., 2] / np.maximum(pt_, _PT_FLOOR))
    return pt_, eta_, np.arctan2(p[..., 1], p[..., 0]), mass(*(p[..., i] for i in range(4)))


def kin_tokens(
    jets: np.ndarray, subjets: np.ndarray, subjet_mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Event-level kinematic tokens of two fat jets, their subjets and the dijet system.

    Token order: jet 1, the subjets of jet 1 (pT-descending), jet 2, the subjets of jet 2,
    the dijet system (jet 1 + jet 2); T = 2 + 2 k + 1.  Features (:data:`KIN_TOKEN_FEATURES`):
    ln pT, eta, phi - phi_JJ wrapped into [-pi, pi) (phi_JJ = azimuth of the dijet system),
    ln E, ln m (pT, E, m in GeV, floored at 1e-3 GeV), and the token type one-hot (jet,
    subjet, dijet).  Padded subjets are all zero and masked.

    Args:
        jets: (n, 2, 4) float (px, py, pz, E) [GeV] of the two fat jets, leading first.
        subjets: (n, 2, k, 4) float subjet momenta of each jet, zero where padded.
        subjet_mask: (n, 2, k) bool, True for real subjets.

    Returns:
        tokens: (n, T, len(KIN_TOKEN_FEATURES)) float32; mask: (n, T) bool.
    """
    jets = np.asarray(jets, dtype=np.float64)
    subjets = np.asarray(subjets, dtype=np.float64)
    n, k = subjets.shape[0], subjets.shape[2]
    if jets.shape != (n, 2, 4) or subjets.shape != (n, 2, k, 4) or subjet_mask.shape != (n, 2, k):
        raise ValueError(
            f"kin_tokens: shapes jets {jets.shape}, subjets {subjets.shape}, subjet_mask "
            f"{subjet_mask.shape}; expected (n, 2, 4), (n, 2, k, 4), (n, 2, k)"
        )
    per_jet = np.concatenate([jets[:, :, None, :], subjets], axis=2)  # (n, 2, 1 + k, 4)
    dijet = (jets[:, 0] + jets[:, 1])[:, None, :]
    p4 = np.concatenate([per_jet.reshape(n, 2 * (1 + k), 4), dijet], axis=1)
    kind = np.array(([0] + [1] * k) * 2 + [2])  # 0 jet, 1 subjet, 2 dijet
    real = np.ones((n, 2, 1 + k), dtype=bool)
    real[:, :, 1:] = subjet_mask
    mask = np.concatenate([real.reshape(n, -1), np.ones((n, 1), dtype=bool)], axis=1)

    pt_, eta_, phi_, m_ = _pt_eta_phi_m(p4)
    phi_jj = phi_[:, -1:]
    columns = (
        np.log(np.maximum(pt_, _LOG_FLOOR)),
        eta_,
        delta_phi(phi_, phi_jj),
        np.log(np.maximum(p4[..., 3], _LOG_FLOOR)),
        np.log(np.maximum(m_, _LOG_FLOOR)),
        *(np.broadcast_to(kind == t, (n, kind.size)) for t in range(3)),
    )
    tokens = np.stack(columns, axis=-1).astype(np.float32)
    tokens[~mask] = 0.0
    return tokens, mask


def dijet_kinematics(jets: np.ndarray, constituents: ak.Array, r: float) -> np.ndarray:
    """(n, len(KINEMATIC_FEATURES)) float32 high-level features of the two leading fat jets.

    Columns (:data:`KINEMATIC_FEATURES`): the masses [GeV] of jet 1, jet 2 and the dijet
    system; pT [GeV] and eta of both jets; |eta_1 - eta_2|; tau21 (N-subjettiness, beta 1,
    exclusive-kt axes, radius ``r``) of both jets; soft-drop masses [GeV] (beta 0, z_cut 0.1,
    R0 = ``r``) of both jets, from :func:`phenoflow.jets.substructure.substructure`.

    Args:
        jets: (n, 2, 4) float (px, py, pz, E) [GeV], leading first.
        constituents: ``2n * var * {px, py, pz, E}`` [GeV], the constituents of every jet 1
            followed by those of every jet 2.
        r: fat-jet radius.
    """
    n = jets.shape[0]
    pt_j, eta_j, _, m_j = _pt_eta_phi_m(jets)
    total = jets[:, 0] + jets[:, 1]
    sub = substructure(
        constituents,
        SubstructureConfig(r=r, sd_beta=_SD_BETA, sd_zcut=_SD_ZCUT, nsub_beta=_NSUB_BETA),
    )
    tau21 = np.asarray(sub["tau21"]).reshape(2, n)
    sd = np.asarray(sub["sd_mass"]).reshape(2, n)
    columns = {
        "m_j1": m_j[:, 0],
        "m_j2": m_j[:, 1],
        "m_jj": mass(total[:, 0], total[:, 1], total[:, 2], total[:, 3]),
        "pt_j1": pt_j[:, 0],
        "pt_j2": pt_j[:, 1],
        "eta_j1": eta_j[:, 0],
        "eta_j2": eta_j[:, 1],
        "delta_eta": np.abs(eta_j[:, 0] - eta_j[:, 1]),
        "tau21_j1": tau21[0],
        "tau21_j2": tau21[1],
        "sd_mass_j1": sd[0],
        "sd_mass_j2": sd[1],
    }
    return np.stack([columns[k] for k in KINEMATIC_FEATURES], axis=1).astype(np.float32)


def _empty_inputs(selection: DijetSelection) -> dict[str, np.ndarray]:
    """The outputs of :func:`dijet_inputs` for no selected event (right dtypes and shapes)."""
    n_c, n_f, n_t = selection.n_constituents, len(FEATURE_NAMES), selection.n_tokens
    out: dict[str, np.ndarray] = {}
    for j in ("jet1", "jet2"):
        out[f"{j}_features"] = np.zeros((0, n_c, n_f), dtype=np.float32)
        out[f"{j}_mask"] = np.zeros((0, n_c), dtype=bool)
        out[f"{j}_p4"] = np.zeros((0, n_c, 4), dtype=np.float32)
    out["kin_tokens"] = np.zeros((0, n_t, len(KIN_TOKEN_FEATURES)), dtype=np.float32)
    out["kin_mask"] = np.zeros((0, n_t), dtype=bool)
    out["kinematics"] = np.zeros((0, len(KINEMATIC_FEATURES)), dtype=np.float32)
    out["event_id"] = np.zeros(0, dtype=np.int64)
    out["weight"] = np.zeros(0, dtype=np.float64)
    return out


def dijet_inputs(
    events: ak.Array, selection: DijetSelection
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Per-event inputs of the two leading fat jets of every event with two fat jets.

    Vectorised over events (one FastJet clustering per chunk); the caller bounds memory by
    passing chunks.

    Args:
        events: ``n * {particles, weight, event_id}`` (the event Parquet record).
        selection: jet definition, acceptance and input sizes.

    Returns:
        ``(inputs, cut_flow)``.  ``inputs`` holds, for the n_sel selected events (N =
        ``n_constituents``, F = len(FEATURE_NAMES), T = ``selection.n_tokens``):

        * ``jet1_features``, ``jet2_features``: (n_sel, N, F) float32 particle-transformer
          constituent features (``FEATURE_NAMES`` order), zero where masked;
        * ``jet1_mask``, ``jet2_mask``: (n_sel, N) bool, True for real constituents;
        * ``jet1_p4``, ``jet2_p4``: (n_sel, N, 4) float32 constituent (px, py, pz, E) [GeV],
          in the same pT-descending order, zero where masked;
        * ``kin_tokens``: (n_sel, T, len(KIN_TOKEN_FEATURES)) float32 and ``kin_mask`` (n_sel,
          T) bool, see :func:`kin_tokens`;
        * ``kinematics``: (n_sel, len(KINEMATIC_FEATURES)) float32, see
          :func:`dijet_kinematics`;
        * ``event_id`` (n_sel,) int64, ``weight`` (n_sel,) float64.

        ``cut_flow``: events, one_fat_jet (>= 1 jet in the acceptance), two_fat_jets.

    Raises:
        TypeError: ``selection`` is not a DijetSelection.
        JetInputError: a field is missing or momenta are not finite.
    """
    if not isinstance(selection, DijetSelection):
        raise TypeError(f"selection must be a DijetSelection, got {type(selection).__name__}")
    particles = check_particles(events)
    event_id = _event_column(events, "event_id", np.int64)
    weight = _event_column(events, "weight", np.float64)
    n = len(events)
    if n == 0:
        return _empty_inputs(selection), dict.fromkeys(CUT_FLOW_KEYS, 0)
    jets, const = _fat_jets(particles, selection)
    n_jets = np.asarray(ak.to_numpy(ak.num(jets, axis=1)))
    keep = n_jets >= 2
    flow = {"events": n, "one_fat_jet": int((n_jets >= 1).sum()), "two_fat_jets": int(keep.sum())}
    if not keep.any():
        return _empty_inputs(selection), flow

    two_p4, _ = _padded_p4(jets[keep][:, :2], 2)  # (n_sel, 2, 4)
    both = ak.concatenate([const[keep][:, 0], const[keep][:, 1]], axis=0)  # (2 n_sel) * var
    out = _particle_inputs(_pt_ordered(both), two_p4, selection)
    subjets = recluster_subjets(both, "antikt", r_sub=selection.subjet_r)
    sub_p4, sub_mask = _padded_p4(subjets.p4, selection.n_subjets)
    n_sel, k = int(keep.sum()), selection.n_subjets
    out["kin_tokens"], out["kin_mask"] = kin_tokens(
        two_p4,
        sub_p4.reshape(2, n_sel, k, 4).transpose(1, 0, 2, 3),
        sub_mask.reshape(2, n_sel, k).transpose(1, 0, 2),
    )
    out["kinematics"] = dijet_kinematics(two_p4, both, selection.r)
    out["event_id"] = event_id[keep]
    out["weight"] = weight[keep]
    return out, flow


def _particle_inputs(
    ordered: ak.Array, jets: np.ndarray, selection: DijetSelection
) -> dict[str, np.ndarray]:
    """Constituent features, masks and four-momenta of jet 1 and jet 2.

    ``ordered``: ``2n * var * {px, py, pz, E, pid, charge}``, pT-descending, all jets 1 then
    all jets 2; ``jets``: (n, 2, 4) float64 jet momenta [GeV].
    """
    n = jets.shape[0]
    flat_jets = np.concatenate([jets[:, 0], jets[:, 1]], axis=0)
    pt_j, eta_j, phi_j, _ = _pt_eta_phi_m(flat_jets)
    axis = {"pt": pt_j, "eta": eta_j, "phi": phi_j, "E": flat_jets[:, 3]}
    features, mask = constituent_features(ordered, axis, n_max=selection.n_constituents)
    p4, p4_mask = _padded_p4(ordered, selection.n_constituents)
    if not np.array_equal(mask, p4_mask):  # both are pT-ordered prefixes of the same lists
        raise RuntimeError("constituent features and four-momenta are not aligned")
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(("jet1", "jet2")):
        rows = slice(i * n, (i + 1) * n)
        out[f"{name}_features"] = features[rows]
        out[f"{name}_mask"] = mask[rows]
        out[f"{name}_p4"] = p4[rows].astype(np.float32)
    return out
