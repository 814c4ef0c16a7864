"""Event-level two-fat-jet inputs: hand-built events with known jets, and Pythia
gg -> H -> hh -> b bbar b bbar events (slow)."""

import math

import awkward as ak
import numpy as np
import pytest

from phenoflow.jets.cluster import JetInputError
from phenoflow.jets.dijet_events import (
    CUT_FLOW_KEYS,
    KIN_TOKEN_FEATURES,
    KINEMATIC_FEATURES,
    DijetSelection,
    dijet_inputs,
    kin_tokens,
)
from phenoflow.jets.features import FEATURE_NAMES

FIELDS = ("px", "py", "pz", "E")


def p4(pt, eta, phi, m=0.0):
    return np.array(
        [
            pt * math.cos(phi),
            pt * math.sin(phi),
            pt * math.sinh(eta),
            math.sqrt((pt * math.cosh(eta)) ** 2 + m**2),
        ]
    )


def particle(pt, eta, phi, pid=211, charge=1, m=0.0):
    return {
        **dict(zip(FIELDS, p4(pt, eta, phi, m).tolist(), strict=True)),
        "pid": pid,
        "charge": charge,
    }


# Jet A (leading, pT ~ 450 GeV) at (0, 0): three particles 0.3 apart (three R = 0.2 subjets),
# listed out of pT order.  Jet B (pT ~ 350 GeV) at (0.5, 3.0): two particles.
JET_A = [(100.0, 0.0, 0.3, 211, 1), (300.0, 0.0, 0.0, 22, 0), (50.0, 0.3, 0.0, -11, -1)]
JET_B = [(150.0, 0.8, 3.0, 130, 0), (200.0, 0.5, 3.0, -211, -1)]


def event(event_id, jets, weight=0.5):
    particles = [particle(*p) for jet in jets for p in jet]
    particles.append(particle(2.0, 4.0, 1.0))  # soft and forward: in no fat jet
    return {"particles": particles, "weight": weight, "event_id": event_id}


def total(jet):
    return sum(p4(*p[:3]) for p in jet)


def mass(v):
    return math.sqrt(max(v[3] ** 2 - v[0] ** 2 - v[1] ** 2 - v[2] ** 2, 0.0))


@pytest.fixture(scope="module")
def hand_built():
    events = ak.Array([event(7, [JET_B, JET_A]), event(8, [JET_A]), event(9, [JET_A, JET_B], 2.0)])
    return dijet_inputs(events, DijetSelection(n_constituents=4, n_subjets=4))


def test_selection_and_jet_momenta(hand_built):
    out, flow = hand_built
    assert flow == {"events": 3, "one_fat_jet": 3, "two_fat_jets": 2}
    assert tuple(flow) == CUT_FLOW_KEYS
    assert out["event_id"].tolist() == [7, 9]
    assert out["weight"].tolist() == [0.5, 2.0]
    a, b = total(JET_A), total(JET_B)
    for i in range(2):
        # the leading jet (A) first, whatever the order of the particles
        np.testing.assert_allclose(out["jet1_p4"][i].sum(axis=0), a, rtol=1e-6)
        np.testing.assert_allclose(out["jet2_p4"][i].sum(axis=0), b, rtol=1e-6)
    kin = dict(zip(KINEMATIC_FEATURES, out["kinematics"][0], strict=True))
    assert kin["m_jj"] == pytest.approx(mass(a + b), rel=1e-6)
    assert kin["m_j1"] == pytest.approx(mass(a), rel=1e-6)
    assert kin["m_j2"] == pytest.approx(mass(b), rel=1e-6)
    assert kin["pt_j1"] == pytest.approx(math.hypot(a[0], a[1]), rel=1e-6)
    assert kin["pt_j1"] > kin["pt_j2"] > 250.0
    eta_b = math.asinh(b[2] / math.hypot(b[0], b[1]))
    assert kin["delta_eta"] == pytest.approx(abs(eta_b - kin["eta_j1"]), rel=1e-5)
    assert kin["eta_j2"] == pytest.approx(eta_b, rel=1e-5)
    # a two-particle jet's soft-drop mass: both prongs pass z > 0.1, so it is the jet mass
    assert kin["sd_mass_j2"] == pytest.approx(mass(b), rel=1e-5)
    assert 0.0 <= kin["tau21_j1"] <= 1.0


