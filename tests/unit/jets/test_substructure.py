"""Tests for phenoflow.jets.substructure: exact answers on hand-built toy jets."""

from __future__ import annotations

import math
import warnings

import awkward as ak
import fastjet
import numpy as np
import pytest
import vector

from phenoflow.jets.substructure import RECLUSTER_R, SubstructureConfig, substructure

vector.register_awkward()

R = 0.8
SCALAR_KEYS = (
    "mass",
    "n_constituents",
    "sd_mass",
    "tau1",
    "tau2",
    "tau3",
    "tau21",
    "tau32",
    "pull_x",
    "pull_y",
    "pull_mag",
    "pull_angle",
)
LUND_KEYS = ("lund_ln_inv_delta", "lund_ln_kt")


def massless(pt: float, y: float, phi: float) -> dict[str, float | int]:
    """A massless constituent with transverse momentum pt [GeV] at (y, phi)."""
    return {
        "px": pt * math.cos(phi),
        "py": pt * math.sin(phi),
        "pz": pt * math.sinh(y),
        "E": pt * math.cosh(y),
        "pid": 211,
        "charge": 1,
    }


def jets(*jet_lists: list[dict[str, float | int]]) -> ak.Array:
    """n_jets * var * {px, py, pz, E, pid, charge} with the pid/charge dtypes of the format."""
    arr = ak.Array(list(jet_lists))
    if len(ak.flatten(arr, axis=1)) == 0:
        return arr
    return ak.zip(
        {
            "px": ak.values_astype(arr.px, np.float64),
            "py": ak.values_astype(arr.py, np.float64),
            "pz": ak.values_astype(arr.pz, np.float64),
            "E": ak.values_astype(arr.E, np.float64),
            "pid": ak.values_astype(arr.pid, np.int32),
            "charge": ak.values_astype(arr.charge, np.int32),
        }
    )


def m2_massless(p1: tuple[float, float, float], p2: tuple[float, float, float]) -> float:
    """Pair mass^2 of massless (pt, y, phi) particles: 2 pt1 pt2 (cosh dy - cos dphi)."""
    return 2 * p1[0] * p2[0] * (math.cosh(p1[1] - p2[1]) - math.cos(p1[2] - p2[2]))


def random_jets(rng: np.random.Generator, n_jets: int) -> ak.Array:
    """Toy jets of 0..40 massive constituents scattered around random axes."""
    out = []
    for n in rng.integers(0, 40, size=n_jets):
        y0, phi0 = rng.uniform(-2, 2), rng.uniform(-np.pi, np.pi)
        pt_ = rng.exponential(20.0, n) + 0.5
        y = y0 + rng.normal(0, 0.25, n)
        ph = phi0 + rng.normal(0, 0.25, n)
        m = 0.14 * rng.integers(0, 2, n)
        mt = np.hypot(pt_, m)
        rows = [
            {
                "px": p * math.cos(f),
                "py": p * math.sin(f),
                "pz": t * math.sinh(yy),
                "E": t * math.cosh(yy),
                "pid": 211,
                "charge": 1,
            }
            for p, t, yy, f in zip(pt_, mt, y, ph, strict=True)
        ]
        out.append(rows)
    return jets(*out)


# --- mass and counts -------------------------------------------------------------------


def test_mass_matches_hand_invariant_mass() -> None:
    c = jets(
        [
            {"px": 10.0, "py": 0.0, "pz": 0.0, "E": 10.0, "pid": 22, "charge": 0},
            {"px": 0.0, "py": 10.0, "pz": 0.0, "E": 10.0, "pid": 22, "charge": 0},
            {"px": 0.0, "py": 0.0, "pz": 3.0, "E": 5.0, "pid": 211, "charge": 1},
        ]
    )
    res = substructure(c)
    # E = 25, p = (10, 10, 3): m^2 = 625 - 209 = 416.
    assert res["mass"][0] == pytest.approx(math.sqrt(416.0), rel=1e-14)
    assert res["n_constituents"].dtype == np.int32
    assert res["n_constituents"].tolist() == [3]


# --- N-subjettiness --------------------------------------------------------------------


@pytest.mark.parametrize("n_particles", [1, 2, 3])
def test_tau_vanishes_when_n_axes_reach_n_particles(n_particles: int) -> None:
    parts = [massless(100.0, 0.1, 0.0), massless(60.0, -0.2, 0.3), massless(30.0, 0.25, -0.2)]
    res = substructure(jets(parts[:n_particles]))
    for n in range(n_particles, 4):
        assert res[f"tau{n}"][0] == 0.0
    if n_particles >= 2:
        assert res["tau1"][0] > 0.0


