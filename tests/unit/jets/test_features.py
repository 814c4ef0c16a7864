import math

import awkward as ak
import numpy as np
import pytest

from phenoflow.jets.features import FEATURE_NAMES, constituent_features

F = {name: i for i, name in enumerate(FEATURE_NAMES)}


def make_constituents(jets: list[list[tuple[float, float, float, float, int, int]]]) -> ak.Array:
    """Jets of (px, py, pz, E, pid, charge) tuples -> n_jets * var * record (named)."""
    flat = [p for jet in jets for p in jet]
    counts = np.array([len(jet) for jet in jets], dtype=np.int64)
    columns = np.array([p[:4] for p in flat], dtype=np.float64).reshape(-1, 4)
    pid = np.array([p[4] for p in flat], dtype=np.int32)
    charge = np.array([p[5] for p in flat], dtype=np.int32)
    record = ak.zip(
        {
            "px": columns[:, 0],
            "py": columns[:, 1],
            "pz": columns[:, 2],
            "E": columns[:, 3],
            "pid": pid,
            "charge": charge,
        },
        with_name="Particle",
    )
    return ak.unflatten(record, counts)


def make_jet(eta, phi, pt, energy) -> dict[str, np.ndarray]:
    eta, phi, pt, energy = (np.asarray(v, dtype=np.float64) for v in (eta, phi, pt, energy))
    return {
        "px": pt * np.cos(phi),
        "py": pt * np.sin(phi),
        "pz": pt * np.sinh(eta),
        "E": energy,
        "pt": pt,
        "eta": eta,
        "phi": phi,
        "mass": np.zeros_like(pt),
    }


SINH_HALF = math.sinh(0.5)
# photon (pT 10, eta 0, phi 0), pi+ (pT 20, eta 0.5, phi pi/2), positron (pT 5, eta 0, phi atan2(-4, -3))
# given unsorted in pT: 10, 20, 5
THREE = [
    (10.0, 0.0, 0.0, 10.0, 22, 0),
    (0.0, 20.0, 20.0 * SINH_HALF, 30.0, 211, 1),
    (-3.0, -4.0, 0.0, 5.0, -11, 1),
]
JET_ETA, JET_PHI, JET_PT, JET_E = 0.1, 0.2, 100.0, 200.0


def expected_row(pt, energy, eta, phi, charge, onehot):
    deta = eta - JET_ETA
    dphi = phi - JET_PHI
    return [
        deta,
        dphi,
        math.log(pt),
        math.log(energy),
        math.log(pt / JET_PT),
        math.log(energy / JET_E),
        math.hypot(deta, dphi),
        charge,
        *onehot,
    ]


def test_three_particle_jet_exact_values_sorted_and_padded():
    feats, mask = constituent_features(
        make_constituents([THREE]), make_jet([JET_ETA], [JET_PHI], [JET_PT], [JET_E]), n_max=5
    )
    assert feats.shape == (1, 5, len(FEATURE_NAMES))
    assert feats.dtype == np.float32
    assert mask.dtype == bool
    assert mask.tolist() == [[True, True, True, False, False]]
    # sorted by pT: pi+ (20), photon (10), positron (5)
    expected = [
        expected_row(20.0, 30.0, 0.5, math.pi / 2, 1, [0, 0, 0, 1, 0]),
        expected_row(10.0, 10.0, 0.0, 0.0, 0, [0, 0, 1, 0, 0]),
        expected_row(5.0, 5.0, 0.0, math.atan2(-4.0, -3.0), 1, [1, 0, 0, 0, 0]),
    ]
    np.testing.assert_allclose(feats[0, :3], np.array(expected), rtol=1e-6, atol=1e-6)
    assert not feats[0, 3:].any()
    # spot-check against hand-evaluated numbers
    assert feats[0, 0, F["deta"]] == pytest.approx(0.4)
    assert feats[0, 0, F["log_pt_rel"]] == pytest.approx(math.log(0.2))
    assert feats[0, 1, F["delta_r"]] == pytest.approx(math.sqrt(0.05))
    assert feats[0, 2, F["dphi"]] == pytest.approx(-2.214297435588181 - 0.2)


def test_jet_as_awkward_record_array_gives_the_same():
    jet = make_jet([JET_ETA], [JET_PHI], [JET_PT], [JET_E])
    from_dict = constituent_features(make_constituents([THREE]), jet, n_max=4)
    from_ak = constituent_features(
        make_constituents([THREE]), ak.zip(jet, with_name="FatJet"), n_max=4
    )
    np.testing.assert_array_equal(from_dict[0], from_ak[0])
    np.testing.assert_array_equal(from_dict[1], from_ak[1])


def test_truncation_keeps_the_hardest():
    jet = make_jet([JET_ETA], [JET_PHI], [JET_PT], [JET_E])
    feats, mask = constituent_features(make_constituents([THREE]), jet, n_max=2)
    assert feats.shape == (1, 2, len(FEATURE_NAMES))
    assert mask.all()
    np.testing.assert_allclose(np.exp(feats[0, :, F["log_pt"]]), [20.0, 10.0], rtol=1e-6)


