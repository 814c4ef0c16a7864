"""Fat-jet substructure: mass, soft-drop mass, N-subjettiness, pull, primary Lund plane.

Every observable is computed for all jets at once: the constituents of each jet are
treated as one "event" of a fastjet ``ClusterSequence`` (reclustering vectorised over
jets), and per-jet sums are numpy reductions over the flattened constituents.

Conventions
-----------
* Angular distances are measured in the rapidity-azimuth plane,
  ``Delta R^2 = Delta y^2 + Delta phi^2`` with ``Delta phi`` wrapped into [-pi, pi),
  as in fastjet's ``PseudoJet::delta_R`` and fastjet-contrib.
* Reclustering (Cambridge/Aachen for soft drop and the Lund plane, kt for the
  N-subjettiness axes) uses a radius of ``RECLUSTER_R = 1000`` (fastjet's
  ``JetDefinition::max_allowable_R``), so every constituent of a jet ends in one
  clustering tree, as fastjet-contrib's ``SoftDrop``, ``LundGenerator`` and ``KT_Axes`` do.
  The fat-jet radius ``SubstructureConfig.r`` enters as the soft-drop ``R0`` and the
  N-subjettiness normalisation.
* Energy-scheme (four-vector sum) recombination throughout.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import awkward as ak
import fastjet
import numpy as np
import vector

from phenoflow.physics.kinematics import delta_phi, mass, phi, pt, rapidity

vector.register_awkward()

#: Reclustering radius: large enough that no constituent is merged with the beam.
RECLUSTER_R = 1000.0

_MOMENTUM_FIELDS = ("px", "py", "pz", "E")
_TAU_NS = (1, 2, 3)


@dataclass(frozen=True)
class SubstructureConfig:
    """Parameters of the substructure observables.

    Attributes:
        r: fat-jet radius; soft-drop ``R0`` and N-subjettiness normalisation radius.
        sd_beta: soft-drop angular exponent beta (0 = modified mass-drop tagger).
        sd_zcut: soft-drop momentum-fraction threshold z_cut.
        nsub_beta: N-subjettiness angular exponent beta.
    """

    r: float = 0.8
    sd_beta: float = 0.0
    sd_zcut: float = 0.1
    nsub_beta: float = 1.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.r) and self.r > 0):
            raise ValueError(f"SubstructureConfig.r must be a positive radius, got {self.r!r}")
        if not (np.isfinite(self.sd_beta) and self.sd_beta >= 0):
            raise ValueError(f"SubstructureConfig.sd_beta must be >= 0, got {self.sd_beta!r}")
        if not (0.0 <= self.sd_zcut < 1.0):
            raise ValueError(f"SubstructureConfig.sd_zcut must be in [0, 1), got {self.sd_zcut!r}")
        if not (np.isfinite(self.nsub_beta) and self.nsub_beta > 0):
            raise ValueError(f"SubstructureConfig.nsub_beta must be > 0, got {self.nsub_beta!r}")


def substructure(
    constituents: ak.Array, config: SubstructureConfig = SubstructureConfig()
) -> dict[str, np.ndarray | ak.Array]:
    """Substructure observables of every fat jet.

    Args:
        constituents: ``n_jets * var * {px, py, pz, E, ...}`` [GeV], one list of
            constituents per fat jet (extra fields such as ``pid``, ``charge`` are ignored).
        config: observable parameters, see :class:`SubstructureConfig`.

    Returns:
        A dict of per-jet arrays of length ``n_jets``; numpy float64 unless stated:

        * ``mass``: invariant mass of the summed constituents [GeV].
        * ``n_constituents``: number of constituents (int32).
        * ``sd_mass``: soft-drop groomed mass [GeV] (C/A declustering following the
          harder-pT branch, stop at the first splitting with
          ``z > sd_zcut (Delta R / r)^sd_beta``, ``z = min(pT1, pT2) / (pT1 + pT2)``;
          if none passes, the mass of the last single constituent).
        * ``tau1, tau2, tau3``: N-subjettiness
          ``tau_N = sum_i pT_i min_k Delta R_ik^beta / (sum_i pT_i r^beta)`` with
          exclusive-kt axes; exactly 0 for jets with at most N constituents.
        * ``tau21 = tau2 / tau1``, ``tau32 = tau3 / tau2`` (0 where the denominator is 0).
        * ``pull_x, pull_y``: jet pull ``t = sum_i (pT_i / pT_jet) |r_i| r_i``,
          ``r_i = (y_i - y_jet, phi_i - phi_jet)`` relative to the summed constituents,
          whose vector pT is ``pT_jet`` (dimensionless, rad);
          ``pull_mag = |t|``, ``pull_angle = atan2(pull_y, pull_x)`` [rad].
        * ``lund_ln_inv_delta``, ``lund_ln_kt``: ak.Array ``n_jets * var * float64``,
          primary Lund declusterings (C/A, following the harder branch), ``ln(1/Delta)``
          and ``ln(kt / GeV)`` with ``kt = pT_softer * Delta``; empty for < 2 constituents.

    Raises:
        ValueError: a momentum field is missing or holds NaN / inf values.
    """
    flat, counts = _flatten_checked(constituents)
    n_jets = len(counts)
    jet_index = np.repeat(np.arange(n_jets), counts)
    p4 = ak.unflatten(
        ak.zip({f: flat[f] for f in _MOMENTUM_FIELDS}, with_name="Momentum4D"), counts
    )

    jet_p = {f: np.bincount(jet_index, weights=flat[f], minlength=n_jets) for f in flat}
    out: dict[str, np.ndarray | ak.Array] = {
        "mass": mass(jet_p["px"], jet_p["py"], jet_p["pz"], jet_p["E"]),
        "n_constituents": counts.astype(np.int32),
    }
    out.update(_nsubjettiness(flat, counts, jet_index, p4, config))
    out.update(_pull(flat, jet_index, jet_p))
    out.update(_soft_drop_and_lund(p4, counts, config))
    return out


def _flatten_checked(constituents: ak.Array) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Flat float64 momentum columns (n_total,) and constituent counts (n_jets,)."""
    missing = [f for f in _MOMENTUM_FIELDS if f not in ak.fields(constituents)]
    if missing:
        raise ValueError(
            f"constituents lacks field(s) {missing}; expected n_jets * var * "
            f"{{px, py, pz, E}}, got {ak.type(constituents)}"
        )
    if constituents.ndim != 2:
        raise ValueError(f"constituents must be n_jets * var * record, got {ak.type(constituents)}")
    counts = np.asarray(ak.num(constituents, axis=1), dtype=np.int64)
    flat = {}
    for f in _MOMENTUM_FIELDS:
        col = np.asarray(ak.flatten(constituents[f], axis=1), dtype=np.float64)
        bad = ~np.isfinite(col)
        if bad.any():
            raise ValueError(
                f"constituents.{f} has {int(bad.sum())} non-finite (NaN or inf) value(s)"
            )
        flat[f] = col
    return flat, counts