def test_tau1_two_particles_hand_formula() -> None:
    pt1, pt2, a = 300.0, 100.0, 0.2
    res = substructure(jets([massless(pt1, a, 0.0), massless(pt2, -a, 0.0)]))
    # Axis (E-scheme sum) has phi = 0 and rapidity from E +- pz.
    e_plus = pt1 * math.exp(a) + pt2 * math.exp(-a)
    e_minus = pt1 * math.exp(-a) + pt2 * math.exp(a)
    y_axis = 0.5 * math.log(e_plus / e_minus)
    expected = (pt1 * abs(a - y_axis) + pt2 * abs(a + y_axis)) / ((pt1 + pt2) * R)
    assert res["tau1"][0] == pytest.approx(expected, rel=1e-12)


def test_tau1_two_particles_beta2() -> None:
    # Equal pT split in phi: the axis sits exactly at the midpoint.
    b = 0.15
    res = substructure(
        jets([massless(200.0, 0.5, 1.0 + b), massless(200.0, 0.5, 1.0 - b)]),
        SubstructureConfig(nsub_beta=2.0),
    )
    assert res["tau1"][0] == pytest.approx(b**2 / R**2, rel=1e-12)


def test_tau3_three_two_particle_prongs() -> None:
    # Three prongs on a circle of radius d in (y, phi); each is two equal-pT massless
    # particles at y0 +- e, whose sum lies exactly at (y0, phi0).
    d, e = 0.4, 0.01
    parts = []
    for angle in (math.pi / 2, math.pi / 2 + 2 * math.pi / 3, math.pi / 2 + 4 * math.pi / 3):
        y0, phi0 = d * math.cos(angle), d * math.sin(angle)
        parts += [massless(100.0, y0 + e, phi0), massless(100.0, y0 - e, phi0)]
    res = substructure(jets(parts))
    assert res["tau3"][0] == pytest.approx(e / R, rel=1e-9)
    assert res["tau3"][0] < 0.1 * res["tau2"][0]
    assert res["tau32"][0] == pytest.approx(res["tau3"][0] / res["tau2"][0], rel=1e-14)
    assert res["tau21"][0] == pytest.approx(res["tau2"][0] / res["tau1"][0], rel=1e-14)


def test_tau_agrees_with_fastjet_contrib_njettiness() -> None:
    c = random_jets(np.random.default_rng(11), 40)
    c = c[ak.num(c) > 0]
    res = substructure(c)
    p4 = ak.zip({f: c[f] for f in ("px", "py", "pz", "E")}, with_name="Momentum4D")
    cs = fastjet.ClusterSequence(p4, fastjet.JetDefinition(fastjet.kt_algorithm, RECLUSTER_R))
    ref = np.asarray(
        cs.njettiness(
            njets=[1, 2, 3],
            beta=1.0,
            R0=R,
            axes_definition="KT_Axes",
            measure_definition="NormalizedMeasure",
        )
    )
    for n in (1, 2, 3):
        np.testing.assert_allclose(res[f"tau{n}"], ref[:, n - 1], rtol=1e-10, atol=1e-14)


# --- soft drop -------------------------------------------------------------------------

CORE = [(500.0, 0.0, 0.0), (400.0, 0.0, 0.1)]


def core_pt() -> float:
    (p1, _, f1), (p2, _, f2) = CORE
    return math.hypot(p1 + p2 * math.cos(f2 - f1), p2 * math.sin(f2 - f1))


def full_mass(soft: tuple[float, float, float]) -> float:
    parts = [*CORE, soft]
    return math.sqrt(
        sum(m2_massless(parts[i], parts[j]) for i in range(3) for j in range(i + 1, 3))
    )


def test_soft_drop_grooms_soft_wide_angle_particle() -> None:
    soft = (40.0, 0.3, -0.4)
    assert soft[0] / (soft[0] + core_pt()) < 0.1  # z < z_cut
    res = substructure(jets([massless(*p) for p in [*CORE, soft]]))
    core_mass = math.sqrt(m2_massless(*CORE))
    assert res["sd_mass"][0] == pytest.approx(core_mass, rel=1e-12)
    assert res["mass"][0] == pytest.approx(full_mass(soft), rel=1e-12)
    assert res["sd_mass"][0] < res["mass"][0]


