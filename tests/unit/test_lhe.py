"""Les Houches events gg -> S -> b bbar: kinematics, colour flows, seeds, shape, Pythia shower."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from phenoflow.analyses.events.spec import GenerateSpec, WriteLHESpec
from phenoflow.config import ConfigError, validate_config
from phenoflow.generation.lhe import (
    B_MASS,
    SCALAR_IDS,
    ScalarResonance,
    lhe_events_needed,
    read_lhe,
    sample_events,
    write_lhe,
)
from phenoflow.spec import SpecError

KIN = {"mass": 125.0, "width": 1.0, "m_window": (100.0, 150.0), "ecm": 14000.0}
N = 300


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """The singlet and octet files of one seed (N events each, sigma 2.5 pb)."""
    out = tmp_path_factory.mktemp("lhe")
    paths = {c: out / f"{c}.lhe" for c in SCALAR_IDS}
    for colour, path in paths.items():
        write_lhe(path, N, 11, colour=colour, sigma_pb=2.5, **KIN)
    return paths


def test_kinematics(files):
    """Momentum conservation, b on shell at Pythia's m_b, S in its window, x in (0, 1)."""
    import pythia8mc

    assert pythia8mc.Pythia("", False).particleData.m0(5) == B_MASS
    ev = read_lhe(files["singlet"])
    assert ev.pid.shape == (N, 5)
    assert ev.sigma_pb == 2.5
    p = ev.p[..., :4]
    incoming, s, outgoing = p[:, 0] + p[:, 1], p[:, 2], p[:, 3] + p[:, 4]
    scale = incoming[:, 3:]
    np.testing.assert_allclose((outgoing - incoming) / scale, 0.0, atol=1e-9)
    np.testing.assert_allclose((s - incoming) / scale, 0.0, atol=1e-9)

    def mass(q: np.ndarray) -> np.ndarray:
        return np.sqrt(np.maximum(q[..., 3] ** 2 - np.sum(q[..., :3] ** 2, axis=-1), 0.0))

    np.testing.assert_allclose(mass(p[:, 3:]), B_MASS, rtol=1e-6)
    np.testing.assert_allclose(ev.p[:, 3:, 4], B_MASS)
    m_s = mass(incoming)
    np.testing.assert_allclose(m_s, ev.p[:, 2, 4], rtol=1e-9)
    np.testing.assert_allclose(ev.scale, m_s, rtol=1e-9)
    assert np.all((m_s > 100.0) & (m_s < 150.0))
    assert np.all(p[:, :2, :2] == 0.0)  # incoming along the beams
    x1, x2 = p[:, 0, 3] / 7000.0, p[:, 1, 3] / 7000.0
    assert np.all((p[:, 0, 2] > 0) & (p[:, 1, 2] < 0))
    assert np.all((x1 > 0) & (x1 < 1) & (x2 > 0) & (x2 < 1))
    np.testing.assert_allclose(x1 * x2 * 14000.0**2, m_s**2, rtol=1e-9)
    assert np.all(ev.status == [-1, -1, 2, 1, 1])
    assert np.all(ev.mothers == [[0, 0], [0, 0], [1, 2], [3, 3], [3, 3]])


@pytest.mark.parametrize("colour", sorted(SCALAR_IDS))
def test_colour_flow(files, colour):
    """Each colour line joins exactly two of the incoming and final partons; S carries its line."""
    ev = read_lhe(files[colour])
    external = ev.colours[:, [0, 1, 3, 4]]  # g1, g2, b, bbar
    tags = np.sort(external.reshape(N, -1), axis=1)
    tags = tags[tags > 0].reshape(N, -1)
    assert np.all(tags[:, ::2] == tags[:, 1::2])  # every tag exactly twice
    assert np.all(np.diff(tags[:, ::2], axis=1) > 0)
    assert np.all(ev.pid[:, 2] == SCALAR_IDS[colour])
    c = ev.colours[0]
    # incoming anticolour meets incoming colour where the gluons annihilate their line
    if colour == "singlet":
        assert c[2].tolist() == [0, 0]
        assert (c[0, 0], c[0, 1]) == (c[1, 1], c[1, 0])
        assert c[3, 0] == c[4, 1] > 0
    else:
        assert c[0, 1] == c[1, 0]
        assert c[2].tolist() == [c[0, 0], c[1, 1]]  # g1's colour, g2's anticolour
        assert (c[3, 0], c[4, 1]) == (c[2, 0], c[2, 1])
    assert np.all(ev.colours == c)


def test_same_momenta_in_singlet_and_octet(files, tmp_path):
    s1, s8 = read_lhe(files["singlet"]), read_lhe(files["octet"])
    assert np.array_equal(s1.p, s8.p)
    assert not np.array_equal(s1.colours, s8.colours)
    again = tmp_path / "again.lhe"
    write_lhe(again, N, 11, colour="singlet", sigma_pb=2.5, **KIN)
    assert again.read_bytes() == files["singlet"].read_bytes()
    other = tmp_path / "other.lhe"
    write_lhe(other, N, 12, colour="singlet", sigma_pb=2.5, **KIN)
    assert not np.array_equal(read_lhe(other).p, s1.p)
    assert not list(tmp_path.glob("*.tmp"))


