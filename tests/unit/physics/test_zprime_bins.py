"""The binned Z' calculator against the Drell-Yan quadrature it is built from."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from phenoflow.analyses.scan.run import zprime_objective
from phenoflow.physics.drell_yan import Cuts, DrellYan, ZPrime
from phenoflow.physics.zprime_bins import BinnedDrellYan

EDGES = np.geomspace(200.0, 3000.0, 9)


@pytest.fixture(scope="module")
def sm():
    return DrellYan(cuts=Cuts(m_min=200.0, m_max=3000.0))


@pytest.fixture(scope="module")
def binned(sm):
    return BinnedDrellYan(sm, EDGES)


def test_standard_model_bins_match_quadrature(sm, binned):
    back, fwd = binned.sigma(None)
    assert back == pytest.approx(sm.sigma_bins(EDGES, -1.0, 0.0), rel=1e-6)
    assert fwd == pytest.approx(sm.sigma_bins(EDGES, 0.0, 1.0), rel=1e-6)


@pytest.mark.parametrize("zp", [ZPrime(1500.0, 0.1, 0.1), ZPrime(900.0, 0.05, -0.2)])
def test_zprime_bins_match_quadrature(sm, binned, zp):
    full = DrellYan(params=dataclasses.replace(sm.params, zprime=zp), pdf=sm.pdf, cuts=sm.cuts)
    back, fwd = binned.sigma(zp)
    assert back == pytest.approx(full.sigma_bins(EDGES, -1.0, 0.0), rel=2e-3)
    assert fwd == pytest.approx(full.sigma_bins(EDGES, 0.0, 1.0), rel=2e-3)
    # the resonance shows up in its own bin only
    ratio = (back + fwd) / binned.sigma(None).sum(axis=0)
    assert np.argmax(ratio) == np.searchsorted(EDGES, zp.mass) - 1


def test_predict_rows_and_bad_shape(binned):
    theta = np.array([[1500.0, 0.1, 0.1], [2500.0, 0.0, 0.3]])
    pred = binned.predict(theta)
    assert pred.shape == (2, 2 * binned.n_bins)
    # a Z' that does not couple to quarks changes nothing
    assert pred[1] == pytest.approx(binned.sigma(None).ravel(), rel=1e-12)
    with pytest.raises(ValueError, match=r"theta must be \(n, 3\)"):
        binned.predict(np.ones((2, 2)))


def test_edges_outside_window_rejected(sm):
    with pytest.raises(ValueError, match="inside the cuts' window"):
        BinnedDrellYan(sm, [100.0, 500.0])


def test_zprime_objective_truth_has_zero_chi2():
    spec = {
        "truth": {"mass": 2000.0, "g_quark": 0.06, "g_lepton": 0.06},
        "bounds": {"mass": [500.0, 2900.0], "g_quark": [0.0, 0.3], "g_lepton": [0.0, 0.3]},
        "m_edges": {"min": 200.0, "max": 3000.0, "n_bins": 8},
        "luminosity_fb": 140.0,
        "systematic": 0.03,
        "cl": 0.95,
    }
    obj, truth = zprime_objective(spec)
    chi2 = obj(np.array([truth, [2000.0, 0.0, 0.0], [1000.0, 0.2, 0.2]]))
    assert chi2[0] == pytest.approx(0.0, abs=1e-9)
    assert obj.limit == pytest.approx(7.8147, rel=1e-4)  # 95% CL, three parameters
    # no Z', or a strong light one, is excluded by the excess
    assert np.all(chi2[1:] > obj.limit)