def test_soft_drop_keeps_particle_above_zcut() -> None:
    soft = (150.0, 0.3, -0.4)
    assert soft[0] / (soft[0] + core_pt()) > 0.1  # z > z_cut
    res = substructure(jets([massless(*p) for p in [*CORE, soft]]))
    assert res["sd_mass"][0] == pytest.approx(full_mass(soft), rel=1e-12)
    assert res["sd_mass"][0] == pytest.approx(res["mass"][0], rel=1e-12)


def test_soft_drop_beta_scales_cut_with_angle() -> None:
    # z ~ 0.047 fails z_cut = 0.1 at beta = 0, but with beta = 1 the cut at
    # Delta R ~ 0.26 is 0.1 * 0.26 / 0.8 ~ 0.033, so the particle is kept.
    soft = (45.0, 0.0, -0.2)
    parts = jets([massless(*p) for p in [*CORE, soft]])
    core_mass = math.sqrt(m2_massless(*CORE))
    assert substructure(parts)["sd_mass"][0] == pytest.approx(core_mass, rel=1e-12)
    kept = substructure(parts, SubstructureConfig(sd_beta=1.0))["sd_mass"][0]
    assert kept == pytest.approx(full_mass(soft), rel=1e-12)


def test_soft_drop_agrees_with_fastjet_contrib() -> None:
    c = random_jets(np.random.default_rng(5), 40)
    c = c[ak.num(c) > 0]  # fastjet's soft drop fails on empty jets
    res = substructure(c)
    p4 = ak.zip({f: c[f] for f in ("px", "py", "pz", "E")}, with_name="Momentum4D")
    cs = fastjet.ClusterSequence(
        p4, fastjet.JetDefinition(fastjet.cambridge_algorithm, RECLUSTER_R)
    )
    ref = cs.exclusive_jets_softdrop_grooming(njets=1, beta=0.0, symmetry_cut=0.1, R0=R)
    # atol: a groomed-to-one massless particle has m = sqrt(rounding) ~ 1e-7 GeV in fastjet.
    np.testing.assert_allclose(res["sd_mass"], np.asarray(ref.msoftdrop), rtol=1e-9, atol=1e-6)


# --- pull ------------------------------------------------------------------------------


def test_pull_two_particles_hand_computation() -> None:
    (pt1, y1, f1), (pt2, y2, f2) = (100.0, 0.0, 0.0), (50.0, 0.3, 0.4)
    res = substructure(jets([massless(pt1, y1, f1), massless(pt2, y2, f2)]))
    px = pt1 * math.cos(f1) + pt2 * math.cos(f2)
    py = pt1 * math.sin(f1) + pt2 * math.sin(f2)
    pz = pt1 * math.sinh(y1) + pt2 * math.sinh(y2)
    en = pt1 * math.cosh(y1) + pt2 * math.cosh(y2)
    y_j, f_j, pt_j = 0.5 * math.log((en + pz) / (en - pz)), math.atan2(py, px), math.hypot(px, py)
    tx = ty = 0.0
    for p, y, f in ((pt1, y1, f1), (pt2, y2, f2)):
        rx, ry = y - y_j, f - f_j
        tx += p / pt_j * math.hypot(rx, ry) * rx
        ty += p / pt_j * math.hypot(rx, ry) * ry
    assert res["pull_x"][0] == pytest.approx(tx, rel=1e-12)
    assert res["pull_y"][0] == pytest.approx(ty, rel=1e-12)
    assert res["pull_mag"][0] == pytest.approx(math.hypot(tx, ty), rel=1e-12)
    assert res["pull_angle"][0] == pytest.approx(math.atan2(ty, tx), rel=1e-12)


def test_pull_wraps_phi_across_pi() -> None:
    # The same pair rotated so the jet straddles phi = +-pi: pull is rotation invariant.
    base = substructure(jets([massless(100.0, 0.0, 0.0), massless(50.0, 0.3, 0.4)]))
    shift = math.pi - 0.2
    rotated = substructure(
        jets([massless(100.0, 0.0, shift), massless(50.0, 0.3, shift + 0.4 - 2 * math.pi)])
    )
    for key in ("pull_x", "pull_y"):
        assert rotated[key][0] == pytest.approx(base[key][0], rel=1e-9)


# --- Lund plane ------------------------------------------------------------------------


