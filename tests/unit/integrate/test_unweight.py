"""Unweighted events of lestrat: distribution (chi2 against the exact density), zoom mode,
signs, efficiency and reproducibility."""

import numpy as np
import pytest
from scipy import stats
from scipy.special import erf

from phenoflow.integrate import integrate
from phenoflow.integrate.integrands import sign_changing_sin

# 1D density: a Gaussian peak on a linear slope, exact bin contents by erf
MU, SIG, LO, HI = 0.3, 0.08, 0.0, 1.0


def peak_on_slope(x):
    u = x[:, 0]
    return np.exp(-0.5 * ((u - MU) / SIG) ** 2) / (SIG * np.sqrt(2 * np.pi)) + 0.5 * u


def peak_on_slope_cdf(u):
    return 0.5 * (1 + erf((u - MU) / (SIG * np.sqrt(2)))) + 0.25 * u**2


EDGES = np.linspace(LO, HI, 21)
EXACT_BINS = np.diff(peak_on_slope_cdf(EDGES))
TOTAL = peak_on_slope_cdf(HI) - peak_on_slope_cdf(LO)


def chi2_pvalue(counts, expected):
    chi2 = np.sum((counts - expected) ** 2 / expected)
    return stats.chi2.sf(chi2, len(counts) - 1)


@pytest.fixture(scope="module")
def model_1d():
    r = integrate(peak_on_slope, [(LO, HI)], 20_000, seed=0)
    assert abs(r.pull(TOTAL)) < 4
    return r.model


def test_events_follow_the_density(model_1d):
    ev = model_1d.generate(20_000, seed=1)
    assert ev.x.shape == (20_000, 1)
    # a positive integrand: unit weights, except rare overweights (|f/q| above the bound
    # seen during integration) which carry their excess
    assert np.all(ev.weights >= 1.0)
    assert np.mean(ev.weights > 1.0) == ev.overweight_fraction
    assert 0 < ev.efficiency <= 1
    assert ev.n_calls >= 20_000
    assert ev.overweight_fraction < 0.01
    counts, _ = np.histogram(ev.x[:, 0], EDGES)
    assert chi2_pvalue(counts, 20_000 * EXACT_BINS / TOTAL) > 1e-3
    assert ev.norm * ev.weights.sum() == pytest.approx(TOTAL, rel=1e-3)


def test_events_are_reproducible(model_1d):
    a = model_1d.generate(500, seed=5)
    b = model_1d.generate(500, seed=5)
    c = model_1d.generate(500, seed=6)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)


def test_zoom_oversamples_and_weighted_histogram_stays_right(model_1d):
    def zoom(x):
        return x[:, 0] > 0.6  # the slope, far from the peak: few events without zoom

    plain = model_1d.generate(20_000, seed=2)
    ev = model_1d.generate(20_000, seed=2, zoom=zoom, zoom_factor=5.0)
    inside = zoom(ev.x)
    assert inside.mean() > 2.5 * zoom(plain.x).mean()  # oversampled
    # weight 1/z inside, 1 outside (a rare overweight carries its excess on top)
    assert np.all(ev.weights[inside] >= 0.2 - 1e-12)
    assert np.all(ev.weights[~inside] >= 1.0 - 1e-12)
    assert np.mean(ev.weights[inside] == 0.2) > 0.99
    assert np.mean(ev.weights[~inside] == 1.0) > 0.99
    # the zoom costs no extra calls per event
    assert ev.efficiency > 0.5 * plain.efficiency
    # the weighted histogram, normalised with norm, is the integral of f per bin
    counts, _ = np.histogram(ev.x[:, 0], EDGES, weights=ev.weights * ev.norm)
    sumw2, _ = np.histogram(ev.x[:, 0], EDGES, weights=(ev.weights * ev.norm) ** 2)
    pulls = (counts - EXACT_BINS) / np.sqrt(sumw2)
    assert stats.chi2.sf(np.sum(pulls**2), len(pulls) - 1) > 1e-3
    # and inside the zoom region the relative error is smaller than without zoom
    rel_zoom = np.sqrt(sumw2[EDGES[:-1] >= 0.6]).sum() / counts[EDGES[:-1] >= 0.6].sum()
    c_plain, _ = np.histogram(plain.x[:, 0], EDGES, weights=plain.weights * plain.norm)
    s_plain, _ = np.histogram(plain.x[:, 0], EDGES, weights=(plain.weights * plain.norm) ** 2)
    rel_plain = np.sqrt(s_plain[EDGES[:-1] >= 0.6]).sum() / c_plain[EDGES[:-1] >= 0.6].sum()
    assert rel_zoom < 0.7 * rel_plain


def test_events_2d_sign_changing():
    s = sign_changing_sin(2)
    r = integrate(s.f, s.bounds, 30_000, seed=0)
    ev = r.model.generate(20_000, seed=3)
    assert set(np.unique(ev.weights)) <= {-1.0, 1.0} or ev.overweight_fraction > 0
    neg = ev.weights < 0
    assert neg.any()
    assert (~neg).any()
    # negative events exactly where sin(x1 + x2) < 0
    np.testing.assert_array_equal(neg, s.f(ev.x) < 0)
    # 2D histogram of |f| events against the exact |f| per bin (midpoint-refined grid)
    edges = np.linspace(0.0, 2.0, 6)
    counts, _, _ = np.histogram2d(ev.x[:, 0], ev.x[:, 1], [edges, edges])
    fine = np.linspace(0.0, 2.0, 501)
    mid = 0.5 * (fine[1:] + fine[:-1])
    gx, gy = np.meshgrid(mid, mid, indexing="ij")
    absf = np.abs(np.sin(gx + gy)) * (fine[1] - fine[0]) ** 2
    expected = absf.reshape(5, 100, 5, 100).sum(axis=(1, 3))
    expected *= len(ev.x) / expected.sum()
    assert chi2_pvalue(counts.ravel(), expected.ravel()) > 1e-3
    # the signed sum reproduces the integral
    assert ev.norm * ev.weights.sum() == pytest.approx(s.exact, rel=0.03)


def test_generate_rejects_bad_arguments(model_1d):
    with pytest.raises(ValueError, match="n_events"):
        model_1d.generate(0)
    with pytest.raises(ValueError, match="zoom_factor"):
        model_1d.generate(10, zoom=lambda x: x[:, 0] > 0.5, zoom_factor=1.0)
    with pytest.raises(ValueError, match=r"zoom must map"):
        model_1d.generate(10, zoom=lambda x: np.ones(3, dtype=bool))
    with pytest.raises(RuntimeError, match="max_calls"):
        model_1d.generate(1000, max_calls=10)


def test_zero_integrand_has_no_events():
    r = integrate(lambda x: np.zeros(len(x)), [(0, 1)], 5_000, seed=0)
    with pytest.raises(ValueError, match="vanished"):
        r.model.generate(10)
