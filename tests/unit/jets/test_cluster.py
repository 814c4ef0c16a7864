"""Fat jets and truth labels on hand-built events with known answers."""

import awkward as ak
import numpy as np
import pytest

from phenoflow.jets.cluster import (
    FatJetConfig,
    JetInputError,
    check_particles,
    cluster_fat_jets,
    label_jets,
)

WIDE = FatJetConfig(r=0.8, pt_min=10.0, pt_max=10_000.0, eta_max=5.0)


def massless(pt, eta, phi, pid=211, charge=1):
    pt, eta, phi = map(np.asarray, (pt, eta, phi))
    return {
        "px": pt * np.cos(phi),
        "py": pt * np.sin(phi),
        "pz": pt * np.sinh(eta),
        "E": pt * np.cosh(eta),
        "pid": np.full(pt.shape, pid, dtype=np.int32),
        "charge": np.full(pt.shape, charge, dtype=np.int32),
    }


def event(*groups):
    """One event (a list of particle records) from dicts of arrays."""
    out = []
    for g in groups:
        for i in range(len(g["px"])):
            out.append(
                {
                    k: (float(v[i]) if k in ("px", "py", "pz", "E") else int(v[i]))
                    for k, v in g.items()
                }
            )
    return out


def particles(*events):
    return ak.Array({"particles": list(events)})["particles"]


def test_two_clusters_give_two_jets_with_exact_sums():
    a = massless([100.0, 50.0, 20.0], [0.5, 0.6, 0.4], [1.0, 1.1, 0.9])
    b = massless([80.0, 30.0], [-1.0, -1.2], [-2.0, -2.1])
    jets, const = cluster_fat_jets(particles(event(a, b)), WIDE)
    assert ak.num(jets).tolist() == [2]
    sums = sorted(
        [{k: float(np.sum(g[k])) for k in ("px", "py", "pz", "E")} for g in (a, b)],
        key=lambda s: -s["E"],
    )
    got = sorted(
        [{k: float(jets[0, i][k]) for k in ("px", "py", "pz", "E")} for i in range(2)],
        key=lambda s: -s["E"],
    )
    for s, g in zip(sums, got, strict=True):
        for k in s:
            assert g[k] == pytest.approx(s[k], rel=1e-12)
    # constituents are pT-ordered and carry pid/charge
    pts = np.hypot(
        ak.to_numpy(ak.flatten(const[0, 0].px, axis=None)),
        ak.to_numpy(ak.flatten(const[0, 0].py, axis=None)),
    )
    assert np.all(np.diff(pts) <= 0)
    assert set(ak.fields(const)) == {"px", "py", "pz", "E", "pid", "charge"}


def test_window_selection():
    a = massless([600.0], [0.1], [0.0])
    b = massless([300.0], [0.1], [3.0])
    c = massless([600.0], [2.5], [1.5])
    jets, _ = cluster_fat_jets(particles(event(a, b, c)), FatJetConfig())
    assert ak.num(jets).tolist() == [1]
    assert float(jets[0, 0].pt) == pytest.approx(600.0)


def _jet_momenta(evs, config=WIDE):
    jets, _ = cluster_fat_jets(particles(*evs), config)
    return sorted(
        (round(float(j.px), 9), round(float(j.py), 9), round(float(j.pz), 9), round(float(j.E), 9))
        for j in jets[0]
    )


def test_infrared_safety():
    rng = np.random.default_rng(1)
    base = massless(rng.uniform(5, 100, 40), rng.uniform(-2, 2, 40), rng.uniform(-np.pi, np.pi, 40))
    soft = massless([1e-12], [0.3], [0.2])
    soft["E"][:] = 0.0
    soft["px"][:] = soft["py"][:] = soft["pz"][:] = 0.0
    assert _jet_momenta([event(base)]) == _jet_momenta([event(base, soft)])


def test_collinear_safety():
    rng = np.random.default_rng(2)
    base = massless(rng.uniform(5, 100, 40), rng.uniform(-2, 2, 40), rng.uniform(-np.pi, np.pi, 40))
    split = {k: v.copy() for k, v in base.items()}
    hardest = int(np.argmax(np.hypot(base["px"], base["py"])))
    halves = {
        k: np.array([v[hardest] * 0.3, v[hardest] * 0.7])
        if k in ("px", "py", "pz", "E")
        else np.array([v[hardest]] * 2)
        for k, v in base.items()
    }
    rest = {k: np.delete(v, hardest) for k, v in split.items()}
    a, b = np.array(_jet_momenta([event(base)])), np.array(_jet_momenta([event(rest, halves)]))
    assert a.shape == b.shape
    assert np.allclose(a, b, rtol=1e-9, atol=1e-6)


