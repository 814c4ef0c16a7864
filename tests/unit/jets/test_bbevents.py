"""Two-b-jet selection and b bbar kinematics on hand-built events with known answers, and on
Pythia gg -> H -> b bbar events (slow)."""

import math
from dataclasses import replace

import awkward as ak
import numpy as np
import pytest

from phenoflow.jets.bbevents import (
    KINEMATIC_FEATURES,
    BBSelection,
    bb_axis,
    kinematic_features,
    select_bb_events,
)
from phenoflow.jets.cluster import JetInputError

FIELDS = ("px", "py", "pz", "E")


def p4(pt, eta, phi, m=0.0):
    return {
        "px": pt * math.cos(phi),
        "py": pt * math.sin(phi),
        "pz": pt * math.sinh(eta),
        "E": math.sqrt((pt * math.cosh(eta)) ** 2 + m**2),
    }


def jet_particles(pt, eta, phi):
    """Two massless charged pions 0.05 apart that make one R = 0.4 jet of total pT ~ pt."""
    return [
        {**p4(0.6 * pt, eta + 0.03, phi), "pid": 211, "charge": 1},
        {**p4(0.4 * pt, eta - 0.02, phi + 0.03), "pid": -211, "charge": -1},
    ]


def make_event(event_id, jets, b_quarks):
    """jets: [(pt, eta, phi)]; b_quarks: [(eta, phi)] hard-process b quarks (plus a Higgs)."""
    partons = [{**p4(0.0, 0.0, 0.0, 125.0), "pz": 30.0, "pid": 25, "mother": -1}]
    partons[0]["E"] = math.hypot(125.0, 30.0)
    for i, (eta, phi) in enumerate(b_quarks):
        partons.append({**p4(50.0, eta, phi, 4.8), "pid": 5 if i % 2 == 0 else -5, "mother": 0})
    particles = [p for jet in jets for p in jet_particles(*jet)]
    particles.append({**p4(3.0, 3.5, 0.2), "pid": 22, "charge": 0})  # soft, forward photon
    return {"particles": particles, "partons": partons, "weight": 0.5, "event_id": event_id}


def two_jet_event(event_id, pt1, pt2, deta, dphi, eta1=0.3, phi1=0.4):
    jets = [(pt1, eta1, phi1), (pt2, eta1 - deta, phi1 + dphi)]
    return make_event(event_id, jets, [(j[1], j[2]) for j in jets]), jets


def massless_pair_mass(pt1, pt2, deta, dphi):
    return math.sqrt(2 * pt1 * pt2 * (math.cosh(deta) - math.cos(dphi)))


def test_cut_flow_on_hand_built_events():
    passing, jets_pass = two_jet_event(10, 70.0, 50.0, 1.0, 2.0)  # m ~ 117, dR ~ 2.24
    heavy, _ = two_jet_event(11, 70.0, 50.0, 1.5, 2.9)  # m ~ 152: fails m_bb
    wide, _ = two_jet_event(12, 75.0, 49.0, 0.5, 3.0)  # m ~ 125 but dR ~ 3.04: fails dR
    soft, _ = two_jet_event(13, 40.0, 30.0, 2.4, 1.5)  # leading pT < 45: fails pt
    one_b = make_event(14, [(70.0, 0.3, 0.4), (50.0, -0.7, 2.4)], [(0.3, 0.4)])  # one b quark
    assert 110 < massless_pair_mass(70.0, 50.0, 1.0, 2.0) < 140
    assert massless_pair_mass(70.0, 50.0, 1.5, 2.9) > 140
    assert 110 < massless_pair_mass(75.0, 49.0, 0.5, 3.0) < 140
    assert math.hypot(0.5, 3.0) > 3.0
    events = ak.Array([passing, heavy, wide, soft, one_b])
    selected, flow = select_bb_events(events, BBSelection())
    assert flow == {"events": 5, "two_b_jets": 4, "pt": 3, "m_bb": 2, "dr": 1}
    assert selected.event_id.tolist() == [10]
    assert selected.event_id.dtype == np.int64
    assert selected.weight.tolist() == [0.5]
    assert selected.weight.dtype == np.float64
    assert selected.b_jets.shape == (1, 2, 4)
    assert selected.b_jets.dtype == np.float64
    assert len(selected) == 1
    # each b jet is the sum of its two particles, leading first
    for i, jet in enumerate(jets_pass):
        want = [sum(p[f] for p in jet_particles(*jet)) for f in FIELDS]
        assert selected.b_jets[0, i] == pytest.approx(want, rel=1e-12)
    assert selected.particles.tolist() == events.particles[:1].tolist()  # records unchanged
    # widening the cuts lets the heavy and wide events through
    loose = replace(BBSelection(), m_window=(0.0, 1000.0), dr_max=4.0)
    selected, flow = select_bb_events(events, loose)
    assert flow == {"events": 5, "two_b_jets": 4, "pt": 3, "m_bb": 3, "dr": 3}
    assert selected.event_id.tolist() == [10, 11, 12]


