"""Property-based tests of ``explore``'s argument handling and of odd but valid objectives.

Every rejected argument raises ``ValueError`` or ``TypeError`` naming it; every accepted
one runs within the budget.  Objectives that modify their input or return float32,
integers or a strided view give the well-behaved objective's scan; an (n, 1) column
or any other shape is refused with a message that names the shape.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phenoflow.scan import explore
from tests.strategies import bad_boxes, boxes

UNIT = [(0.0, 1.0), (0.0, 1.0)]
TINY = {
    "n_initial": 20,
    "n_per_iteration": 20,
    "n_pool": 200,
    "max_pool": 1000,
    "train_steps": 3,
    "hidden": (8,),
}


def disc(x):
    return np.sum((x - 0.5) ** 2, axis=1) < 0.1


@given(bounds=bad_boxes())
def test_bad_bounds_raise_naming_bounds(bounds):
    with pytest.raises(ValueError, match="bounds"):
        explore(disc, bounds, 100, **TINY)


@given(
    seed=st.one_of(
        st.integers(max_value=-1), st.floats(), st.booleans(), st.none(), st.text(max_size=3)
    )
)
def test_bad_seeds_raise_naming_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        explore(disc, UNIT, 100, seed=seed, **TINY)


@given(
    n_calls=st.one_of(
        st.integers(max_value=0), st.floats(), st.booleans(), st.none(), st.text(max_size=3)
    )
)
def test_bad_budgets_raise_naming_n_calls(n_calls):
    with pytest.raises(ValueError, match="n_calls"):
        explore(disc, UNIT, n_calls, **TINY)


@given(name=st.text(st.characters(categories=["Ll"]), min_size=1, max_size=8))
def test_unknown_options_raise_naming_the_option(name):
    name = f"no_{name}"
    with pytest.raises(TypeError, match=f"unknown option.*{name}"):
        explore(disc, UNIT, 100, **{name: 1})


BAD_OPTIONS = st.sampled_from(
    [
        ("n_initial", 0),
        ("n_initial", 2.5),
        ("n_per_iteration", -1),
        ("n_pool", True),
        ("train_steps", 0),
        ("batch_size", "64"),
        ("random_fraction", 1.5),
        ("random_fraction", math.nan),
        ("smote_fraction", -0.1),
        ("min_probability", 2.0),
        ("selection", "best"),
        ("model", "forest"),
        ("hidden", ()),
        ("hidden", (0, 4)),
        ("hidden", ("wide",)),
        ("hidden", 8),
        ("fourier_features", -1),
        ("fourier_features", 1.5),
        ("fourier_scale", 0.0),
        ("fourier_scale", math.inf),
        ("learning_rate", 0.0),
        ("learning_rate", math.nan),
        ("max_class_weight", 0.5),
        ("pool_factor", 0.5),
        ("max_pool", 10),
        ("target_count", 0),
        ("max_iterations", -2),
        ("num_threads", 0),
        ("callback", 3),
        ("threshold", "high"),
        ("threshold", math.nan),
    ]
)


@given(option=BAD_OPTIONS)
def test_bad_option_values_raise_naming_the_option(option):
    name, value = option
    with pytest.raises((ValueError, TypeError), match=name):
        explore(disc, UNIT, 100, **{**TINY, name: value})


@settings(max_examples=8)
@given(
    bounds=boxes(),
    n_calls=st.integers(1, 80),
    seed=st.integers(0, 2**64),
    selection=st.sampled_from(["top", "proportional", "balanced"]),
    smote=st.booleans(),
    fourier_features=st.integers(0, 4),
)
def test_accepted_arguments_run_within_budget(
    bounds, n_calls, seed, selection, smote, fourier_features
):
    box = np.array(bounds)
    centre = box.mean(axis=1)

    def near_centre(x):
        return np.all(np.abs(x - centre) < 0.3 * (box[:, 1] - box[:, 0]), axis=1)

    r = explore(
        near_centre,
        bounds,
        n_calls,
        seed=seed,
        selection=selection,
        smote=smote,
        **{**TINY, "fourier_features": fourier_features},
    )
    assert r.n_calls <= n_calls
    assert np.all((r.points >= box[:, 0]) & (r.points <= box[:, 1]))


# -- odd but valid objectives: what the objective returns from the (n,) scores -------------
def _mutating(s, x):
    x[:] = np.nan
    return s


VARIANTS = {
    "mutating": (_mutating, lambda s: s),
    "float32": (lambda s, x: s.astype(np.float32), lambda s: s.astype(np.float32)),
    "strided": (lambda s, x: np.repeat(s[:, None], 3, axis=1)[:, 2], lambda s: s),
    "int": (lambda s, x: np.floor(100 * s).astype(np.int64), lambda s: np.floor(100 * s)),
}


@settings(max_examples=8)
@given(
    variant=st.sampled_from(sorted(VARIANTS)),
    centre=st.floats(0.2, 0.8),
    seed=st.integers(0, 100),
)
def test_odd_objectives_give_the_well_behaved_scan(variant, centre, seed):
    odd, same = VARIANTS[variant]

    def scores(x):
        return 0.2 - np.sum((x - centre) ** 2, axis=1)

    opts = {**TINY, "threshold": 0.0, "max_iterations": 2}
    a = explore(lambda x: odd(scores(x), x), UNIT, 60, seed=seed, **opts)
    b = explore(lambda x: np.asarray(same(scores(x)), np.float64), UNIT, 60, seed=seed, **opts)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.in_target, b.in_target)


@given(shape=st.sampled_from(["column", "row", "pair", "short", "scalar"]))
def test_wrong_shapes_are_refused(shape):
    def objective(x):
        s = disc(x)
        return {
            "column": s[:, None],
            "row": s[None, :],
            "pair": np.stack([s, s], axis=1),
            "short": s[1:],
            "scalar": True,
        }[shape]

    with pytest.raises(ValueError, match=r"must return shape \(20,\).*got shape"):
        explore(objective, UNIT, 100, **TINY)
