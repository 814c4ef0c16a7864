"""Subjet finding on hand-built jets with known answers."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from phenoflow.jets.subjets import (
    SUBJET_ALGORITHMS,
    Subjets,
    _reachability,
    hdbscan_subjets,
    recluster_subjets,
    subjets,
)
from phenoflow.physics import kinematics as kin

# Three prongs of a jet at eta ~ 0.3, phi ~ 3.15: prongs B and C sit beyond phi = pi and
# wrap to negative phi. Centre separations: A-B 0.50, A-C 0.55, B-C 0.67 (all > r_sub = 0.3).
# Each entry: (d_eta, d_phi, pT [GeV]) of a particle relative to its prong centre.
PRONGS = {
    "A": ((0.30, 2.90), [(0.00, 0.00, 120.0), (0.02, -0.01, 60.0), (-0.01, 0.02, 30.0),
                         (0.03, 0.02, 15.0)]),
    "B": ((0.60, 3.30), [(0.00, 0.00, 100.0), (-0.02, 0.01, 50.0), (0.01, -0.03, 25.0)]),
    "C": ((-0.05, 3.29), [(0.00, 0.00, 80.0), (0.01, 0.02, 40.0), (-0.02, -0.01, 20.0),
                          (0.02, -0.02, 10.0)]),
}  # fmt: skip
PRONG_ORDER = ("A", "B", "C")  # by summed pT, descending: 225 > 175 > 150 GeV


def _massless(eta: np.ndarray, phi: np.ndarray, pt: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "px": pt * np.cos(phi),
        "py": pt * np.sin(phi),
        "pz": pt * np.sinh(eta),
        "E": pt * np.cosh(eta),
    }


def _toy_particles() -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Particles of the three-prong jet sorted by pT descending, and their prong rank (0, 1, 2)."""
    eta, phi, pt, prong = [], [], [], []
    for rank, name in enumerate(PRONG_ORDER):
        (eta0, phi0), parts = PRONGS[name]
        for d_eta, d_phi, p in parts:
            eta.append(eta0 + d_eta)
            phi.append(kin.delta_phi(phi0 + d_phi, 0.0))  # wrap into [-pi, pi)
            pt.append(p)
            prong.append(rank)
    order = np.argsort(-np.asarray(pt), kind="stable")
    p4 = _massless(np.asarray(eta)[order], np.asarray(phi)[order], np.asarray(pt)[order])
    return p4, np.asarray(prong)[order]


def _jets(*jets: dict[str, np.ndarray], with_name: str | None = None) -> ak.Array:
    """``n_jets * var * {px, py, pz, E, pid, charge}`` from per-jet dicts of numpy arrays."""
    counts = [len(jet["px"]) for jet in jets]
    fields = {
        f: np.concatenate([np.asarray(jet[f], dtype=np.float64) for jet in jets] or [[]])
        for f in ("px", "py", "pz", "E")
    }
    n = sum(counts)
    fields["pid"] = np.full(n, 211, dtype=np.int32)
    fields["charge"] = np.ones(n, dtype=np.int32)
    return ak.unflatten(ak.zip(fields, with_name=with_name), np.asarray(counts, dtype=np.int64))


def _expected_prong_sums(p4: dict[str, np.ndarray], prong: np.ndarray) -> list[list[float]]:
    return [[float(p4[f][prong == k].sum()) for f in ("px", "py", "pz", "E")] for k in range(3)]


def _as_rows(p4: ak.Array) -> list[list[float]]:
    return [[float(s[f]) for f in ("px", "py", "pz", "E")] for s in p4]


def _run(algorithm: str, constituents: ak.Array) -> Subjets:
    return subjets(constituents, algorithm, r_sub=0.3)


def _far_soft_particle() -> dict[str, np.ndarray]:
    """A 2-GeV particle at (eta, phi) = (-0.35, 2.70), 0.78 from the jet axis.

    It is 0.68 / 1.12 / 0.66 from the prong centres A / B / C: farther than r_sub, so
    reclustering makes it a subjet of its own, and farther than the largest inter-prong link
    (0.55), so it leaves HDBSCAN's hierarchy before any prong cluster forms, i.e. it is noise.
    """
    return _massless(np.array([-0.35]), np.array([2.70]), np.array([2.0]))


