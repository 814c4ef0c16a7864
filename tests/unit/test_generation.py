import awkward as ak
import numpy as np
import pyarrow.parquet as pq
import pytest

from phenoflow.generation.pythia import PythiaSettingError, generate_shard
from phenoflow.io.parquet import read_events, read_metadata
from tests.conftest import small_spec


def test_shard_contents(ttbar_shard):
    path, _meta = ttbar_shard
    events = read_events(path)
    assert len(events) == 30
    # row groups of the chunk size: 7, 7, 7, 7, 2
    pf = pq.ParquetFile(path)
    assert [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)] == [7, 7, 7, 7, 2]
    assert events.event_id.tolist() == list(range(30))
    assert ak.all(events.weight == 1.0)
    assert ak.all(ak.num(events.particles) > 50)


def test_metadata(ttbar_shard):
    path, meta = ttbar_shard
    stored = read_metadata(path)
    assert stored == meta
    for key in (
        "process",
        "shard",
        "seed",
        "n_events",
        "sigma_pb",
        "sigma_err_pb",
        "generator",
        "generator_version",
        "settings",
        "config_hash",
        "phenoflow_version",
    ):
        assert key in stored
    assert stored["process"] == "ttbar_had"
    assert stored["n_events"] == 30
    assert stored["generator_version"] == "8.317.2"
    assert "Top:gg2ttbar = on" in stored["settings"]
    # pp -> tt at 14 TeV with pTHat 500-700 GeV is O(1 pb)
    assert 0.1 < stored["sigma_pb"] < 10
    assert 0 < stored["sigma_err_pb"] < stored["sigma_pb"]


def test_charge_conservation_pp(ttbar_shard):
    # pp has charge +2; neutrinos are neutral, so visible charge sums to +2 exactly
    events = read_events(ttbar_shard[0])
    assert ak.all(ak.sum(events.particles.charge, axis=1) == 2)
    # no neutrinos among the visible particles, and only final-state species
    pid = np.abs(ak.to_numpy(ak.flatten(events.particles.pid)))
    assert not np.isin(pid, [12, 14, 16]).any()
    assert not np.isin(pid, [1, 2, 3, 4, 5, 6, 21, 23, 24, 25]).any()


def test_ttbar_partons(ttbar_shard):
    events = read_events(ttbar_shard[0])
    pid = events.partons.pid
    for p in (6, -6, 24, -24):
        assert ak.all(ak.sum(pid == p, axis=1) == 1)
    # t -> W q (q = b up to CKM-suppressed d, s), both W -> q q': six quarks per event
    assert ak.sum(abs(pid) == 5) >= 1.5 * len(pid)
    quarks = (abs(pid) >= 1) & (abs(pid) <= 5)
    assert ak.all(ak.sum(quarks, axis=1) == 6)
    # the top four-momentum is the sum of its decay products (W -> q q', b)
    top = events.partons[pid == 6]
    m_top = np.sqrt(ak.to_numpy(ak.flatten(top.E**2 - top.px**2 - top.py**2 - top.pz**2)))
    # Breit-Wigner around 172.5 GeV, cut off at +-50 GeV by Pythia
    assert 171.5 < np.median(m_top) < 173.5
    assert np.all((m_top > 122) & (m_top < 223))


def test_zmumu_four_momentum_conservation(zmumu_shard):
    events = read_events(zmumu_shard[0])
    p = events.particles
    # e+e- at the Z pole with no beam ISR: the visible final state carries all of it
    assert np.allclose(ak.to_numpy(ak.sum(p.E, axis=1)), 91.1876, atol=1e-6)
    for c in ("px", "py", "pz"):
        assert np.allclose(ak.to_numpy(ak.sum(p[c], axis=1)), 0.0, atol=1e-6)
    assert ak.all(ak.sum(p.charge, axis=1) == 0)
    assert ak.all(ak.sum(p.pid == 13, axis=1) == 1)
    assert ak.all(ak.sum(p.pid == -13, axis=1) == 1)
    assert ak.all(ak.sum(events.partons.pid == 23, axis=1) == 1)
    sigma = read_metadata(zmumu_shard[0])["sigma_pb"]
    # Born peak: 12 pi / mZ^2 * BR(ee) BR(mumu) ~ 2.0 nb
    assert 1800 < sigma < 2200


def test_byte_identical_and_seeded(tmp_path):
    a, b, c = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"
    generate_shard(small_spec("zmumu_ee", 50), a)
    generate_shard(small_spec("zmumu_ee", 50), b)
    generate_shard(small_spec("zmumu_ee", 50, shard=1), c)
    assert a.read_bytes() == b.read_bytes()
    ea, ec = read_events(a), read_events(c)
    assert not ak.all(ea.particles.px[:, 0] == ec.particles.px[:, 0])
    assert read_metadata(c)["seed"] != read_metadata(a)["seed"]


