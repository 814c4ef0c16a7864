"""Integrands that modify their input or sit far outside float64's comfortable range."""

import math

import numpy as np
import pytest

from phenoflow.integrate import METHODS, ScaleError, integrate
from phenoflow.integrate.result import SAFE_RANGE, CountedIntegrand

BOX = [(0.0, 1.0), (0.0, 1.0)]
EXACT = (0.5 * math.sqrt(math.pi) * math.erf(1.0)) ** 2  # int_[0,1]^2 exp(-|x|^2)
BUDGET = {"lestrat": 2000, "vegas": 2000, "vegas_classic": 2000, "plain": 2000, "madnis": 5000}


def gauss(x):
    return np.exp(-np.sum(x**2, axis=1))


def doubling_gauss(x):
    """The same values as ``gauss``, bit for bit, but it doubles its argument in place."""
    x *= 2.0
    return np.exp(-np.sum(x**2, axis=1) / 4.0)


@pytest.mark.parametrize("method", METHODS)
def test_integrand_that_modifies_its_input(method):
    ref = integrate(gauss, BOX, BUDGET[method], method=method, seed=0)
    r = integrate(doubling_gauss, BOX, BUDGET[method], method=method, seed=0)
    assert (r.mean, r.sdev, r.n_calls) == (ref.mean, ref.sdev, ref.n_calls)
    assert abs(r.pull(EXACT)) < 5


def test_lestrat_events_of_an_integrand_that_modifies_its_input():
    ref = integrate(gauss, BOX, 2000, seed=0).model.generate(300, seed=1)
    ev = integrate(doubling_gauss, BOX, 2000, seed=0).model.generate(300, seed=1)
    np.testing.assert_array_equal(ev.x, ref.x)
    assert ev.x.max() <= 1.0


def test_counted_integrand_hands_f_a_copy():
    x = np.random.default_rng(0).random((50, 2))
    before = x.copy()
    values = CountedIntegrand(doubling_gauss, 2, 100)(x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(values, gauss(before))


@pytest.mark.parametrize("scale", [1e-170, 1e-160, 1e200])
@pytest.mark.parametrize("method", METHODS)
def test_extreme_scales(method, scale):
    """Same answer, times the scale, as for an integrand of order one (and within 5 sdev)."""
    ref = integrate(gauss, BOX, BUDGET[method], method=method, seed=0)
    r = integrate(lambda x: scale * gauss(x), BOX, BUDGET[method], method=method, seed=0)
    assert r.sdev > 0
    assert abs(r.mean - scale * EXACT) < 5 * r.sdev
    assert r.mean / scale == pytest.approx(ref.mean, rel=1e-9)
    assert r.sdev / scale == pytest.approx(ref.sdev, rel=1e-6)


def test_lestrat_events_at_an_extreme_scale():
    scale = 1e-170
    ref = integrate(gauss, BOX, 2000, seed=0).model.generate(300, seed=1)
    ev = integrate(lambda x: scale * gauss(x), BOX, 2000, seed=0).model.generate(300, seed=1)
    np.testing.assert_allclose(ev.x, ref.x, rtol=1e-9)
    assert ev.norm / scale == pytest.approx(ref.norm, rel=1e-9)


def test_ordinary_scales_are_not_rescaled():
    F = CountedIntegrand(lambda x: np.full(len(x), SAFE_RANGE[1]), 1, 10)
    F(np.zeros((2, 1)))
    assert F.scale == 1.0
    G = CountedIntegrand(lambda x: np.full(len(x), 1e-300), 1, 10)
    assert G(np.zeros((2, 1))).max() == pytest.approx(1e-300 / G.scale)
    assert 1.0 <= G(np.zeros((2, 1))).max() < 2.0


def test_zero_first_batch_fixes_the_scale_later():
    F = CountedIntegrand(lambda x: 1e250 * x[:, 0], 1, 10)
    assert F(np.zeros((2, 1))).tolist() == [0.0, 0.0]
    assert F.scale == 1.0
    assert 1.0 <= F(np.ones((2, 1))).max() < 2.0
    assert 0.5e250 < F.scale <= 1e250
    assert F.unscale(3.0, 1.0) == (3.0 * F.scale, F.scale)


def test_an_integral_beyond_float64_says_so():
    with pytest.raises(ScaleError, match="not a finite float64"):
        integrate(lambda x: np.full(len(x), 1e300), [(0.0, 1e10)], 100, method="plain")


def test_non_finite_points_blame_the_arithmetic_not_f():
    F = CountedIntegrand(gauss, 2, 10)
    with pytest.raises(ScaleError, match="non-finite points"):
        F(np.array([[np.nan, 0.5]]))


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, True, None, "0"])
@pytest.mark.parametrize("method", METHODS)
def test_bad_seed_names_the_seed(method, seed):
    with pytest.raises(ValueError, match="seed"):
        integrate(gauss, BOX, BUDGET[method], method=method, seed=seed)


@pytest.mark.parametrize(
    ("bounds", "match"),
    [
        ([(-1e308, 1e308)], r"bounds\[0\].*overflows"),
        ([(0.0, 1e200), (0.0, 1e200)], r"bounds: the box volume"),
        ([(0.0, 1e-200), (0.0, 1e-200)], r"bounds: the box volume"),
    ],
)
def test_boxes_beyond_float64_are_rejected(bounds, match):
    with pytest.raises(ValueError, match=match):
        integrate(gauss, bounds, 2000, method="plain")
