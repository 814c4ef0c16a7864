"""Input validation, call counting and reproducibility of ``integrate`` (all methods)."""

import math

import numpy as np
import pytest

from phenoflow.integrate import METHODS, IntegrandError, Result, integrate
from phenoflow.integrate.result import BudgetExceededError, CountedIntegrand, check_bounds

FAST = ("vegas", "vegas_classic", "plain")


def gauss2(x):
    return np.exp(-0.5 * np.sum((x - 0.5) ** 2, axis=1) / 0.1**2)


class Counter:
    """An integrand that counts every point it is given."""

    def __init__(self, f):
        self.f = f
        self.points = 0
        self.calls = 0

    def __call__(self, x):
        self.points += len(x)
        self.calls += 1
        return self.f(x)


@pytest.mark.parametrize(
    ("bounds", "match"),
    [
        ([(0.0, 1.0), (1.0, 1.0)], r"bounds\[1\].*low >= high"),
        ([(0.0, 1.0), (2.0, 1.0)], r"bounds\[1\].*low >= high"),
        ([(0.0, np.inf)], r"bounds\[0\].*not finite"),
        ([(np.nan, 1.0)], r"bounds\[0\].*not finite"),
        ([(0.0, 1.0, 2.0)], r"\(low, high\) pairs.*shape \(1, 3\)"),
        ([], r"\(low, high\) pairs"),
        ([("a", 1.0)], r"pairs of numbers"),
    ],
)
@pytest.mark.parametrize("method", METHODS)
def test_bad_bounds_are_rejected(bounds, match, method):
    with pytest.raises(ValueError, match=match):
        integrate(gauss2, bounds, 10_000, method=method)


def test_check_bounds_returns_array():
    arr = check_bounds([(0, 1), (-2, 3)])
    assert arr.shape == (2, 2)
    assert arr.dtype == np.float64


@pytest.mark.parametrize("method", METHODS)
def test_budget_too_small(method):
    with pytest.raises(ValueError, match=r"n_calls = 1 is too small"):
        integrate(gauss2, [(0, 1), (0, 1)], 1, method=method)


def test_bad_method_and_options():
    with pytest.raises(ValueError, match="unknown method 'miser'"):
        integrate(gauss2, [(0, 1)], 10_000, method="miser")
    with pytest.raises(ValueError, match=r"unknown lestrat option\(s\) \['nope'\]"):
        integrate(gauss2, [(0, 1)], 10_000, nope=1)
    with pytest.raises(ValueError, match=r"unknown plain option"):
        integrate(gauss2, [(0, 1)], 10_000, method="plain", nitn=3)
    with pytest.raises(ValueError, match="n_calls must be an int"):
        integrate(gauss2, [(0, 1)], 1e5)


@pytest.mark.parametrize("method", [*FAST, "lestrat"])
def test_nan_integrand_names_count_and_point(method):
    def bad(x):
        out = gauss2(x)
        out[x[:, 0] > 0.9] = np.nan
        return out

    with pytest.raises(
        IntegrandError, match=r"returned \d+ non-finite value\(s\).*e\.g\. f\(\["
    ) as err:
        integrate(bad, [(0, 1), (0, 1)], 20_000, method=method)
    # the example point really is one where f is NaN
    text = str(err.value)
    point = [float(v) for v in text.split("f([")[1].split("])")[0].split(",")]
    assert point[0] > 0.9
    assert isinstance(err.value, ValueError)


def test_inf_integrand():
    with pytest.raises(IntegrandError, match=r"non-finite.*= inf"):
        integrate(lambda x: np.full(len(x), np.inf), [(0, 1)], 1000, method="plain")


@pytest.mark.parametrize(
    ("f", "match"),
    [
        (lambda x: np.zeros((len(x), 2)), r"shape \(\d+,\), got shape \(\d+, 2\)"),
        (lambda x: np.zeros(3), r"got shape \(3,\)"),
        (lambda x: 1.0, r"got shape \(\)"),
        (lambda x: ["a"] * len(x), r"non-numeric"),
    ],
)
def test_wrong_output_shape(f, match):
    with pytest.raises(IntegrandError, match=match):
        integrate(f, [(0, 1), (0, 1)], 1000, method="plain")


def test_column_output_is_accepted():
    r = integrate(lambda x: np.ones((len(x), 1)), [(0, 2)], 1000, method="plain")
    assert r.mean == pytest.approx(2.0)
    assert r.sdev == 0.0


def test_counted_integrand_refuses_to_exceed_budget():
    c = Counter(gauss2)
    F = CountedIntegrand(c, 2, budget=10)
    F(np.zeros((6, 2)))
    with pytest.raises(BudgetExceededError, match="6 used of 10"):
        F(np.zeros((5, 2)))
    assert c.points == 6  # the refused batch never reached f
    assert F.remaining == 4


@pytest.mark.parametrize("method", [*FAST, "lestrat"])
@pytest.mark.parametrize("n_calls", [5_000, 23_457])
def test_calls_never_exceed_budget(method, n_calls):
    c = Counter(gauss2)
    r = integrate(c, [(0, 1), (0, 1)], n_calls, method=method, seed=3)
    assert c.points == r.n_calls <= n_calls
    assert r.n_calls_budget == n_calls
    assert r.n_calls > 0.8 * n_calls  # and the budget is used


def test_result_refuses_overspent_budget():
    with pytest.raises(BudgetExceededError):
        Result(mean=0, sdev=0, n_calls=11, n_calls_budget=10, wall_s=0, method="x", seed=0)


@pytest.mark.parametrize("method", [*FAST, "lestrat"])
def test_same_seed_same_result(method):
    a = integrate(gauss2, [(0, 1), (0, 1)], 20_000, method=method, seed=11)
    b = integrate(gauss2, [(0, 1), (0, 1)], 20_000, method=method, seed=11)
    c = integrate(gauss2, [(0, 1), (0, 1)], 20_000, method=method, seed=12)
    assert (a.mean, a.sdev, a.n_calls) == (b.mean, b.sdev, b.n_calls)
    assert a.mean != c.mean


def test_seed_independent_of_global_state():
    saved = np.random.get_state()
    try:
        np.random.seed(1)  # global state must not matter
        a = integrate(gauss2, [(0, 1), (0, 1)], 5_000, method="vegas", seed=2)
        np.random.seed(2)
        b = integrate(gauss2, [(0, 1), (0, 1)], 5_000, method="vegas", seed=2)
    finally:
        np.random.set_state(saved)
    assert a.mean == b.mean


def test_result_fields_and_pull():
    r = integrate(gauss2, [(0, 1), (0, 1)], 10_000, method="vegas", seed=0)
    assert r.method == "vegas"
    assert r.wall_s > 0
    assert math.isfinite(r.chi2_dof)
    assert 0 <= r.Q <= 1
    assert r.pull(r.mean) == 0.0
    assert "vegas" in str(r)