# --------------------------------------------------------------------------- three prongs


def test_toy_jet_is_what_it_claims() -> None:
    p4, _ = _toy_particles()
    phi = kin.phi(p4["px"], p4["py"])
    assert (phi < 0).sum() == 7  # prongs B and C wrapped around
    jet_eta = kin.eta(p4["px"].sum(), p4["py"].sum(), p4["pz"].sum())
    jet_phi = kin.phi(p4["px"].sum(), p4["py"].sum())
    assert jet_eta == pytest.approx(0.3, abs=0.05)
    assert abs(kin.delta_phi(jet_phi, 3.1)) < 0.1


@pytest.mark.parametrize("algorithm", SUBJET_ALGORITHMS)
def test_three_prongs_found_exactly(algorithm: str) -> None:
    p4, prong = _toy_particles()
    result = _run(algorithm, _jets(p4))

    assert ak.num(result.p4).tolist() == [3]
    rows = _as_rows(result.p4[0])
    for got, want in zip(rows, _expected_prong_sums(p4, prong), strict=True):
        assert got == pytest.approx(want, rel=1e-12, abs=1e-9)
    assert result.index.tolist() == [prong.tolist()]
    assert str(result.index.type) == "1 * var * int32"
    assert set(ak.fields(result.p4)) == {"px", "py", "pz", "E"}


@pytest.mark.parametrize("algorithm", ["ca", "antikt"])
def test_recluster_pt_min_drops_soft_subjet(algorithm: str) -> None:
    p4, prong = _toy_particles()
    soft = _far_soft_particle()
    jet = {f: np.append(p4[f], soft[f]) for f in p4}
    constituents = _jets(jet)

    everything = recluster_subjets(constituents, algorithm, r_sub=0.3)
    assert ak.num(everything.p4).tolist() == [4]
    assert everything.index.tolist() == [[*prong.tolist(), 3]]
    assert float(everything.p4[0, 3].E) == pytest.approx(float(soft["E"][0]), rel=1e-12)

    hard = recluster_subjets(constituents, algorithm, r_sub=0.3, pt_min=5.0)
    assert ak.num(hard.p4).tolist() == [3]
    assert hard.index.tolist() == [[*prong.tolist(), -1]]


def test_hdbscan_isolated_soft_particle_is_noise() -> None:
    p4, prong = _toy_particles()
    soft = _far_soft_particle()
    jet = {f: np.append(p4[f], soft[f]) for f in p4}
    result = subjets(_jets(jet), "hdbscan")
    assert result.index.tolist() == [[*prong.tolist(), -1]]
    for got, want in zip(_as_rows(result.p4[0]), _expected_prong_sums(p4, prong), strict=True):
        assert got == pytest.approx(want, rel=1e-12, abs=1e-9)


def test_hdbscan_small_jet_is_one_subjet() -> None:
    p4, _ = _toy_particles()
    two = {f: p4[f][:2] for f in p4}  # fewer than min_cluster_size = 3
    result = hdbscan_subjets(_jets(two), np.array([0.3]), np.array([3.1]))
    assert result.index.tolist() == [[0, 0]]
    assert _as_rows(result.p4[0]) == [pytest.approx([float(two[f].sum()) for f in two])]


def test_hdbscan_does_not_depend_on_the_axis() -> None:
    # An axis opposite prong B (phi 3.30 - pi) puts the +-pi seam of the relative phi right
    # through prong B, which the pairwise distances must wrap to keep B together.
    p4, prong = _toy_particles()
    constituents = _jets(p4)
    near = hdbscan_subjets(constituents, np.array([0.3]), np.array([3.1]))
    far = hdbscan_subjets(constituents, np.array([-1.0]), np.array([3.30 - np.pi]))
    assert near.index.tolist() == far.index.tolist() == [prong.tolist()]
    assert far.p4.tolist() == near.p4.tolist()