def test_constituents_ordered_padded_and_masked(hand_built):
    out, _ = hand_built
    assert out["jet1_mask"].tolist() == [[True] * 3 + [False]] * 2
    assert out["jet2_mask"].tolist() == [[True] * 2 + [False] * 2] * 2
    pts = np.hypot(out["jet1_p4"][0, :, 0], out["jet1_p4"][0, :, 1])
    np.testing.assert_allclose(pts, [300.0, 100.0, 50.0, 0.0], rtol=1e-6)
    assert np.all(out["jet1_p4"][:, 3] == 0)
    assert np.all(out["jet2_p4"][:, 2:] == 0)
    assert np.all(out["jet1_features"][:, 3] == 0)
    features = dict(zip(FEATURE_NAMES, out["jet1_features"][0].T, strict=True))
    assert features["is_photon"].tolist() == [1, 0, 0, 0]  # the 300 GeV photon first
    assert features["is_charged_hadron"].tolist() == [0, 1, 0, 0]
    assert features["is_electron"].tolist() == [0, 0, 1, 0]
    np.testing.assert_allclose(features["log_pt"][:3], np.log([300.0, 100.0, 50.0]), rtol=1e-6)


def test_truncation_keeps_the_hardest():
    events = ak.Array([event(1, [JET_A, JET_B])])
    out, _ = dijet_inputs(events, DijetSelection(n_constituents=2))
    assert out["jet1_mask"].tolist() == [[True, True]]
    pts = np.hypot(out["jet1_p4"][0, :, 0], out["jet1_p4"][0, :, 1])
    np.testing.assert_allclose(pts, [300.0, 100.0], rtol=1e-6)
    # the kinematics still use every constituent
    kin = dict(zip(KINEMATIC_FEATURES, out["kinematics"][0], strict=True))
    assert kin["m_j1"] == pytest.approx(mass(total(JET_A)), rel=1e-6)


def test_kin_tokens(hand_built):
    out, _ = hand_built
    k = 4
    assert out["kin_tokens"].shape == (2, 2 + 2 * k + 1, len(KIN_TOKEN_FEATURES))
    # jet 1, its three subjets (one padded), jet 2, its two subjets (two padded), dijet
    expected_mask = [True] * 4 + [False] + [True] * 3 + [False] * 2 + [True]
    assert out["kin_mask"].tolist() == [expected_mask] * 2
    tok = {f: out["kin_tokens"][0, :, i] for i, f in enumerate(KIN_TOKEN_FEATURES)}
    a, b = total(JET_A), total(JET_B)
    jj = a + b
    phi_jj = math.atan2(jj[1], jj[0])
    assert tok["log_pt"][0] == pytest.approx(math.log(math.hypot(a[0], a[1])), rel=1e-6)
    assert tok["log_e"][5] == pytest.approx(math.log(b[3]), rel=1e-6)
    assert tok["log_m"][-1] == pytest.approx(math.log(mass(jj)), rel=1e-6)
    assert tok["eta"][-1] == pytest.approx(math.asinh(jj[2] / math.hypot(jj[0], jj[1])), rel=1e-5)
    assert tok["dphi"][-1] == 0.0
    wrapped = (math.atan2(b[1], b[0]) - phi_jj + math.pi) % (2 * math.pi) - math.pi
    assert tok["dphi"][5] == pytest.approx(wrapped, abs=1e-6)
    # single massless-particle subjets: pT of the particles, mass at the floor
    np.testing.assert_allclose(np.exp(tok["log_pt"][1:4]), [300.0, 100.0, 50.0], rtol=1e-5)
    np.testing.assert_allclose(tok["log_m"][1:4], math.log(1e-3), rtol=1e-5)
    one_hot = out["kin_tokens"][0, :, -3:]
    assert one_hot[out["kin_mask"][0]].sum(axis=1).tolist() == [1.0] * 8
    assert one_hot[:, 0].tolist() == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert one_hot[:, 2].tolist() == [0] * 10 + [1]
    assert np.all(out["kin_tokens"][~out["kin_mask"]] == 0)


def test_kin_tokens_shape_check():
    with pytest.raises(ValueError, match="subjet_mask"):
        kin_tokens(np.zeros((3, 2, 4)), np.zeros((3, 2, 2, 4)), np.zeros((3, 2, 3), dtype=bool))


