"""Property-based tests of ``integrate``'s argument handling and of odd but valid integrands.

Every rejected argument raises ``ValueError`` naming it; every accepted one runs within
the budget.  Integrands that modify their input, return float32, a strided view or an
(n, 1) column give the well-behaved integrand's result; other shapes are refused.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phenoflow.integrate import METHODS, IntegrandError, integrate
from phenoflow.integrate.lestrat import MIN_CALLS
from phenoflow.integrate.references import MIN_CALLS as REF_MIN_CALLS
from tests.strategies import bad_boxes, boxes

MINIMUM = {"lestrat": MIN_CALLS, **REF_MIN_CALLS}
FAST = ("vegas", "vegas_classic", "plain")
SLOW = {"lestrat": 3, "madnis": 3}  # examples of the slower methods
BOX = [(0.0, 1.0), (0.0, 1.0)]


def lorentz(x):
    return 1.0 / (1.0 + np.sum(x**2, axis=1))


bad_seeds = st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=2**64),
    st.floats(),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)


@given(method=st.sampled_from(METHODS), bounds=bad_boxes())
def test_bad_bounds_raise_naming_bounds(method, bounds):
    with pytest.raises(ValueError, match="bounds"):
        integrate(lorentz, bounds, 10_000, method=method)


@given(method=st.sampled_from(METHODS), seed=bad_seeds)
def test_bad_seeds_raise_naming_seed(method, seed):
    with pytest.raises(ValueError, match="seed"):
        integrate(lorentz, BOX, 10_000, method=method, seed=seed)


@given(
    method=st.sampled_from(METHODS),
    n_calls=st.one_of(
        st.integers(max_value=999),  # below every method's minimum but plain's
        st.floats(),
        st.booleans(),
        st.none(),
        st.text(max_size=3),
    ),
)
def test_bad_budgets_raise_naming_n_calls(method, n_calls):
    is_int = isinstance(n_calls, int) and not isinstance(n_calls, bool)
    if is_int and n_calls >= MINIMUM[method]:
        return  # a valid budget (plain needs only 2)
    with pytest.raises(ValueError, match="n_calls"):
        integrate(lorentz, BOX, n_calls, method=method)


@given(
    method=st.sampled_from(METHODS),
    name=st.text(st.characters(categories=["Ll"]), min_size=1, max_size=8).map(lambda s: f"no_{s}"),
)
def test_unknown_options_raise_naming_the_option(method, name):
    with pytest.raises(ValueError, match=f"unknown {method} option.*{name}"):
        integrate(lorentz, BOX, 10_000, method=method, **{name: 1})


@given(name=st.text(min_size=1, max_size=8).filter(lambda m: m not in METHODS))
def test_unknown_methods_raise_naming_the_method(name):
    with pytest.raises(ValueError, match="unknown method"):
        integrate(lorentz, BOX, 10_000, method=name)


@given(
    method=st.sampled_from(FAST),
    bounds=boxes(),
    extra=st.integers(0, 3000),
    seed=st.integers(0, 2**64 - 1),
)
def test_accepted_arguments_run_within_budget(method, bounds, extra, seed):
    budget = MINIMUM[method] + extra
    r = integrate(lorentz, bounds, budget, method=method, seed=seed)
    assert math.isfinite(r.mean)
    assert math.isfinite(r.sdev)
    assert r.n_calls <= budget
    assert r.mean > 0


@pytest.mark.parametrize("method", sorted(SLOW))
def test_accepted_arguments_run_within_budget_slow_methods(method):
    @settings(max_examples=SLOW[method])
    @given(bounds=boxes(max_dim=2), seed=st.integers(0, 2**64 - 1))
    def check(bounds, seed):
        budget = MINIMUM[method]
        r = integrate(lorentz, bounds, budget, method=method, seed=seed)
        assert math.isfinite(r.mean)
        assert math.isfinite(r.sdev)
        assert r.n_calls <= budget

    check()


# -- odd but valid integrands: (name, f(values, x) -> what f returns, expected values) ----
def _mutating(v, x):
    x[:] = np.nan  # scribbles over its argument after computing the values
    return v


VARIANTS = {
    "mutating": (_mutating, lambda v: v),
    "float32": (lambda v, x: v.astype(np.float32), lambda v: v.astype(np.float32)),
    "strided": (lambda v, x: np.repeat(v[:, None], 3, axis=1)[:, 1], lambda v: v),
    "column": (lambda v, x: v[:, None], lambda v: v),
    "row": (lambda v, x: v[None, :], lambda v: v),
    "int": (lambda v, x: (100 * v).astype(np.int64), lambda v: (100 * v).astype(np.int64)),
}


def _pair(variant, centre, width):
    """(the odd integrand, the well-behaved one with the same float64 values)."""
    odd, same = VARIANTS[variant]

    def values(x):
        return np.exp(-0.5 * np.sum((x - centre) ** 2, axis=1) / width**2)

    def f_odd(x):
        return odd(values(x), x)

    def f_good(x):
        return np.asarray(same(values(x)), dtype=np.float64)

    return f_odd, f_good


def _same_result(method, variant, centre, width, seed):
    f_odd, f_good = _pair(variant, centre, width)
    n = MINIMUM[method] + 500
    a = integrate(f_odd, BOX, n, method=method, seed=seed)
    b = integrate(f_good, BOX, n, method=method, seed=seed)
    assert (a.mean, a.sdev, a.n_calls) == (b.mean, b.sdev, b.n_calls)


@given(
    method=st.sampled_from(FAST),
    variant=st.sampled_from(sorted(VARIANTS)),
    centre=st.floats(0.0, 1.0),
    width=st.floats(0.05, 1.0),
    seed=st.integers(0, 1000),
)
def test_odd_integrands_give_the_well_behaved_result(method, variant, centre, width, seed):
    _same_result(method, variant, centre, width, seed)


@pytest.mark.parametrize("method", sorted(SLOW))
def test_odd_integrands_give_the_well_behaved_result_slow_methods(method):
    @settings(max_examples=SLOW[method])
    @given(variant=st.sampled_from(sorted(VARIANTS)), centre=st.floats(0.2, 0.8))
    def check(variant, centre):
        _same_result(method, variant, centre, 0.3, 0)

    check()


@given(
    method=st.sampled_from(METHODS),
    shape=st.sampled_from(["pair", "short", "scalar", "square", "text"]),
)
def test_wrong_shapes_are_refused(method, shape):
    def f(x):
        n = len(x)
        return {
            "pair": np.ones((n, 2)),
            "short": np.ones(n - 1),
            "scalar": 1.0,
            "square": np.ones((n, n)) if n < 3000 else np.ones((2, 2)),
            "text": np.array(["a"] * n),
        }[shape]

    with pytest.raises(IntegrandError, match=r"shape|non-numeric"):
        integrate(f, BOX, MINIMUM[method], method=method)
