"""Objectives with known answers."""

import math

import numpy as np
import pytest

from phenoflow.scan import explore
from phenoflow.scan.objectives import (
    FUNCTION_2D_2_2,
    FUNCTION_2D_5_7,
    FUNCTION_3D,
    BallsTarget,
    BoxTarget,
    PseudoMeasurement,
    delta_chi2,
    rare_balls_target,
)
from tests.unit.scan.conftest import FAST


def test_paper_function_values():
    f = FUNCTION_3D
    assert f.bounds.shape == (3, 2)
    assert f.bounds[0, 1] == pytest.approx(10 * math.pi)
    # at the origin every cosine is 1: O = 3^5 = 243, far from c = 100
    assert f.observable(np.zeros((1, 3)))[0] == pytest.approx(243.0)
    # cos(x/7) = 0.5^(1/3) on every axis: product 0.5, O = 2.5^5 = 97.66, L = exp(-(2.34)^2/800)
    x = np.full((1, 3), 7 * math.acos(0.5 ** (1 / 3)))
    assert f.observable(x)[0] == pytest.approx(2.5**5)
    assert f(x)[0] == pytest.approx(math.exp(-((2.5**5 - 100) ** 2) / 800))
    assert f.in_target(x)[0]
    lo, hi = f.product_window()
    # L > 0.9  <=>  |O - 100| < 20 sqrt(2 ln(1/0.9)) = 9.18
    assert (2 + lo) ** 5 == pytest.approx(100 - 20 * math.sqrt(2 * math.log(1 / 0.9)))
    assert (2 + hi) ** 5 == pytest.approx(100 + 20 * math.sqrt(2 * math.log(1 / 0.9)))
    np.testing.assert_array_equal(f.observable_in_target(f.observable(x)), f.in_target(x))
    assert FUNCTION_2D_5_7.observable(np.array([[5 * math.pi, 0.0]]))[0] == pytest.approx(1.0)
    assert FUNCTION_2D_2_2.dim == 2
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        f(np.zeros((4, 2)))


def test_paper_function_volume_fraction():
    # 3.33% of the box is in target (a 10^6-point uniform estimate; pull < 4 sigma)
    rng = np.random.default_rng(0)
    x = rng.uniform(-10 * math.pi, 10 * math.pi, (200_000, 3))
    frac = FUNCTION_3D.in_target(x).mean()
    assert abs(frac - 0.0333) < 4 * math.sqrt(0.0333 * 0.9667 / 200_000)


def test_box_and_balls_volumes():
    unit = np.tile([0.0, 1.0], (3, 1))
    box = BoxTarget(np.array([[0.1, 0.3], [0.0, 0.5], [0.5, 1.0]]), unit)
    assert box.volume_fraction == pytest.approx(0.05)
    rare = rare_balls_target(4, 0.005)
    assert rare.volume_fraction == pytest.approx(0.005)
    rng = np.random.default_rng(1)
    x = rng.random((400_000, 4))
    hits = rare(x)
    assert abs(hits.mean() - 0.005) < 4 * math.sqrt(0.005 / 400_000)
    # each ball holds a third
    counts = np.bincount(rare.ball_index(x[hits]), minlength=3)
    assert np.all(np.abs(counts / hits.sum() - 1 / 3) < 0.03)
    assert np.all(rare.ball_index(x[~hits][:100]) == -1)
    with pytest.raises(ValueError, match="inside bounds"):
        BoxTarget(np.array([[0.5, 1.5]]), np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match="overlap"):
        BallsTarget(np.array([[0.4, 0.5], [0.6, 0.5]]), 0.15, np.tile([0.0, 1.0], (2, 1)))


def _toy_spectrum(theta: np.ndarray) -> np.ndarray:
    """(n, 2) -> (n, 6): 'cross sections' in 6 mass bins, linear in the parameters."""
    m = np.linspace(0.0, 1.0, 6)
    return 10.0 + theta[:, :1] * (1.0 + m) + theta[:, 1:2] * (1.0 - m) ** 2


def test_pseudo_measurement_region_is_the_known_ellipse():
    bounds = np.array([[-3.0, 3.0], [-3.0, 3.0]])
    truth = np.array([0.5, -0.4])
    obj = PseudoMeasurement.from_truth(_toy_spectrum, truth, bounds, relative_error=0.05)
    assert obj.limit == pytest.approx(delta_chi2(0.95, 2))
    assert obj.limit == pytest.approx(5.991, abs=1e-3)
    assert obj(truth[None])[0] == pytest.approx(0.0)
    # linear model: chi2 = (t - t0)^T F (t - t0) with F = J^T V^-1 J; region area = pi * limit / sqrt(det F)
    m = np.linspace(0.0, 1.0, 6)
    jac = np.stack([1.0 + m, (1.0 - m) ** 2], axis=1)
    fisher = jac.T @ np.diag(1 / obj.errors**2) @ jac
    t = np.random.default_rng(2).uniform(-3, 3, (5, 2))
    d = t - truth
    np.testing.assert_allclose(obj(t), np.einsum("ni,ij,nj->n", d, fisher, d), rtol=1e-10)
    area = math.pi * obj.limit / math.sqrt(np.linalg.det(fisher))
    # a scan with threshold=obj.threshold finds points inside that ellipse only
    result = explore(
        obj,
        bounds,
        800,
        seed=0,
        threshold=obj.threshold,
        n_initial=200,
        n_per_iteration=200,
        **FAST,
    )
    found = result.target_points - truth
    assert len(found) > 50
    assert np.all(np.einsum("ni,ij,nj->n", found, fisher, found) < obj.limit)
    assert area / 36.0 < 0.2  # sanity: a small region of the box


def test_pseudo_measurement_checks():
    bounds = np.array([[-1.0, 1.0], [-1.0, 1.0]])
    data, err = np.ones(6) * 10, np.ones(6)
    with pytest.raises(ValueError, match="errors"):
        PseudoMeasurement(_toy_spectrum, data, np.ones(5), 5.99, bounds)
    with pytest.raises(ValueError, match="positive definite"):
        PseudoMeasurement(_toy_spectrum, data, -np.eye(6), 5.99, bounds)
    bad = PseudoMeasurement(lambda t: np.ones((len(t), 5)), data, err, 5.99, bounds)
    with pytest.raises(ValueError, match=r"shape \(3, 6\)"):
        bad(np.zeros((3, 2)))
    # a covariance gives the same chi2 as the errors on its diagonal
    a = PseudoMeasurement(_toy_spectrum, data, err * 2, 5.99, bounds)
    b = PseudoMeasurement(_toy_spectrum, data, np.diag(err**2 * 4), 5.99, bounds)
    t = np.array([[0.2, 0.3]])
    assert a(t)[0] == pytest.approx(b(t)[0])
    assert a.log_density(np.array([4.0]))[0] == pytest.approx(-2.0)
