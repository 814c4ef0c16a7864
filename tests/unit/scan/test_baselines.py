"""Baselines: uniform sampling and Metropolis-Hastings, on an exact budget."""

import math

import numpy as np
import pytest

from phenoflow.scan import ObjectiveError, mcmc_scan, random_scan
from phenoflow.scan.objectives import BoxTarget
from tests.unit.scan.conftest import Recorder

UNIT = np.array([[0.0, 1.0], [0.0, 1.0]])
BOX = BoxTarget(target=np.array([[0.3, 0.7], [0.2, 0.6]]), bounds=UNIT)


def _gaussian(x: np.ndarray) -> np.ndarray:
    """Likelihood peaked at (0.3, 0.6) with width 0.05; in target above 0.5."""
    return np.exp(-0.5 * np.sum((x - [0.3, 0.6]) ** 2, axis=1) / 0.05**2)


def test_random_scan_efficiency_matches_the_volume():
    n = 20_000
    result = random_scan(BOX, UNIT, n, seed=4, batch_size=1000)
    f = BOX.volume_fraction
    assert f == pytest.approx(0.16)
    # binomial pull below 4 sigma
    assert abs(result.n_in_target - n * f) < 4 * np.sqrt(n * f * (1 - f))
    assert result.n_calls == n
    assert result.n_iterations == 20
    assert np.all(result.origin == "uniform")
    assert np.all((result.points >= 0) & (result.points <= 1))


@pytest.mark.parametrize("n_calls", [1, 999, 1000])
def test_baselines_use_exactly_the_budget(n_calls):
    for scan in (random_scan, mcmc_scan):
        objective = Recorder(_gaussian)
        result = scan(objective, UNIT, n_calls, seed=0, threshold=0.5)
        assert result.n_calls == objective.n_points == n_calls
        np.testing.assert_array_equal(objective.all_points(), result.points)


def test_random_scan_stops_at_target_count():
    result = random_scan(BOX, UNIT, 10_000, seed=0, batch_size=100, target_count=50)
    assert result.stop_reason == "target_count"
    assert 50 <= result.n_in_target < 50 + 100


def test_mcmc_tunes_acceptance_and_finds_the_peak():
    result = mcmc_scan(_gaussian, UNIT, 6000, seed=1, threshold=0.5, n_chains=10, burn_in=100)
    acceptance = result.info["acceptance"]
    assert np.all((acceptance > 0.15) & (acceptance < 0.5)), acceptance
    assert np.all((result.points >= 0) & (result.points <= 1))
    # the in-target region (radius 0.059, 1.1% of the box) is sampled far above random
    assert result.n_in_target / result.n_calls > 5 * math.pi * 0.05**2 * 2 * math.log(2)
    burn = result.info["burn_in"]
    assert burn.shape == (result.n_calls,)
    assert burn[:10].all()
    assert not burn[-1]
    assert np.all(result.origin == "mcmc")


def test_mcmc_same_seed_same_chain_and_log_density_option():
    a = mcmc_scan(_gaussian, UNIT, 500, seed=3, threshold=0.5)
    b = mcmc_scan(_gaussian, UNIT, 500, seed=3, threshold=0.5)
    assert a.points.tobytes() == b.points.tobytes()
    # the same chain from -chi2/2 on a chi2 objective
    chi2 = lambda x: -2 * np.log(_gaussian(x))  # noqa: E731
    c = mcmc_scan(
        chi2,
        UNIT,
        500,
        seed=3,
        threshold=lambda s: s < -2 * np.log(0.5),
        log_density=lambda s: -0.5 * s,
    )
    np.testing.assert_allclose(c.points, a.points)
    with pytest.raises(ValueError, match="likelihood >= 0"):
        mcmc_scan(lambda x: -x[:, 0], UNIT, 50, threshold=0.0)


def test_baseline_errors():
    with pytest.raises(ValueError, match="bounds"):
        random_scan(BOX, [[1.0, 0.0]], 10)
    with pytest.raises(ObjectiveError, match="boom"):
        mcmc_scan(lambda x: (_ for _ in ()).throw(KeyError("boom")), UNIT, 10, threshold=0.5)
    with pytest.raises(ValueError, match="NaN"):
        random_scan(lambda x: np.full(len(x), np.nan), UNIT, 10, threshold=0.5)
