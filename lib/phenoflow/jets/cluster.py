"""Fat jets with FastJet (anti-kt, vectorised over events) and their truth labels.

Shapes: ``particles`` is ``n_events * var * {px, py, pz, E, pid, charge}``
(GeV); fat jets come back as ``n_events * var * {px, py, pz, E, pt, eta,
phi, mass}`` with constituents ``n_events * var * var * {px, py, pz, E, pid,
charge}`` sorted by pT (descending) inside each jet.
"""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np

from phenoflow.physics.kinematics import delta_r, eta, mass, phi, pt

MOMENTUM_FIELDS = ("px", "py", "pz", "E")
LABELS = {"qcd": 0, "top": 1, "higgs": 2}
# |pid| of the resonance each signal label is matched to
RESONANCE = {"top": 6, "higgs": 25}
# number of decay quarks that must lie inside the jet: t -> b W(-> q q'), H -> b b
N_DECAY_QUARKS = {"top": 3, "higgs": 2}


class JetInputError(ValueError):
    """The event array cannot be clustered (missing field, NaN momenta, ...)."""


@dataclass(frozen=True)
class FatJetConfig:
    """Fat-jet definition: anti-kt radius and the selection window."""

    r: float = 0.8
    pt_min: float = 550.0  # GeV
    pt_max: float = 650.0  # GeV
    eta_max: float = 2.0


def check_particles(events: ak.Array, source: str = "events") -> ak.Array:
    """The ``particles`` collection of ``events``, or JetInputError naming what is wrong."""
    if "particles" not in ak.fields(events):
        raise JetInputError(f"{source}: no 'particles' field (fields: {ak.fields(events)})")
    particles = events["particles"]
    for f in (*MOMENTUM_FIELDS, "pid", "charge"):
        if f not in ak.fields(particles):
            raise JetInputError(f"{source}: particles have no field {f!r}")
    for f in MOMENTUM_FIELDS:
        values = ak.to_numpy(ak.flatten(particles[f]))
        bad = ~np.isfinite(values)
        if bad.any():
            counts = ak.to_numpy(ak.num(particles[f]))
            event = int(np.searchsorted(np.cumsum(counts), np.flatnonzero(bad)[0], side="right"))
            raise JetInputError(
                f"{source}: {int(bad.sum())} non-finite values in particles.{f} "
                f"(first in event {event})"
            )
    return particles


def jet_kinematics(p4: ak.Array) -> ak.Array:
    """Add pt, eta, phi, mass to an array of {px, py, pz, E} records (any nesting)."""
    px, py, pz, e = (p4[f] for f in MOMENTUM_FIELDS)
    return ak.zip(
        {
            "px": px,
            "py": py,
            "pz": pz,
            "E": e,
            "pt": pt(px, py),
            "eta": eta(px, py, pz),
            "phi": phi(px, py),
            "mass": mass(px, py, pz, e),
        }
    )


def cluster_fat_jets(particles: ak.Array, config: FatJetConfig) -> tuple[ak.Array, ak.Array]:
    """Anti-kt fat jets in the pT/|eta| window and their pT-sorted constituents.

    Returns ``(jets, constituents)``: ``n_events * var * {px, py, pz, E, pt,
    eta, phi, mass}`` and ``n_events * var * var * {px, py, pz, E, pid,
    charge}``.  One FastJet ClusterSequence over all events of the chunk.
    """
    import fastjet
    import vector

    vector.register_awkward()
    fields = {f: particles[f] for f in (*MOMENTUM_FIELDS, "pid", "charge")}
    p = ak.zip(fields, with_name="Momentum4D")
    cs = fastjet.ClusterSequence(p, fastjet.JetDefinition(fastjet.antikt_algorithm, config.r))
    jets = jet_kinematics(cs.inclusive_jets(min_pt=config.pt_min))
    const = cs.constituents(min_pt=config.pt_min)
    const = ak.zip({f: const[f] for f in fields})  # drop the vector behaviour
    keep = (jets.pt < config.pt_max) & (abs(jets.eta) < config.eta_max)
    jets, const = jets[keep], const[keep]
    order = ak.argsort(pt(const.px, const.py), axis=-1, ascending=False)
    return jets, const[order]


