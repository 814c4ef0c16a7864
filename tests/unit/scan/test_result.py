"""ScanResult bookkeeping and the per-iteration efficiency."""

import numpy as np
import pytest

from phenoflow.scan.metrics import calls_to_reach
from phenoflow.scan.result import ScanResult, efficiency_per_iteration


def _result(in_target, iteration, budget=100) -> ScanResult:
    n = len(in_target)
    return ScanResult(
        points=np.arange(n, dtype=float)[:, None],
        values=np.asarray(in_target),
        in_target=np.asarray(in_target, dtype=bool),
        iteration=np.asarray(iteration),
        origin=np.full(n, "model"),
        bounds=np.array([[0.0, 100.0]]),
        method="test",
        n_calls_budget=budget,
        stop_reason="budget",
    )


def test_efficiency_per_iteration_known_values():
    in_target = [1, 0, 0, 0, 1, 1, 0, 1, 1, 1]
    iteration = [0, 0, 0, 0, 1, 1, 1, 3, 3, 3]
    eff = efficiency_per_iteration(np.array(iteration), np.array(in_target, dtype=bool))
    assert eff[0] == pytest.approx(0.25)
    assert eff[1] == pytest.approx(2 / 3)
    assert np.isnan(eff[2])  # no point proposed in iteration 2
    assert eff[3] == pytest.approx(1.0)
    r = _result(in_target, iteration)
    np.testing.assert_array_equal(r.efficiency, eff)
    np.testing.assert_array_equal(r.calls_per_iteration, [4, 3, 0, 3])
    assert (r.n_calls, r.n_in_target, r.n_iterations) == (10, 6, 4)
    np.testing.assert_array_equal(r.target_points[:, 0], [0, 4, 5, 7, 8, 9])


def test_calls_to_reach():
    r = _result([0, 0, 1, 0, 1, 1], [0] * 6)
    assert calls_to_reach(r, 1) == 3
    assert calls_to_reach(r, 2) == 5
    assert calls_to_reach(r, 3) == 6
    assert calls_to_reach(r, 4) is None
    with pytest.raises(ValueError, match="n_target"):
        calls_to_reach(r, 0)


def test_result_refuses_more_calls_than_budget():
    with pytest.raises(ValueError, match="exceed the budget"):
        _result([1, 0, 1], [0, 0, 0], budget=2)