def test_b_tagging_is_by_truth_matching_within_match_r():
    # the b quarks sit 0.3 from the jet axes: tagged with match_r = 0.4, not with 0.2
    event, _ = two_jet_event(1, 70.0, 50.0, 1.0, 2.0)
    for parton in event["partons"][1:]:
        eta = math.asinh(parton["pz"] / math.hypot(parton["px"], parton["py"])) + 0.3
        parton.update(p4(50.0, eta, math.atan2(parton["py"], parton["px"]), 4.8))
    events = ak.Array([event])
    assert select_bb_events(events, BBSelection())[1]["two_b_jets"] == 1
    assert select_bb_events(events, BBSelection(match_r=0.2))[1]["two_b_jets"] == 0


def test_empty_input_and_events_without_particles():
    event, _ = two_jet_event(1, 70.0, 50.0, 1.0, 2.0)
    events = ak.Array([event, {**event, "particles": [], "event_id": 2}])
    selected, flow = select_bb_events(events[:0], BBSelection())
    assert flow == {"events": 0, "two_b_jets": 0, "pt": 0, "m_bb": 0, "dr": 0}
    assert selected.b_jets.shape == (0, 2, 4)
    assert len(selected.particles) == 0
    selected, flow = select_bb_events(events, BBSelection())
    assert flow["events"] == 2
    assert flow["two_b_jets"] == 1
    assert selected.event_id.tolist() == [1]


def test_missing_partons_is_an_error():
    event, _ = two_jet_event(1, 70.0, 50.0, 1.0, 2.0)
    del event["partons"]
    with pytest.raises(JetInputError, match="partons"):
        select_bb_events(ak.Array([event]), BBSelection())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("r", 0.0),
        ("pt_min", (45.0,)),
        ("pt_min", (45.0, -1.0)),
        ("eta_max", float("inf")),
        ("m_window", (140.0, 110.0)),
        ("dr_max", -3.0),
        ("match_r", "0.4"),
    ],
)
def test_selection_validation_names_the_field(field, value):
    with pytest.raises(ValueError, match=f"BBSelection.{field}"):
        BBSelection(**{field: value})


def test_selection_accepts_lists_and_stays_hashable():
    selection = BBSelection(pt_min=[50, 25], m_window=[100, 150])
    assert selection.pt_min == (50.0, 25.0)
    assert selection.m_window == (100.0, 150.0)
    assert hash(selection) == hash(BBSelection(pt_min=(50.0, 25.0), m_window=(100.0, 150.0)))


def _massless_jets(pt1, eta1, phi1, pt2, eta2, phi2):
    return np.array([[list(p4(pt1, eta1, phi1).values()), list(p4(pt2, eta2, phi2).values())]])