def test_sorting_per_jet_with_several_jets():
    rng = np.random.default_rng(7)
    jets = []
    for n in (6, 0, 3, 9):
        pts = rng.uniform(1.0, 50.0, n)
        phis = rng.uniform(-np.pi, np.pi, n)
        jets.append(
            [
                (p * math.cos(f), p * math.sin(f), 1.0, p + 2.0, 211, 1)
                for p, f in zip(pts, phis, strict=True)
            ]
        )
    cons = make_constituents(jets)
    jet = make_jet(np.zeros(4), np.zeros(4), np.full(4, 100.0), np.full(4, 200.0))
    feats, mask = constituent_features(cons, jet, n_max=7)
    assert mask.sum(axis=1).tolist() == [6, 0, 3, 7]
    for i, particles in enumerate(jets):
        want = sorted((math.hypot(p[0], p[1]) for p in particles), reverse=True)[:7]
        got = np.exp(feats[i, mask[i], F["log_pt"]])
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_one_hot_categories():
    particles = [
        (50.0, 0.0, 0.0, 50.0, 11, -1),  # electron
        (45.0, 0.0, 0.0, 45.0, -13, 1),  # mu+
        (40.0, 0.0, 0.0, 40.0, 22, 0),  # photon
        (35.0, 0.0, 0.0, 35.0, 211, 1),  # pi+
        (30.0, 0.0, 0.0, 30.0, 130, 0),  # K_L
        (25.0, 0.0, 0.0, 25.0, 2112, 0),  # neutron
        (20.0, 0.0, 0.0, 20.0, -321, -1),  # K-
    ]
    feats, mask = constituent_features(
        make_constituents([particles]), make_jet([0.0], [0.0], [250.0], [250.0]), n_max=7
    )
    assert mask.all()
    onehots = feats[0, :, F["is_electron"] : F["is_neutral_hadron"] + 1]
    expected = np.array(
        [
            [1, 0, 0, 0, 0],
            [0, 1, 0, 0, 0],
            [0, 0, 1, 0, 0],
            [0, 0, 0, 1, 0],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 1, 0],
        ],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(onehots, expected)
    np.testing.assert_array_equal(feats[0, :, F["charge"]], [-1, 1, 0, 1, 0, 0, -1])


def test_empty_jet_is_fully_masked():
    cons = make_constituents([[], THREE])
    jet = make_jet([0.0, JET_ETA], [0.0, JET_PHI], [1.0, JET_PT], [1.0, JET_E])
    feats, mask = constituent_features(cons, jet, n_max=4)
    assert not mask[0].any()
    assert not feats[0].any()
    assert mask[1].sum() == 3


def test_no_jets():
    cons = make_constituents([])
    feats, mask = constituent_features(cons, make_jet([], [], [], []), n_max=3)
    assert feats.shape == (0, 3, len(FEATURE_NAMES))
    assert mask.shape == (0, 3)


@pytest.mark.parametrize(
    ("phi_p", "phi_j", "want"), [(-3.1, 3.1, 2 * math.pi - 6.2), (3.1, -3.1, 6.2 - 2 * math.pi)]
)
def test_dphi_wraps_around_pi(phi_p, phi_j, want):
    particle = (10.0 * math.cos(phi_p), 10.0 * math.sin(phi_p), 0.0, 10.0, 22, 0)
    feats, _ = constituent_features(
        make_constituents([[particle]]), make_jet([0.0], [phi_j], [10.0], [10.0]), n_max=1
    )
    assert feats[0, 0, F["dphi"]] == pytest.approx(want, abs=1e-6)
    assert feats[0, 0, F["delta_r"]] == pytest.approx(abs(want), abs=1e-6)


def test_zero_pt_particle_does_not_warn_or_give_minus_inf():
    # a particle along the beam: pT = 0 (warnings are errors in this test suite)
    feats, mask = constituent_features(
        make_constituents([[(0.0, 0.0, 5.0, 5.0, 22, 0)]]), make_jet([0.0], [0.0], [0.0], [5.0])
    )
    assert mask[0, 0]
    assert feats[0, 0, F["log_pt"]] == pytest.approx(math.log(1e-30))
    assert np.isfinite(feats[0, 0, F["log_pt_rel"]])


def test_bad_inputs_name_the_problem():
    cons = make_constituents([THREE])
    jet = make_jet([JET_ETA], [JET_PHI], [JET_PT], [JET_E])
    with pytest.raises(ValueError, match="charge"):
        constituent_features(cons[["px", "py", "pz", "E", "pid"]], jet)
    with pytest.raises(ValueError, match="n_max"):
        constituent_features(cons, jet, n_max=0)
    with pytest.raises(KeyError, match="'eta'"):
        constituent_features(cons, {k: v for k, v in jet.items() if k != "eta"})
    with pytest.raises(ValueError, match="shape"):
        constituent_features(cons, make_jet([0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]))
    with pytest.raises(TypeError, match="awkward"):
        constituent_features(np.zeros((1, 3)), jet)
    with pytest.raises(ValueError, match="2 dimensions"):
        constituent_features(ak.Array([[[THREE_RECORD]]]), jet)


THREE_RECORD = {"px": 1.0, "py": 0.0, "pz": 0.0, "E": 1.0, "pid": 22, "charge": 0}