def test_hdbscan_reachability_known_values() -> None:
    # Four particles on a line in eta, pT 50/30/15/5 GeV (jet pT 100), fraction 0.5 -> the
    # core radius must enclose 50 GeV: 0 (itself), 0.1, 0.3 and 0.5.
    d_eta = np.array([0.0, 0.1, 0.3, 0.6])
    pt = np.array([50.0, 30.0, 15.0, 5.0])
    reach = _reachability(d_eta, np.zeros(4), pt, 0.5)
    want = [
        [0.0, 0.1, 0.3, 0.6],
        [0.1, 0.0, 0.3, 0.5],
        [0.3, 0.3, 0.0, 0.5],
        [0.6, 0.5, 0.5, 0.0],
    ]
    assert reach.tolist() == [pytest.approx(row, abs=1e-12) for row in want]


def test_hdbscan_pairs_resolved_with_min_samples_one() -> None:
    # Two prongs of two particles (100 and 80 GeV), 0.5 apart: with the core distances from the pT
    # weighting alone (all zero here), min_cluster_size = 2 resolves both pairs.
    eta = np.array([0.30, 0.32, 0.80, 0.81])
    phi = np.array([3.10, 3.12, 3.10, 3.11])
    p4 = _massless(eta, kin.delta_phi(phi, 0.0), np.array([50.0, 50.0, 40.0, 40.0]))
    result = hdbscan_subjets(_jets(p4), np.array([0.55]), np.array([3.1]), min_cluster_size=2)
    assert result.index.tolist() == [[0, 0, 1, 1]]


def test_hdbscan_axis_default_matches_explicit_axis() -> None:
    p4, _ = _toy_particles()
    constituents = _jets(p4)
    jet_eta = kin.eta(p4["px"].sum(), p4["py"].sum(), p4["pz"].sum())
    jet_phi = kin.phi(p4["px"].sum(), p4["py"].sum())
    explicit = hdbscan_subjets(constituents, np.array([jet_eta]), np.array([jet_phi]))
    default = subjets(constituents, "hdbscan")
    assert default.index.tolist() == explicit.index.tolist()
    assert default.p4.tolist() == explicit.p4.tolist()


# --------------------------------------------------------------------------- batches