def test_back_to_back_massless_jets():
    jets = _massless_jets(100.0, 0.0, 0.3, 100.0, 0.0, 0.3 - math.pi)
    f = dict(zip(KINEMATIC_FEATURES, kinematic_features(jets)[0], strict=True))
    assert kinematic_features(jets).shape == (1, len(KINEMATIC_FEATURES))
    assert kinematic_features(jets).dtype == np.float32
    assert f["m_bb"] == pytest.approx(200.0, rel=1e-6)  # E_total = 200 GeV at rest
    assert f["pt_bb"] == pytest.approx(0.0, abs=1e-4)
    assert np.isfinite(f["eta_bb"])
    assert f["dphi_bb"] == pytest.approx(math.pi, rel=1e-6)
    assert f["m1"] == pytest.approx(0.0, abs=1e-3)
    assert f["pt1"] == pytest.approx(100.0)
    # boosted along z (eta +-1): m^2 = 2 pT1 pT2 (cosh 2 + 1)
    jets = _massless_jets(100.0, 1.0, 0.3, 60.0, -1.0, 0.3 - math.pi)
    axis = bb_axis(jets)
    assert axis["m_bb"][0] == pytest.approx(math.sqrt(12000.0 * (math.cosh(2.0) + 1)), rel=1e-12)
    assert axis["dr_bb"][0] == pytest.approx(math.hypot(2.0, math.pi), rel=1e-12)
    assert axis["pt_bb"][0] == pytest.approx(40.0, rel=1e-12)


def test_dphi_is_wrapped():
    jets = _massless_jets(80.0, 0.5, 3.0, 50.0, -0.2, -3.0)
    f = dict(zip(KINEMATIC_FEATURES, kinematic_features(jets)[0], strict=True))
    assert f["dphi_bb"] == pytest.approx(2 * math.pi - 6.0, rel=1e-6)
    assert f["deta_bb"] == pytest.approx(0.7, rel=1e-6)
    assert f["dr_bb"] == pytest.approx(math.hypot(0.7, 2 * math.pi - 6.0), rel=1e-6)
    assert f["eta1"] == pytest.approx(0.5)
    assert f["eta2"] == pytest.approx(-0.2)
    with pytest.raises(ValueError, match="b_jets has shape"):
        kinematic_features(jets[:, 0])


@pytest.mark.slow
def test_pythia_higgs_to_bb(tmp_path):
    from phenoflow.generation.pythia import ShardSpec, generate_shard
    from phenoflow.io.parquet import read_events

    settings = (
        "Beams:eCM = 14000.",
        "HiggsSM:gg2H = on",
        "25:onMode = off",
        "25:onIfMatch = 5 -5",
    )
    generate_shard(ShardSpec("h_bb", 0, 100, settings, 7), tmp_path / "h.parquet")
    events = read_events(tmp_path / "h.parquet")
    selected, flow = select_bb_events(events, BBSelection())
    assert flow["events"] == 100
    assert flow["events"] >= flow["two_b_jets"] >= flow["pt"] >= flow["m_bb"] >= flow["dr"]
    assert flow["two_b_jets"] >= 35  # both b jets inside |eta| < 2.5 and tagged
    assert flow["dr"] >= 5
    assert len(selected) == flow["dr"]
    # without the mass window the b bbar mass peaks just below m_H (out-of-cone radiation,
    # neutrinos of semileptonic b decays)
    wide, _ = select_bb_events(events, BBSelection(m_window=(0.0, 1000.0), dr_max=10.0))
    m_bb = bb_axis(wide.b_jets)["m_bb"]
    counts, edges = np.histogram(m_bb, bins=np.arange(0.0, 200.0, 20.0))
    assert 100.0 <= edges[np.argmax(counts)] <= 120.0  # the 100-140 GeV bins
    assert 95.0 < np.median(m_bb) < 130.0
    assert np.all(np.abs(kinematic_features(selected.b_jets)[:, 1]) < 2.5)