def test_invalid_setting_leaves_nothing(tmp_path):
    spec = small_spec("zmumu_ee", 10)
    spec = type(spec)(**{**spec.__dict__, "settings": (*spec.settings, "Foo:bar = 3")})
    out = tmp_path / "bad.parquet"
    with pytest.raises(
        PythiaSettingError, match=r"'Foo:bar = 3'.*processes\.zmumu_ee\.settings\[7\]"
    ):
        generate_shard(spec, out)
    assert list(tmp_path.iterdir()) == []


def test_progress_callback(tmp_path):
    seen = []
    generate_shard(
        small_spec("zmumu_ee", 25, chunk_size=10),
        tmp_path / "p.parquet",
        progress=lambda done, total, rate: seen.append((done, total)),
    )
    assert seen == [(10, 25), (20, 25), (25, 25)]


# three times the electric charge of partons by |pid|
CHARGE3 = {1: -1, 2: 2, 3: -1, 4: 2, 5: -1, 6: 2, 11: -3, 13: -3, 15: -3, 23: 0, 24: 3, 25: 0}


def _charge3(pid):
    return CHARGE3[abs(pid)] * (1 if pid > 0 else -1)


def test_parton_mothers_ttbar(ttbar_shard):
    # t -> W q and W -> q q': two daughters each, charge conserved at every vertex
    events = read_events(ttbar_shard[0])
    for ev in events.partons.to_list():
        tops = [i for i, p in enumerate(ev) if abs(p["pid"]) == 6]
        assert len(tops) == 2
        for i, parent in enumerate(ev):
            daughters = [d for d in ev if d["mother"] == i]
            if abs(parent["pid"]) in (6, 24):
                assert len(daughters) == 2
                assert sum(_charge3(d["pid"]) for d in daughters) == _charge3(parent["pid"])
            else:
                assert daughters == []
        for t in tops:
            pids = sorted(abs(d["pid"]) for d in ev if d["mother"] == t)
            assert pids[1] == 24
            assert pids[0] in (1, 3, 5)


def test_parton_mothers_zmumu(zmumu_shard):
    # Z -> mu mu at the pole (no recoil): the daughters carry the Z four-momentum exactly
    events = read_events(zmumu_shard[0])
    assert ak.all(events.partons.mother == [[-1, 0, 0]] * len(events))
    z, mu = events.partons[:, 0], events.partons[:, 1:]
    for c in ("px", "py", "pz", "E"):
        assert np.allclose(ak.to_numpy(ak.sum(mu[c], axis=1)), ak.to_numpy(z[c]), atol=1e-9)
    assert np.allclose(ak.to_numpy(z.E), 91.1876)


def test_make_pythia_reads_in_order_and_names_bad_lines():
    from phenoflow.generation.pythia import make_pythia

    pythia = make_pythia(("PDF:pSet = 8",), seed=17, init=False)
    assert pythia.flag("Print:quiet")
    assert pythia.word("PDF:pSet") == "8"
    assert pythia.mode("Random:seed") == 17
    with pytest.raises(PythiaSettingError, match=r"'Foo:bar = 1' \(from here\)"):
        make_pythia(("Foo:bar = 1",), init=False, where=lambda i: " (from here)")


@pytest.mark.slow
def test_hh4b_partons_are_two_higgs_to_four_b(tmp_path):
    """gg -> H (1 TeV) -> h h -> b bbar b bbar: the hard record holds H, two h of 125 GeV
    whose mother is H, and four b quarks, a b bbar pair from each h."""
    path = tmp_path / "hh.parquet"
    meta = generate_shard(small_spec("hh4b_m1000", 20, chunk_size=10), path)
    assert meta["sigma_pb"] > 0
    partons = read_events(path).partons
    assert ak.all(ak.sum(partons.pid == 35, axis=1) == 1)
    higgs = partons[partons.pid == 25]
    assert ak.all(ak.num(higgs) == 2)
    assert ak.all(partons.pid[higgs.mother] == 35)
    m_h = np.sqrt(ak.to_numpy(ak.flatten(higgs.E**2 - higgs.px**2 - higgs.py**2 - higgs.pz**2)))
    np.testing.assert_allclose(m_h, 125.0, atol=0.1)  # h is narrow (4 MeV)
    quarks = partons[abs(partons.pid) == 5]
    assert ak.all(ak.num(quarks) == 4)
    assert ak.all(ak.sum(quarks.pid, axis=1) == 0)
    mothers = quarks.mother
    assert ak.all(partons.pid[mothers] == 25)
    # two quarks per h, b and bbar: sum of pids per mother is zero
    first_h = ak.min(mothers, axis=1)
    from_first = mothers == first_h
    assert ak.all(ak.sum(from_first, axis=1) == 2)
    assert ak.all(ak.sum(quarks.pid[from_first], axis=1) == 0)