def test_rapidity_follows_the_gluon_luminosity():
    """Histogram of y against x1 g(x1) x2 g(x2) from Pythia's own PDF, integrated per bin."""
    import pythia8mc

    s = ScalarResonance("singlet", 125.0, 1e-3, (124.99, 125.01))
    n = 40_000
    y = sample_events(n, 5, s).y
    pdf = pythia8mc.Pythia("", False).getPDFPtr(2212)
    edges = np.linspace(-4.0, 4.0, 21)
    fine = np.linspace(-np.log(14000.0 / 125.0), np.log(14000.0 / 125.0), 4001)
    tau = 125.0 / 14000.0
    lum = np.array(
        [
            pdf.xf(21, tau * np.exp(v), 125.0**2) * pdf.xf(21, tau * np.exp(-v), 125.0**2)
            for v in fine
        ]
    )
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (lum[1:] + lum[:-1]) * np.diff(fine))])
    expected = n * np.diff(np.interp(edges, fine, cdf / cdf[-1]))
    observed = np.histogram(y, edges)[0]
    chi2 = np.sum((observed - expected) ** 2 / expected)
    assert stats.chi2.sf(chi2, len(expected)) > 1e-3, (chi2, observed, expected.round())
    # the flat proposal alone is far off: the test can tell
    flat = n * np.diff(edges) / (2 * fine[-1])
    assert np.sum((observed - flat) ** 2 / flat) > 10 * len(flat)


def test_mass_window_and_bad_input(tmp_path):
    s = ScalarResonance("octet", 125.0, 1.0, (120.0, 130.0))
    m = sample_events(2000, 1, s).mass
    assert m.min() > 120.0
    assert m.max() < 130.0
    assert np.mean(np.abs(m - 125.0) < 0.5) > 0.4  # the Breit-Wigner core
    with pytest.raises(ValueError, match="colour must be one of"):
        ScalarResonance("triplet", 125.0, 1.0, (100.0, 150.0))
    with pytest.raises(ValueError, match="m_window"):
        ScalarResonance("singlet", 125.0, 1.0, (130.0, 150.0))
    with pytest.raises(ValueError, match="sigma_pb"):
        write_lhe(tmp_path / "x.lhe", 5, 1, colour="singlet", sigma_pb=0.0, **KIN)
    assert not list(tmp_path.iterdir())
    assert lhe_events_needed(1500) == 1530
    assert lhe_events_needed(60) == 70


def test_write_lhe_spec_shares_momenta_between_the_pair(default_config):
    a = WriteLHESpec.from_config(default_config, "s1_bb", 1)
    b = WriteLHESpec.from_config(default_config, "s8_bb", "1")
    assert a.seed == b.seed
    assert dataclasses.replace(b, colour="singlet", process="s1_bb") == a
    assert WriteLHESpec.from_config(default_config, "s1_bb", 0).seed != a.seed
    assert a.n_events == lhe_events_needed(default_config["processes"]["s1_bb"]["events_per_shard"])
    with pytest.raises(SpecError, match="no 'lhe' entry"):
        WriteLHESpec.from_config(default_config, "h_bb", 0)
    gen = GenerateSpec.from_config(default_config, "s8_bb", 0)
    with pytest.raises(SpecError, match="give lhe_file"):
        gen.shard_spec()
    settings = gen.shard_spec("f.lhe").settings
    assert settings[0].startswith("9000021:new = S8 void 1 0 2 125.0 1.0 100.0 150.0")
    assert settings[1:] == ("Beams:frameType = 4", "Beams:LHEF = f.lhe")
    with pytest.raises(SpecError, match="built-in"):
        GenerateSpec.from_config(default_config, "h_bb", 0).shard_spec("f.lhe")


def test_config_checks_of_lhe_processes(default_config):
    def problems(**change) -> str:
        cfg = {**default_config, "processes": dict(default_config["processes"])}
        cfg["processes"]["s8_bb"] = {
            **cfg["processes"]["s8_bb"],
            "lhe": {**cfg["processes"]["s8_bb"]["lhe"], **change},
        }
        with pytest.raises(ConfigError) as err:
            validate_config(cfg)
        return str(err.value)

    assert "singlet or octet" in problems(colour="triplet")
    assert "must contain the mass" in problems(m_window=[130.0, 150.0])
    assert "differs in width" in problems(width=2.0)
    assert "unknown config key 'processes.s8_bb.lhe.spin'" in problems(spin=0)
    cfg = {**default_config, "processes": dict(default_config["processes"])}
    cfg["processes"]["s1_bb"] = {**cfg["processes"]["s1_bb"], "settings": ["Beams:LHEF = x"]}
    cfg["processes"]["h_bb"] = {**cfg["processes"]["h_bb"], "settings": []}
    with pytest.raises(ConfigError, match=r"(?s)h_bb\.settings.*empty.*set by phenoflow"):
        validate_config(cfg)


@pytest.mark.slow
def test_pythia_showers_both_files(default_config, tmp_path):
    """50 events of each file through generate_shard: exactly 50 out, S, b and bbar in partons."""
    from phenoflow.generation.pythia import generate_shard
    from phenoflow.io.parquet import read_events

    for process, pid in (("s1_bb", 9000025), ("s8_bb", 9000021)):
        cfg = {**default_config, "processes": dict(default_config["processes"])}
        cfg["processes"][process] = {**cfg["processes"][process], "events_per_shard": 50}
        lhe = tmp_path / f"{process}.lhe"
        assert WriteLHESpec.from_config(cfg, process, 0).write(str(lhe)) == 60
        spec = GenerateSpec.from_config(cfg, process, 0).shard_spec(str(lhe))
        meta = generate_shard(dataclasses.replace(spec, chunk_size=20), tmp_path / f"{process}.pq")
        events = read_events(tmp_path / f"{process}.pq")
        assert meta["n_events"] == len(events) == 50
        assert meta["sigma_pb"] == pytest.approx(cfg["processes"][process]["lhe"]["sigma_pb"])
        pids = events.partons.pid
        for want in (pid, 5, -5):
            assert np.all(np.any(pids == want, axis=1)), (process, want)
        assert np.all(events.weight == 1.0)