def test_dtypes_shapes_and_finite(hand_built):
    out, _ = hand_built
    n_c, n_f = 4, len(FEATURE_NAMES)
    shapes = {
        "jet1_features": ((2, n_c, n_f), np.float32),
        "jet2_features": ((2, n_c, n_f), np.float32),
        "jet1_mask": ((2, n_c), np.bool_),
        "jet2_mask": ((2, n_c), np.bool_),
        "jet1_p4": ((2, n_c, 4), np.float32),
        "jet2_p4": ((2, n_c, 4), np.float32),
        "kin_tokens": ((2, 11, len(KIN_TOKEN_FEATURES)), np.float32),
        "kin_mask": ((2, 11), np.bool_),
        "kinematics": ((2, len(KINEMATIC_FEATURES)), np.float32),
        "event_id": ((2,), np.int64),
        "weight": ((2,), np.float64),
    }
    assert set(out) == set(shapes)
    for name, (shape, dtype) in shapes.items():
        assert out[name].shape == shape, name
        assert out[name].dtype == dtype, name
        if out[name].dtype.kind == "f":
            assert np.isfinite(out[name]).all(), name


def test_empty_and_no_selected_events():
    sel = DijetSelection()
    empty = ak.Array([event(1, [JET_A])])[:0]
    for events in (empty, ak.Array([event(1, [JET_A]), event(2, [])])):
        out, flow = dijet_inputs(events, sel)
        assert flow["two_fat_jets"] == 0
        assert out["jet1_features"].shape == (0, 64, len(FEATURE_NAMES))
        assert out["kin_tokens"].shape == (0, sel.n_tokens, len(KIN_TOKEN_FEATURES))
        assert out["event_id"].dtype == np.int64
    assert flow == {"events": 2, "one_fat_jet": 1, "two_fat_jets": 0}


def test_acceptance_cuts():
    events = ak.Array([event(1, [JET_A, JET_B])])
    assert dijet_inputs(events, DijetSelection(pt_min=400.0))[1]["two_fat_jets"] == 0
    assert dijet_inputs(events, DijetSelection(eta_max=0.3))[1]["two_fat_jets"] == 0
    out, _ = dijet_inputs(events, DijetSelection(r=0.8))
    assert out["event_id"].tolist() == [1]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"r": 0.0}, "r"),
        ({"r": float("nan")}, "r"),
        ({"pt_min": -1.0}, "pt_min"),
        ({"eta_max": 0}, "eta_max"),
        ({"n_constituents": 0}, "n_constituents"),
        ({"n_constituents": 2.5}, "n_constituents"),
        ({"subjet_r": 1.2}, "subjet_r"),
        ({"n_subjets": True}, "n_subjets"),
    ],
)
def test_selection_validation(kwargs, field):
    with pytest.raises(ValueError, match=f"DijetSelection.{field} "):
        DijetSelection(**kwargs)


def test_bad_input():
    with pytest.raises(TypeError, match="DijetSelection"):
        dijet_inputs(ak.Array([event(1, [JET_A])]), {"r": 1.0})  # type: ignore[arg-type]
    no_weight = ak.Array([{"particles": event(1, [JET_A])["particles"], "event_id": 1}])
    with pytest.raises(JetInputError, match="weight"):
        dijet_inputs(no_weight, DijetSelection())


@pytest.mark.slow
def test_pythia_hh4b_m1000(tmp_path):
    from phenoflow.generation.pythia import generate_shard
    from phenoflow.io.parquet import read_events
    from tests.conftest import small_spec

    generate_shard(small_spec("hh4b_m1000", 100, chunk_size=50), tmp_path / "hh.parquet")
    events = read_events(tmp_path / "hh.parquet")
    out, flow = dijet_inputs(events, DijetSelection())
    assert flow["events"] == 100
    assert flow["two_fat_jets"] >= 60
    assert len(out["event_id"]) == flow["two_fat_jets"]
    for name, array in out.items():
        if array.dtype.kind == "f":
            assert np.isfinite(array).all(), name
    kin = dict(zip(KINEMATIC_FEATURES, out["kinematics"].T, strict=True))
    assert np.all(kin["pt_j2"] > 250.0)
    assert np.all(kin["pt_j1"] >= kin["pt_j2"])
    counts, edges = np.histogram(kin["m_j1"], bins=np.arange(0.0, 300.0, 25.0))
    assert 100.0 <= edges[np.argmax(counts)] <= 125.0  # the 100-150 GeV bins: h -> b bbar
    assert 110.0 < np.median(kin["m_j1"]) < 150.0
    assert 850.0 < np.median(kin["m_jj"]) < 1100.0  # m_H = 1 TeV