def _decay_quarks(partons: ak.Array, resonance_pid: int) -> tuple[ak.Array, ak.Array]:
    """Per parton: the local index of its resonance ancestor (-1 if none), and whether it
    is a final decay quark (|pid| <= 5) of that resonance.  Follows up to two generations
    (t -> W -> q q', t -> b, H -> b b)."""
    pid = partons.pid
    mother = partons.mother
    idx = ak.local_index(pid)

    def lookup(values: ak.Array, index: ak.Array, fill: int) -> ak.Array:
        safe = ak.where(index >= 0, index, 0)
        picked = values[safe] if len(values) else values
        return ak.where(index >= 0, picked, fill)

    is_res = abs(pid) == resonance_pid
    mother_is_res = lookup(is_res, mother, False)
    grandmother = lookup(mother, mother, -1)
    grand_is_res = lookup(is_res, grandmother, False)
    ancestor = ak.where(
        is_res, idx, ak.where(mother_is_res, mother, ak.where(grand_is_res, grandmother, -1))
    )
    quark = (abs(pid) <= 5) & (ancestor >= 0) & ~is_res
    return ancestor, quark


def label_jets(jets: ak.Array, partons: ak.Array, kind: str, r: float) -> ak.Array:
    """Truth labels of fat jets, ``n_events * var * int8``.

    ``kind="qcd"``: every jet is 0.  ``kind="top"``: 1 if a top and its three
    decay quarks (b and the W's two) lie within ``r`` of the jet axis, else -1
    (unmatched).  ``kind="higgs"``: 2 if H and both its b quarks do, else -1.
    """
    if kind not in LABELS:
        raise ValueError(f"unknown jet label kind {kind!r}; expected one of {sorted(LABELS)}")
    if kind == "qcd":
        return ak.values_astype(ak.zeros_like(jets.pt), np.int8)
    if "mother" not in ak.fields(partons):
        raise JetInputError("partons have no 'mother' field: cannot match decay products")
    ancestor, quark = _decay_quarks(partons, RESONANCE[kind])
    pk = jet_kinematics(partons)
    pairs = ak.cartesian({"jet": jets, "parton": pk}, axis=1, nested=True)
    inside = delta_r(pairs.jet.eta, pairs.jet.phi, pairs.parton.eta, pairs.parton.phi) < r
    anc = ak.broadcast_arrays(pairs.jet.pt, ancestor[:, np.newaxis, :])[1]
    is_quark = ak.broadcast_arrays(pairs.jet.pt, quark[:, np.newaxis, :])[1]
    res_index = ak.local_index(partons.pid)[abs(partons.pid) == RESONANCE[kind]]
    matched = ak.zeros_like(jets.pt, dtype=bool)
    n_slots = int(ak.max(ak.num(res_index))) if len(res_index) else 0
    for slot in range(
        n_slots
    ):  # at most two resonances per event: a loop over slots, not particles
        has = ak.num(res_index) > slot
        r_idx = ak.where(has, ak.fill_none(ak.pad_none(res_index, slot + 1)[:, slot], -1), -1)
        r_idx_b = r_idx[:, np.newaxis, np.newaxis]
        res_inside = ak.any(inside & (ak.local_index(inside, axis=2) == r_idx_b), axis=2)
        n_quarks = ak.sum(inside & is_quark & (anc == r_idx_b), axis=2)
        matched = matched | (res_inside & (n_quarks == N_DECAY_QUARKS[kind]))
    label = ak.where(matched, LABELS[kind], -1)
    return ak.values_astype(label, np.int8)