def _y_phi(px: np.ndarray, py: np.ndarray, pz: np.ndarray, E: np.ndarray) -> np.ndarray:
    """(n, 2) rapidity and azimuth [rad]; 0 for zero-pT / light-like-along-beam entries."""
    y = rapidity(pz, E)
    return np.stack([np.where(np.isfinite(y), y, 0.0), phi(px, py)], axis=-1)


def _delta_r(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rapidity-azimuth distance between (..., 2) (y, phi) arrays."""
    return np.hypot(a[..., 0] - b[..., 0], delta_phi(a[..., 1], b[..., 1]))


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den == 0 (no warning)."""
    safe = np.where(den != 0, den, 1.0)
    return np.where(den != 0, num / safe, 0.0)


def _nsubjettiness(
    flat: dict[str, np.ndarray],
    counts: np.ndarray,
    jet_index: np.ndarray,
    p4: ak.Array,
    config: SubstructureConfig,
) -> dict[str, np.ndarray]:
    """tau_N (N = 1, 2, 3) with exclusive-kt axes, plus tau21 and tau32, each (n_jets,)."""
    n_jets = len(counts)
    pt_i = pt(flat["px"], flat["py"])
    yphi_i = _y_phi(flat["px"], flat["py"], flat["pz"], flat["E"])
    norm = np.bincount(jet_index, weights=pt_i, minlength=n_jets) * config.r**config.nsub_beta

    cs = fastjet.ClusterSequence(p4, fastjet.JetDefinition(fastjet.kt_algorithm, RECLUSTER_R))
    out: dict[str, np.ndarray] = {}
    for n in _TAU_NS:
        with warnings.catch_warnings():
            # fastjet compares a JetDefinition with algorithm enums, so this fires for kt too.
            warnings.filterwarnings(
                "ignore", message="dcut and exclusive jets", category=UserWarning
            )
            axes = cs.exclusive_jets_up_to(n)
        # Pad every jet to n axes; padded axes sit at infinite distance.
        n_axes = np.asarray(ak.num(axes, axis=1))
        ax = {
            f: np.asarray(ak.fill_none(ak.pad_none(axes[f], n, clip=True), 0.0))
            for f in _MOMENTUM_FIELDS
        }
        yphi_ax = _y_phi(ax["px"], ax["py"], ax["pz"], ax["E"])  # (n_jets, n, 2)
        dr = _delta_r(yphi_i[:, None, :], yphi_ax[jet_index])  # (n_total, n)
        dr = np.where(np.arange(n)[None, :] < n_axes[jet_index, None], dr, np.inf)
        d_min = dr.min(axis=1) if len(dr) else np.zeros(0)
        num = np.bincount(jet_index, weights=pt_i * d_min**config.nsub_beta, minlength=n_jets)
        tau = _safe_ratio(num, norm)
        out[f"tau{n}"] = np.where(counts > n, tau, 0.0)
    out["tau21"] = _safe_ratio(out["tau2"], out["tau1"])
    out["tau32"] = _safe_ratio(out["tau3"], out["tau2"])
    return out


def _pull(
    flat: dict[str, np.ndarray], jet_index: np.ndarray, jet_p: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Jet pull vector components, magnitude and angle, each (n_jets,)."""
    n_jets = len(jet_p["px"])
    pt_i = pt(flat["px"], flat["py"])
    pt_jet = pt(jet_p["px"], jet_p["py"])
    r = _y_phi(flat["px"], flat["py"], flat["pz"], flat["E"])
    axis = _y_phi(jet_p["px"], jet_p["py"], jet_p["pz"], jet_p["E"])[jet_index]
    r[:, 0] -= axis[:, 0]
    r[:, 1] = delta_phi(r[:, 1], axis[:, 1])
    w = pt_i * np.hypot(r[:, 0], r[:, 1])
    tx = _safe_ratio(np.bincount(jet_index, weights=w * r[:, 0], minlength=n_jets), pt_jet)
    ty = _safe_ratio(np.bincount(jet_index, weights=w * r[:, 1], minlength=n_jets), pt_jet)
    return {
        "pull_x": tx,
        "pull_y": ty,
        "pull_mag": np.hypot(tx, ty),
        "pull_angle": np.arctan2(ty, tx),
    }


def _soft_drop_and_lund(
    p4: ak.Array, counts: np.ndarray, config: SubstructureConfig
) -> dict[str, np.ndarray | ak.Array]:
    """Soft-drop mass (n_jets,) and primary Lund declusterings (n_jets * var)."""
    n_jets = len(counts)
    sd_mass = np.zeros(n_jets)
    has = np.flatnonzero(counts > 0)
    lund_counts = np.zeros(n_jets, dtype=np.int64)
    lund_delta = np.zeros(0)
    lund_kt = np.zeros(0)
    if len(has):
        cs = fastjet.ClusterSequence(
            p4[has], fastjet.JetDefinition(fastjet.cambridge_algorithm, RECLUSTER_R)
        )
        sd_mass[has] = _soft_drop_mass(cs, counts[has], config)
        lund = cs.exclusive_jets_lund_declusterings(njets=1)[:, 0]
        lund_counts[has] = np.asarray(ak.num(lund, axis=1))
        lund_delta = np.asarray(ak.flatten(lund.Delta, axis=1), dtype=np.float64)
        lund_kt = np.asarray(ak.flatten(lund.kt, axis=1), dtype=np.float64)
    with np.errstate(divide="ignore"):  # exactly collinear splitting: +-inf, not NaN
        ln_inv_delta = -np.log(lund_delta)
        ln_kt = np.log(lund_kt)
    return {
        "sd_mass": sd_mass,
        "lund_ln_inv_delta": ak.unflatten(ln_inv_delta, lund_counts),
        "lund_ln_kt": ak.unflatten(ln_kt, lund_counts),
    }


def _soft_drop_mass(
    cs: fastjet.ClusterSequence, n: np.ndarray, config: SubstructureConfig
) -> np.ndarray:
    """Soft-drop mass of each jet of a C/A ClusterSequence of (n,) non-empty jets [GeV].

    fastjet's awkward interface offers ``exclusive_jets_softdrop_grooming``, but it costs
    ~0.9 ms per jet and fails on empty jets, so the clustering tree is rebuilt here from
    ``jets()`` (all pseudojets, index = history index) and ``unique_history_order()``, a
    post-order traversal of the tree.  In a post-order, node p has children p - 1 and
    the last j < p - 1 with H[j] < H[p - 1], where H is the running sum of +1 per leaf
    and -1 per merge.  All jets are declustered in lock step: the Python loop runs over
    declustering depth (until the last jet stops), never over jets or particles.
    """
    n_nodes = 2 * n - 1
    all_jets = cs.jets()
    if not np.array_equal(np.asarray(ak.num(all_jets, axis=1)), n_nodes):
        # Only a constituent at |y| ~ RECLUSTER_R (pT = 0) is merged with the beam early.
        raise ValueError(
            "constituents: C/A reclustering did not merge every jet into one tree; "
            "a constituent has zero pT or |rapidity| > 1000"
        )
    order = cs.unique_history_order()
    order = order[order < n_nodes[:, None]]  # drop the final beam recombination
    width = int(n_nodes.max())
    mom = np.stack(
        [_pad(all_jets[f][order], width) for f in _MOMENTUM_FIELDS], axis=-1
    )  # (n_jets, width, 4), nodes in post-order
    is_leaf = _pad(order < n[:, None], width).astype(bool)
    height = np.cumsum(np.where(is_leaf, 1, -1), axis=1)
    slots = np.arange(width)

    pos = n_nodes - 1  # the root is last in post-order
    active = n >= 2
    while active.any():
        rows = np.flatnonzero(active)
        right = pos[rows] - 1
        h_right = height[rows, right]
        left_mask = (slots < right[:, None]) & (height[rows] < h_right[:, None])
        left = np.where(left_mask, slots, -1).max(axis=1)
        p_left, p_right = mom[rows, left], mom[rows, right]
        pt_left = pt(p_left[:, 0], p_left[:, 1])
        pt_right = pt(p_right[:, 0], p_right[:, 1])
        yphi_l = _y_phi(*p_left.T)
        yphi_r = _y_phi(*p_right.T)
        delta = _delta_r(yphi_l, yphi_r)
        z = _safe_ratio(np.minimum(pt_left, pt_right), pt_left + pt_right)
        keep = z > config.sd_zcut * (delta / config.r) ** config.sd_beta
        harder = np.where(pt_left >= pt_right, left, right)
        active[rows[keep]] = False
        groomed = rows[~keep]
        pos[groomed] = harder[~keep]
        active[groomed] = ~is_leaf[groomed, pos[groomed]]
    final = mom[np.arange(len(n)), pos]
    return mass(final[:, 0], final[:, 1], final[:, 2], final[:, 3])


def _pad(array: ak.Array, width: int) -> np.ndarray:
    """Jagged (n, var) numbers to a (n, width) numpy array, padded with 0."""
    return np.asarray(ak.fill_none(ak.pad_none(array, width, axis=1, clip=True), 0))