def test_lund_three_particles() -> None:
    (p1, p2, p3) = (500.0, 0.0, 0.0), (100.0, 0.0, 0.1), (50.0, 0.5, 0.0)
    res = substructure(jets([massless(*p) for p in (p1, p2, p3)]))
    # C/A merges p1 + p2 first (Delta R = 0.1), then p3.  Primary declusterings:
    # 1) (p1 + p2) vs p3, 2) p1 vs p2.  (p1 + p2) sits at y = 0 and phi = phi_c.
    phi_c = math.atan2(p2[0] * math.sin(0.1), p1[0] + p2[0] * math.cos(0.1))
    delta1 = math.hypot(0.5, phi_c)
    expected_delta = [delta1, 0.1]
    expected_kt = [p3[0] * delta1, p2[0] * 0.1]
    assert ak.num(res["lund_ln_inv_delta"]).tolist() == [2]
    assert res["lund_ln_inv_delta"][0].tolist() == pytest.approx(
        [math.log(1 / d) for d in expected_delta], rel=1e-12
    )
    assert res["lund_ln_kt"][0].tolist() == pytest.approx(
        [math.log(k) for k in expected_kt], rel=1e-12
    )


# --- edge cases, vectorisation, errors -------------------------------------------------


def test_empty_and_tiny_jets_are_finite() -> None:
    single = massless(100.0, 0.0, 0.0)
    single = {**single, "E": math.hypot(single["E"], 0.14)}  # a massive pion
    c = jets([], [single], [massless(100.0, 0.0, 0.0), massless(30.0, 0.1, 0.1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = substructure(c)
    for key in SCALAR_KEYS:
        assert len(res[key]) == 3
        assert np.all(np.isfinite(res[key])), key
    assert res["n_constituents"].tolist() == [0, 1, 2]
    assert res["mass"][0] == 0.0
    assert res["sd_mass"][1] == pytest.approx(0.14, rel=1e-6)
    assert res["tau1"].tolist()[:2] == [0.0, 0.0]
    assert res["tau2"][2] == 0.0
    assert res["tau21"][2] == 0.0
    assert res["tau32"].tolist() == [0.0, 0.0, 0.0]
    assert ak.num(res["lund_ln_kt"]).tolist() == [0, 0, 1]


def test_no_jets() -> None:
    res = substructure(jets([massless(10.0, 0.0, 0.0)])[:0])
    for key in SCALAR_KEYS:
        assert len(res[key]) == 0
    assert len(res["lund_ln_kt"]) == 0


def test_batch_equals_one_at_a_time() -> None:
    tiny = jets([], [massless(80.0, 0.1, 0.2)], [massless(80.0, 0.1, 0.2), massless(9.0, 0, 0)])
    c = ak.concatenate([random_jets(np.random.default_rng(2024), 25), tiny])
    assert {0, 1, 2} <= set(ak.num(c).tolist())
    batch = substructure(c)
    for i in range(len(c)):
        single = substructure(c[i : i + 1])
        for key in SCALAR_KEYS:
            assert single[key][0] == pytest.approx(batch[key][i], rel=1e-12, abs=1e-14), key
        for key in LUND_KEYS:
            assert single[key][0].tolist() == pytest.approx(batch[key][i].tolist(), rel=1e-12)


def test_output_types() -> None:
    res = substructure(random_jets(np.random.default_rng(3), 5))
    assert set(res) == set(SCALAR_KEYS) | set(LUND_KEYS)
    for key in SCALAR_KEYS:
        assert isinstance(res[key], np.ndarray)
        assert res[key].dtype == (np.int32 if key == "n_constituents" else np.float64)
    for key in LUND_KEYS:
        assert str(ak.type(res[key])) == "5 * var * float64"


@pytest.mark.parametrize("field", ["px", "py", "pz", "E"])
def test_nan_input_names_the_field(field: str) -> None:
    c = random_jets(np.random.default_rng(1), 5)
    flat = ak.flatten(c, axis=1)
    values = np.asarray(flat[field]).copy()
    values[3] = np.nan
    bad = ak.unflatten(ak.with_field(flat, values, field), ak.num(c))
    with pytest.raises(ValueError, match=rf"constituents\.{field}\b"):
        substructure(bad)


def test_missing_field_is_named() -> None:
    c = ak.Array([[{"px": 1.0, "py": 0.0, "pz": 0.0}]])
    with pytest.raises(ValueError, match=r"\['E'\]"):
        substructure(c)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [({"r": 0.0}, "r"), ({"sd_zcut": 1.5}, "sd_zcut"), ({"nsub_beta": 0.0}, "nsub_beta")],
)
def test_config_validation_names_the_key(kwargs: dict[str, float], key: str) -> None:
    with pytest.raises(ValueError, match=rf"SubstructureConfig\.{key}\b"):
        SubstructureConfig(**kwargs)
