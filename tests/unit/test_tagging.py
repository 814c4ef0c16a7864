"""Tagging glue: subjet features, model keys, metrics rows."""

import numpy as np
import pytest

from phenoflow.analyses.tagging import parse_key, score_metrics
from phenoflow.ml.data import subjet_features


def test_subjet_features_by_hand():
    # jet: pT 500 GeV at eta 0.5, phi 3.0; one subjet of pT 100 GeV at eta 0.7, phi -3.0 (wraps)
    pt, eta, phi, m = 100.0, 0.7, -3.0, 10.0
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + m**2)
    jet = np.array([[0, 0, 0, 800.0, 500.0, 0.5, 3.0, 150.0]])
    sub = np.zeros((1, 2, 4), dtype=np.float32)
    sub[0, 0] = (px, py, pz, e)
    mask = np.array([[True, False]])
    f = subjet_features(sub, mask, jet)
    assert f.shape == (1, 2, 6)
    expected = [
        0.2,
        -6.0 + 2 * np.pi,
        np.log(100.0),
        np.log(e),
        np.log(100.0 / 500.0),
        np.log(e / 800.0),
    ]
    np.testing.assert_allclose(f[0, 0], expected, rtol=1e-5, atol=1e-5)
    assert np.all(f[0, 1] == 0)


def test_parse_key():
    assert parse_key("mixer_hdbscan") == ("mixer", "hdbscan")
    assert parse_key("part") == ("part", None)
    with pytest.raises(ValueError, match="unknown tagger 'lstm'"):
        parse_key("lstm")


def test_score_metrics_perfect_and_random():
    labels = np.array([0, 0, 0, 1, 1, 1])
    perfect = score_metrics(labels, np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]))
    assert perfect["auc"] == 1.0
    assert perfect["accuracy"] == 1.0
    assert perfect["r50"] == np.inf
    rng = np.random.default_rng(0)
    lab = rng.integers(0, 2, 20000)
    rand = score_metrics(lab, rng.uniform(size=lab.size))
    assert rand["auc"] == pytest.approx(0.5, abs=0.02)
    assert rand["r50"] == pytest.approx(2.0, rel=0.1)  # 1/eps_B = 1/0.5 for random scores