def _top_event(b_eta):
    """A jet of hadronic-top decay products at eta 0; the b quark at b_eta."""
    quarks = massless([200.0, 150.0, 100.0], [b_eta, 0.2, -0.2], [0.0, 0.25, -0.25])
    parts = massless([200.0, 150.0, 100.0], [0.0, 0.2, -0.2], [0.0, 0.25, -0.25])
    if b_eta != 0.0:  # the b's particle follows the b
        parts["pz"][0] = 200.0 * np.sinh(b_eta)
        parts["E"][0] = 200.0 * np.cosh(b_eta)

    def rec(pid, px, py, pz, E, mother):
        return {"px": px, "py": py, "pz": pz, "E": E, "pid": pid, "mother": mother}

    q = quarks
    w = rec(
        24,
        q["px"][1] + q["px"][2],
        q["py"][1] + q["py"][2],
        q["pz"][1] + q["pz"][2],
        q["E"][1] + q["E"][2],
        0,
    )
    top = rec(6, q["px"].sum(), q["py"].sum(), q["pz"].sum(), q["E"].sum(), -1)
    partons = [
        top,
        w,
        rec(5, q["px"][0], q["py"][0], q["pz"][0], q["E"][0], 0),
        rec(2, q["px"][1], q["py"][1], q["pz"][1], q["E"][1], 1),
        rec(-1, q["px"][2], q["py"][2], q["pz"][2], q["E"][2], 1),
    ]
    partons = [
        {k: (float(v) if k in ("px", "py", "pz", "E") else int(v)) for k, v in p.items()}
        for p in partons
    ]
    return event(parts), partons


def test_top_label_and_drop():
    inside, p_in = _top_event(0.0)
    outside, p_out = _top_event(1.5)  # the b is far outside R = 0.8
    ev = ak.Array({"particles": [inside, outside], "partons": [p_in, p_out]})
    jets, _ = cluster_fat_jets(ev.particles, WIDE)
    labels = label_jets(jets, ev.partons, "top", 0.8)
    assert labels[0].tolist() == [1]
    assert -1 in labels[1].tolist()
    assert 1 not in labels[1].tolist()
    assert ak.all(label_jets(jets, ev.partons, "qcd", 0.8) == 0)


def test_bad_input():
    with pytest.raises(JetInputError, match="no 'particles' field"):
        check_particles(ak.Array([{"x": 1}]), "f.parquet")
    p = massless([10.0, 20.0], [0.0, 0.1], [0.0, 0.1])
    p["px"][1] = np.nan
    with pytest.raises(
        JetInputError, match=r"non-finite values in particles.px \(first in event 1\)"
    ):
        check_particles(
            ak.Array({"particles": [event(massless([5.0], [0.0], [0.0])), event(p)]}), "f.parquet"
        )
    with pytest.raises(ValueError, match="unknown jet label kind"):
        label_jets(ak.Array([[]]), ak.Array([[]]), "wprime", 0.8)


def test_empty_events():
    jets, _const = cluster_fat_jets(
        particles([], event(massless([600.0], [0.0], [0.0]))), FatJetConfig()
    )
    assert ak.num(jets).tolist() == [0, 1]


def test_higgs_label():
    b1, b2 = massless([300.0], [0.1], [0.2]), massless([250.0], [-0.1], [-0.2])
    parts = event(massless([300.0, 250.0], [0.1, -0.1], [0.2, -0.2]))

    def rec(pid, g, mother):
        return {
            "px": float(g["px"][0]),
            "py": float(g["py"][0]),
            "pz": float(g["pz"][0]),
            "E": float(g["E"][0]),
            "pid": pid,
            "mother": mother,
        }

    h = {k: b1[k] + b2[k] for k in ("px", "py", "pz", "E")}
    partons = [rec(25, h, -1), rec(5, b1, 0), rec(-5, b2, 0)]
    far = [rec(25, h, -1), rec(5, b1, 0), {**rec(-5, b2, 0), "pz": 2000.0, "E": 2015.6}]
    ev = ak.Array({"particles": [parts, parts], "partons": [partons, far]})
    jets, _ = cluster_fat_jets(ev.particles, WIDE)
    assert label_jets(jets, ev.partons, "higgs", 0.8).tolist() == [[2], [-1]]