def _random_jet(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """A jet of n particles: a few Gaussian blobs around (0.5, 3.0) with falling pT."""
    centres = rng.normal(0.0, 0.3, size=(3, 2))
    blob = rng.integers(0, 3, size=n)
    eta = 0.5 + centres[blob, 0] + rng.normal(0.0, 0.05, size=n)
    phi = kin.delta_phi(3.0 + centres[blob, 1] + rng.normal(0.0, 0.05, size=n), 0.0)
    pt = np.sort(rng.exponential(10.0, size=n))[::-1] + 0.5
    return _massless(eta, phi, pt)


@pytest.mark.parametrize("algorithm", SUBJET_ALGORITHMS)
def test_batch_equals_jet_by_jet(algorithm: str) -> None:
    rng = np.random.default_rng(20240611)
    p4, _ = _toy_particles()
    empty = {f: np.zeros(0) for f in p4}
    jets = [
        _random_jet(rng, 40),
        p4,
        empty,
        {f: p4[f][:2] for f in p4},
        _random_jet(rng, 80),
        _random_jet(rng, 1),
    ]
    batch = _run(algorithm, _jets(*jets, with_name="Momentum4D"))
    assert len(batch.p4) == len(batch.index) == len(jets)
    assert ak.num(batch.index).tolist() == [len(jet["px"]) for jet in jets]
    for i, jet in enumerate(jets):
        single = _run(algorithm, _jets(jet))
        assert batch.index[i].tolist() == single.index[0].tolist()
        assert _as_rows(batch.p4[i]) == [pytest.approx(row) for row in _as_rows(single.p4[0])]
    # sorted by pT descending, and every subjet is the sum of its members
    for i, jet in enumerate(jets):
        pts = kin.pt(ak.to_numpy(batch.p4[i].px), ak.to_numpy(batch.p4[i].py))
        assert np.all(np.diff(pts) <= 0)
        index = ak.to_numpy(batch.index[i])
        for k, row in enumerate(_as_rows(batch.p4[i])):
            members = [float(jet[f][index == k].sum()) for f in ("px", "py", "pz", "E")]
            assert row == pytest.approx(members, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("algorithm", SUBJET_ALGORITHMS)
def test_sliced_input_is_handled(algorithm: str) -> None:
    rng = np.random.default_rng(7)
    constituents = _jets(_random_jet(rng, 30), _random_jet(rng, 20), _random_jet(rng, 25))
    reordered = _run(algorithm, constituents[[2, 0]])  # a non-contiguous ListArray
    direct = _run(algorithm, _jets(*(_jet_dict(constituents[i]) for i in (2, 0))))
    assert reordered.index.tolist() == direct.index.tolist()
    assert reordered.p4.tolist() == direct.p4.tolist()


def _jet_dict(jet: ak.Array) -> dict[str, np.ndarray]:
    return {f: ak.to_numpy(jet[f]) for f in ("px", "py", "pz", "E")}


# --------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize("algorithm", SUBJET_ALGORITHMS)
def test_empty_jet(algorithm: str) -> None:
    result = _run(algorithm, _jets({f: np.zeros(0) for f in ("px", "py", "pz", "E")}))
    assert result.p4.tolist() == [[]]
    assert result.index.tolist() == [[]]
    assert str(result.index.type) == "1 * var * int32"


@pytest.mark.parametrize("algorithm", SUBJET_ALGORITHMS)
def test_no_jets(algorithm: str) -> None:
    result = _run(algorithm, _jets())
    assert len(result.p4) == 0
    assert len(result.index) == 0
    assert str(result.index.type) == "0 * var * int32"
    assert str(result.p4.type) == "0 * var * {px: float64, py: float64, pz: float64, E: float64}"


@pytest.mark.parametrize("algorithm", SUBJET_ALGORITHMS)
@pytest.mark.parametrize("field", ["px", "E"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_momentum_raises(algorithm: str, field: str, bad: float) -> None:
    p4, _ = _toy_particles()
    p4[field][4] = bad
    with pytest.raises(ValueError, match=f"field '{field}'.*non-finite"):
        _run(algorithm, _jets(p4))


def test_missing_field_raises() -> None:
    constituents = ak.Array([[{"px": 1.0, "py": 0.0, "pz": 0.0}]])
    with pytest.raises(ValueError, match=r"lack the field\(s\) \['E'\]"):
        subjets(constituents, "ca")


def test_unknown_algorithm_raises() -> None:
    p4, _ = _toy_particles()
    with pytest.raises(
        ValueError, match=r"unknown subjet algorithm 'kt'.*'ca', 'antikt', 'hdbscan'"
    ):
        subjets(_jets(p4), "kt")
    with pytest.raises(ValueError, match="unknown algorithm 'hdbscan'"):
        recluster_subjets(_jets(p4), "hdbscan")


@pytest.mark.parametrize("algorithm", SUBJET_ALGORITHMS)
def test_dispatcher_routes_options(algorithm: str) -> None:
    p4, prong = _toy_particles()
    soft = _far_soft_particle()
    constituents = _jets({f: np.append(p4[f], soft[f]) for f in p4})
    # one call site passes every setting; each algorithm takes its own
    result = subjets(
        constituents, algorithm, r_sub=0.3, pt_min=5.0, min_cluster_size=3, min_pt_fraction=0.05
    )
    assert result.index.tolist() == [[*prong.tolist(), -1]]
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['ptmin'\]"):
        subjets(constituents, algorithm, ptmin=5.0)


def test_bad_parameters_raise() -> None:
    constituents = _jets(_toy_particles()[0])
    with pytest.raises(ValueError, match="r_sub"):
        recluster_subjets(constituents, "ca", r_sub=0.0)
    with pytest.raises(ValueError, match="pt_min"):
        recluster_subjets(constituents, "ca", pt_min=-1.0)
    with pytest.raises(ValueError, match="min_cluster_size"):
        hdbscan_subjets(constituents, np.array([0.3]), np.array([3.1]), min_cluster_size=1)
    with pytest.raises(ValueError, match="min_pt_fraction"):
        hdbscan_subjets(constituents, np.array([0.3]), np.array([3.1]), min_pt_fraction=1.5)
    with pytest.raises(ValueError, match=r"jet_eta must have shape \(1,\)"):
        hdbscan_subjets(constituents, np.array([0.3, 0.1]), np.array([3.1]))
