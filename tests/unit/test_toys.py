"""Physics tests of the toy topologies (arXiv:2105.10126) and the reference variables."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from phenoflow.generation.toys import (
    E_MAX,
    E_SYSTEM_MAX,
    M_PAIR_MAX,
    TOPOLOGIES,
    ToySample,
    boost,
    fixed_theta,
    input_dim,
    isotropic_directions,
    sample_theta,
    sample_topology,
    simulate,
    theta_dim,
)
from phenoflow.physics.variables import invariant_mass, mt2, transverse_mass

N = 20_000
M_A, M_C = 300.0, 100.0
MU = (M_A**2 - M_C**2) / M_A  # endpoint of m_T and m_T2(0): 266.67 GeV

# Daughter names and their parent for each topology's truth record
DECAYS = {
    "two_body": [("A", ("b", "c"))],
    "one_invisible": [("A", ("b", "C"))],
    "two_invisible": [("AA", ("A1", "A2")), ("A1", ("b1", "C1")), ("A2", ("b2", "C2"))],
}


def m2(p4: np.ndarray) -> np.ndarray:
    return p4[:, 0] ** 2 - np.sum(p4[:, 1:] ** 2, axis=1)


def truth_sample(topology: str, n: int = N, seed: int = 7):
    rng = np.random.default_rng(seed)
    return simulate(topology, sample_theta(topology, n, rng), rng, return_truth=True)


def within_sigma(values: np.ndarray, expected: float, n_sigma: float = 4.0) -> bool:
    err = np.std(values) / np.sqrt(values.size)
    return abs(np.mean(values) - expected) < n_sigma * err


# ----------------------------------------------------------------------------- variables


def test_invariant_mass_hand_computed():
    p1 = np.array([[5.0, 3.0, 0.0, 4.0], [5.0, 3.0, 0.0, 4.0]])
    p2 = np.array([[5.0, -3.0, 0.0, -4.0], [5.0, 3.0, 0.0, 4.0]])
    # back to back -> m = E_tot = 10; collinear massless -> 0
    assert invariant_mass(p1, p2) == pytest.approx([10.0, 0.0], abs=1e-12)
    p3 = np.array([[13.0, 0.0, 0.0, 5.0], [13.0, 0.0, 0.0, 5.0]])
    assert invariant_mass(p3) == pytest.approx([12.0, 12.0])
    # sum of the three first rows: (23, 0, 0, 5), m^2 = 529 - 25 = 504
    tot = invariant_mass(p1[:1], p2[:1], p3[:1])
    assert tot == pytest.approx([np.sqrt(23.0**2 - 5.0**2)])


def test_invariant_mass_errors():
    with pytest.raises(ValueError, match="p4s"):
        invariant_mass()
    with pytest.raises(ValueError, match=r"p4s\[1\]"):
        invariant_mass(np.zeros((2, 4)), np.zeros((2, 3)))


def test_transverse_mass_hand_computed():
    # massless b with pT = 3 and met opposite, |met| = 3: m_T^2 = 2 (9 + 9) = 36
    p = np.array([[5.0, 3.0, 0.0, 4.0]])
    assert transverse_mass(p, np.array([[-3.0, 0.0]])) == pytest.approx([6.0])
    # met parallel to b: m_T = 0
    assert transverse_mass(p, np.array([[3.0, 0.0]])) == pytest.approx([0.0], abs=1e-6)
    # two mass-12 particles back to back in the transverse plane with pT = 5:
    # m_T = total energy = 2 * 13 = 26
    q = np.array([[13.0, 3.0, 4.0, 0.0]])
    assert transverse_mass(q, np.array([[-3.0, -4.0]]), m_invis=12.0) == pytest.approx([26.0])
    # with test mass 0: m^2 = 144 + 2 (13 * 5 + 25) = 324
    assert transverse_mass(q, np.array([[-3.0, -4.0]])) == pytest.approx([18.0])


def test_transverse_mass_errors():
    with pytest.raises(ValueError, match="met"):
        transverse_mass(np.zeros((2, 4)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="m_invis"):
        transverse_mass(np.zeros((2, 4)), np.zeros((2, 2)), m_invis=-1.0)


def test_mt2_known_value_massless():
    # massless visibles, zero test mass, met = -(pT1 + pT2): m_T2 = m_CT with
    # m_CT^2 = 2 (|pT1||pT2| + pT1.pT2) = 2 (10 * 10 + 0) = 200
    b1 = np.array([[10.0, 10.0, 0.0, 0.0], [10.0, 10.0, 0.0, 0.0]])
    b2 = np.array([[10.0, 0.0, 10.0, 0.0], [10.0, -10.0, 0.0, 0.0]])
    met = -(b1[:, 1:3] + b2[:, 1:3])
    # second row back to back, no missing momentum: the split q = 0 gives 0
    assert mt2(b1, b2, met) == pytest.approx([np.sqrt(200.0), 0.0], abs=1e-9)


def test_mt2_brute_force_minimum():
    # min over the split of max(m_T1, m_T2) on a fine grid, an independent check
    b1 = np.array([[50.0, 20.0, 10.0, 40.0]])
    b2 = np.array([[30.0, -5.0, 25.0, 10.0]])
    met = np.array([[-30.0, 15.0]])
    m_inv = 20.0
    grid = np.linspace(-120.0, 120.0, 801)
    qx, qy = np.meshgrid(grid, grid)
    q = np.stack([qx.ravel(), qy.ravel()], axis=1)
    mt_1 = transverse_mass(np.repeat(b1, len(q), axis=0), q, m_inv)
    mt_2 = transverse_mass(np.repeat(b2, len(q), axis=0), met - q, m_inv)
    brute = np.min(np.maximum(mt_1, mt_2))
    value = mt2(b1, b2, met, m_invis=m_inv)[0]
    assert value <= brute + 1e-9
    assert value == pytest.approx(brute, abs=0.1)


def test_mt2_bounded_by_parent_mass_with_true_split():
    sample, truth = truth_sample("two_invisible", n=5000)
    m_a, m_c = sample.theta[:, 0], sample.theta[:, 1]
    met = sample.X[:, 8:10]
    # m_T2 is a minimum over splits of met, so it is <= its value at the true split
    for test_mass in (0.0, m_c, 0.5 * m_c):
        value = mt2(truth["b1"], truth["b2"], met, m_invis=test_mass)
        true_split = np.maximum(
            transverse_mass(truth["b1"], truth["C1"][:, 1:3], test_mass),
            transverse_mass(truth["b2"], truth["C2"][:, 1:3], test_mass),
        )
        assert np.all(value <= true_split * (1 + 1e-9))
        assert np.all(value >= test_mass * (1 - 1e-9))  # m_T2 >= the test mass
    # with the true invisible mass the true split gives m_T <= m_A, so m_T2 <= m_A,
    # and the endpoint is reached
    value = mt2(truth["b1"], truth["b2"], met, m_invis=m_c)
    assert np.all(value <= m_a * (1 + 1e-9))
    assert np.max(value / m_a) > 0.95


# ----------------------------------------------------------------------------- boosts


def test_isotropic_directions():
    u = isotropic_directions(50_000, np.random.default_rng(0))
    assert u.shape == (50_000, 3)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, rtol=1e-12)
    for axis in range(3):
        assert within_sigma(u[:, axis], 0.0)
        assert within_sigma(u[:, axis] ** 2, 1.0 / 3.0)


def test_boost_round_trip_and_invariance():
    rng = np.random.default_rng(1)
    p = np.concatenate([rng.uniform(50, 100, (100, 1)), rng.uniform(-20, 20, (100, 3))], axis=1)
    beta = 0.9 * isotropic_directions(100, rng) * rng.uniform(0, 1, (100, 1))
    q = boost(p, beta)
    np.testing.assert_allclose(m2(q), m2(p), rtol=1e-9)
    np.testing.assert_allclose(boost(q, -beta), p, rtol=1e-9, atol=1e-9)
    # a particle at rest gets velocity beta
    rest = np.tile([2.0, 0.0, 0.0, 0.0], (100, 1))
    moving = boost(rest, beta)
    np.testing.assert_allclose(moving[:, 1:] / moving[:, :1], beta, atol=1e-12)
    # along z: E' = gamma (E + beta pz) by hand, beta = 0.6, gamma = 1.25
    along_z = boost(np.array([[5.0, 1.0, 2.0, 4.0]]), np.array([0.0, 0.0, 0.6]))
    np.testing.assert_allclose(along_z, [[1.25 * (5 + 2.4), 1.0, 2.0, 1.25 * (4 + 3.0)]])
    # zero velocity is the identity
    np.testing.assert_allclose(boost(p, np.zeros(3)), p)
    with pytest.raises(ValueError, match="beta"):
        boost(p, np.array([1.0, 0.0, 0.0]))


# ----------------------------------------------------------------------------- API


@pytest.mark.parametrize(
    ("topology", "d", "k"), [("two_body", 8, 1), ("one_invisible", 6, 2), ("two_invisible", 10, 2)]
)
def test_shapes_and_names(topology, d, k):
    s = sample_topology(topology, 100, np.random.default_rng(3))
    assert isinstance(s, ToySample)
    assert (input_dim(topology), theta_dim(topology)) == (d, k)
    assert s.X.shape == (100, d)
    assert s.X.dtype == np.float64
    assert s.theta.shape == (100, k)
    assert s.theta.dtype == np.float64
    assert s.reference.shape == (100,)
    assert (len(s.x_names), len(s.theta_names), len(s)) == (d, k, 100)
    assert np.all(np.isfinite(s.X))
    assert np.all(np.isfinite(s.reference))


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_same_seed_identical(topology):
    a = sample_topology(topology, 500, np.random.default_rng(11))
    b = sample_topology(topology, 500, np.random.default_rng(11))
    c = sample_topology(topology, 500, np.random.default_rng(12))
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.reference, b.reference)
    assert not np.array_equal(a.X, c.X)


def test_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="two_body"):
        sample_topology("three_body", 10, rng)
    with pytest.raises(ValueError, match="topology"):
        input_dim("nope")
    with pytest.raises(ValueError, match="m_A"):
        sample_topology("two_body", 10, rng, m_A=600.0)
    with pytest.raises(ValueError, match="m_A"):
        sample_topology("one_invisible", 10, rng, m_A=99.0, m_C=10.0)
    with pytest.raises(ValueError, match="m_C"):
        sample_topology("one_invisible", 10, rng, m_A=300.0, m_C=300.0)
    with pytest.raises(ValueError, match="m_C"):
        sample_topology("two_invisible", 10, rng, m_A=300.0)
    with pytest.raises(ValueError, match="m_C"):
        sample_topology("two_body", 10, rng, m_A=300.0, m_C=1.0)
    with pytest.raises(ValueError, match="m_C"):
        sample_topology("two_invisible", 10, rng, m_C=1.0)
    with pytest.raises(ValueError, match="n"):
        sample_theta("two_body", -1, rng)
    with pytest.raises(ValueError, match="theta"):
        simulate("one_invisible", np.ones((10, 1)), rng)
    with pytest.raises(ValueError, match="theta"):
        simulate("one_invisible", np.array([[300.0, 400.0]]), rng)
    with pytest.raises(ValueError, match="m_invis"):
        mt2(np.zeros((1, 4)), np.zeros((1, 4)), np.zeros((1, 2)), m_invis=-1.0)


def test_fixed_parameters():
    s = sample_topology("two_invisible", 50, np.random.default_rng(0), m_A=M_A, m_C=M_C)
    np.testing.assert_array_equal(s.theta, fixed_theta("two_invisible", 50, M_A, M_C))
    assert np.all(s.theta == [M_A, M_C])


# ----------------------------------------------------------------------------- physics


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_on_shell_masses(topology):
    sample, truth = truth_sample(topology)
    m_a = sample.theta[:, 0]
    m_c = sample.theta[:, 1] if sample.theta.shape[1] == 2 else np.zeros(len(sample))
    expected = {"A": m_a, "A1": m_a, "A2": m_a, "b": 0, "c": 0, "b1": 0, "b2": 0}
    expected |= {"C": m_c, "C1": m_c, "C2": m_c}
    for name, p4 in truth.items():
        if name == "AA":
            continue
        scale = p4[:, 0] ** 2
        np.testing.assert_allclose(m2(p4) / scale, expected[name] ** 2 / scale, atol=1e-12)
    # the parents reconstructed from their daughters
    for parent, daughters in DECAYS[topology]:
        if parent != "AA":
            rebuilt = invariant_mass(*(truth[d] for d in daughters))
            np.testing.assert_allclose(rebuilt, m_a, rtol=1e-9)


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_four_momentum_conservation(topology):
    _, truth = truth_sample(topology)
    for parent, daughters in DECAYS[topology]:
        total = sum(truth[d] for d in daughters)
        scale = truth[parent][:, :1]
        np.testing.assert_allclose(total / scale, truth[parent] / scale, atol=1e-12)


@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_inputs_match_truth(topology):
    sample, truth = truth_sample(topology, n=1000)
    if topology == "two_body":
        np.testing.assert_array_equal(sample.X, np.hstack([truth["b"], truth["c"]]))
    elif topology == "one_invisible":
        np.testing.assert_array_equal(sample.X, np.hstack([truth["b"], truth["C"][:, 1:3]]))
    else:
        met = truth["C1"][:, 1:3] + truth["C2"][:, 1:3]
        np.testing.assert_array_equal(sample.X, np.hstack([truth["b1"], truth["b2"], met]))
        # the pair has no transverse momentum: met balances the visible pT
        np.testing.assert_allclose(
            met, -(truth["b1"][:, 1:3] + truth["b2"][:, 1:3]), atol=1e-9 * E_SYSTEM_MAX
        )


def test_two_body_reference_is_m_A():
    sample = sample_topology("two_body", N, np.random.default_rng(4))
    np.testing.assert_allclose(sample.reference, sample.theta[:, 0], rtol=1e-9)
    p_b, p_c = sample.X[:, :4], sample.X[:, 4:]
    np.testing.assert_allclose(invariant_mass(p_b, p_c), sample.theta[:, 0], rtol=1e-9)


def test_one_invisible_mt_endpoint():
    sample = sample_topology("one_invisible", 100_000, np.random.default_rng(5), m_A=M_A, m_C=M_C)
    m_t = sample.reference
    assert np.all(m_t <= MU * (1 + 1e-9))
    assert m_t.max() > 0.99 * MU
    # A has no pT: m_T = 2 pT_b = mu sin(theta*), whose median is mu sqrt(3)/2
    assert np.median(m_t) == pytest.approx(MU * np.sqrt(3) / 2, rel=0.01)


def test_one_invisible_mt_below_endpoint_for_prior():
    sample = sample_topology("one_invisible", N, np.random.default_rng(6))
    m_a, m_c = sample.theta.T
    assert np.all(sample.reference <= (m_a**2 - m_c**2) / m_a * (1 + 1e-9))


def test_two_invisible_mt2_endpoint():
    sample = sample_topology("two_invisible", 100_000, np.random.default_rng(8), m_A=M_A, m_C=M_C)
    assert np.all(sample.reference >= 0)
    assert np.all(sample.reference <= MU * (1 + 1e-9))
    assert sample.reference.max() > 0.98 * MU
    prior = sample_topology("two_invisible", N, np.random.default_rng(9))
    m_a, m_c = prior.theta.T
    assert np.all(prior.reference <= (m_a**2 - m_c**2) / m_a * (1 + 1e-9))


def test_prior_two_body():
    m_a = sample_theta("two_body", N, np.random.default_rng(10))[:, 0]
    assert m_a.min() >= 100.0
    assert m_a.max() <= 500.0
    assert stats.kstest(m_a, stats.uniform(100.0, 400.0).cdf).pvalue > 1e-3


@pytest.mark.parametrize("topology", ["one_invisible", "two_invisible"])
def test_prior_mass_region(topology):
    m_a, m_c = sample_theta(topology, 100_000, np.random.default_rng(13)).T
    assert m_a.min() >= 100.0
    assert m_a.max() <= 500.0
    assert np.all((m_c >= 0.0) & (m_c < m_a))
    # p(m_A) ~ m_A: mean = int m^2 / int m over [100, 500] = 344.44 GeV
    expected_mean = (2.0 / 3.0) * (500.0**3 - 100.0**3) / (500.0**2 - 100.0**2)
    assert expected_mean == pytest.approx(344.444, abs=1e-3)
    assert within_sigma(m_a, expected_mean)
    cdf = (m_a**2 - 100.0**2) / (500.0**2 - 100.0**2)  # probability integral transform
    assert stats.kstest(cdf, "uniform").pvalue > 1e-3
    # delta_m / m_A = ((m_A - m_C) / m_A)^2 ~ U[0, 1], independent of m_A
    ratio = ((m_a - m_c) / m_a) ** 2
    assert stats.kstest(ratio, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(ratio, m_a)[0, 1]) < 4 / np.sqrt(m_a.size)


@pytest.mark.parametrize("topology", ["two_body", "one_invisible"])
def test_energy_ranges_single_parent(topology):
    sample, truth = truth_sample(topology)
    m_a, e_a = sample.theta[:, 0], truth["A"][:, 0]
    assert np.all(e_a >= m_a * (1 - 1e-12))
    assert np.all(e_a <= E_MAX)
    # E_A | m_A ~ U[m_A, E_MAX]
    assert stats.kstest((e_a - m_a) / (E_MAX - m_a), "uniform").pvalue > 1e-3
    if topology == "one_invisible":
        np.testing.assert_array_equal(truth["A"][:, 1:3], 0.0)  # along the beam
        assert within_sigma(np.sign(truth["A"][:, 3]), 0.0)
    else:
        direction = truth["A"][:, 1:] / np.linalg.norm(truth["A"][:, 1:], axis=1, keepdims=True)
        for axis in range(3):
            assert within_sigma(direction[:, axis], 0.0)
            assert within_sigma(direction[:, axis] ** 2, 1.0 / 3.0)


def test_energy_ranges_pair():
    sample, truth = truth_sample("two_invisible")
    m_a = sample.theta[:, 0]
    pair = truth["AA"]
    m_pair = np.sqrt(m2(pair))
    assert np.all(m_pair >= 2 * m_a * (1 - 1e-9))
    assert np.all(m_pair <= M_PAIR_MAX * (1 + 1e-9))
    assert np.all(pair[:, 0] >= m_pair * (1 - 1e-9))
    assert np.all(pair[:, 0] <= E_SYSTEM_MAX)
    np.testing.assert_array_equal(pair[:, 1:3], 0.0)
    assert stats.kstest((m_pair - 2 * m_a) / (M_PAIR_MAX - 2 * m_a), "uniform").pvalue > 1e-3
    # A1 and A2 are back to back in the pair rest frame, each with energy m_pair / 2
    beta = pair[:, 1:] / pair[:, :1]
    a1, a2 = boost(truth["A1"], -beta), boost(truth["A2"], -beta)
    np.testing.assert_allclose(a1[:, 0], m_pair / 2, rtol=1e-9)
    np.testing.assert_allclose(a1[:, 1:] + a2[:, 1:], 0.0, atol=1e-9 * E_SYSTEM_MAX)


@pytest.mark.parametrize(
    ("topology", "parent", "daughter"),
    [
        ("two_body", "A", "b"),
        ("one_invisible", "A", "b"),
        ("two_invisible", "A1", "b1"),
        ("two_invisible", "A2", "b2"),
        ("two_invisible", "AA", "A1"),
    ],
)
def test_isotropic_decays(topology, parent, daughter):
    _, truth = truth_sample(topology)
    p_parent = truth[parent]
    rest = boost(truth[daughter], -p_parent[:, 1:] / p_parent[:, :1])
    unit = rest[:, 1:] / np.linalg.norm(rest[:, 1:], axis=1, keepdims=True)
    flight = p_parent[:, 1:] / np.linalg.norm(p_parent[:, 1:], axis=1, keepdims=True)
    cos_helicity = np.sum(unit * flight, axis=1)
    assert within_sigma(cos_helicity, 0.0)
    assert stats.kstest(cos_helicity, stats.uniform(-1.0, 2.0).cdf).pvalue > 1e-3
    for axis in range(3):  # lab axes, as a second frame
        assert within_sigma(unit[:, axis], 0.0)
        assert within_sigma(unit[:, axis] ** 2, 1.0 / 3.0)
