"""A scan that fails late keeps its points; seeds are checked."""

import numpy as np
import pytest

from phenoflow.scan import ObjectiveError, explore, mcmc_scan, random_scan

UNIT = [(0.0, 1.0), (0.0, 1.0)]
TINY = {
    "n_initial": 20,
    "n_per_iteration": 20,
    "n_pool": 200,
    "max_pool": 1000,
    "train_steps": 5,
    "hidden": (8,),
}


class FailsAfter:
    """Scores of a disc (in target: score > 0) that raises once ``n`` points are evaluated."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen: list[np.ndarray] = []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if sum(len(b) for b in self.seen) >= self.n:
            raise RuntimeError("calculator crashed")
        self.seen.append(x.copy())
        return 0.1 - np.sum((x - 0.5) ** 2, axis=1)


@pytest.mark.parametrize(
    ("scan", "method", "kwargs"),
    [
        (explore, "mlscan", TINY),
        (random_scan, "random", {"batch_size": 20}),
        (mcmc_scan, "mcmc", {"n_chains": 20, "log_density": lambda s: np.zeros(len(s))}),
    ],
)
def test_late_objective_error_keeps_the_partial_result(scan, method, kwargs):
    objective = FailsAfter(60)
    with pytest.raises(ObjectiveError, match="calculator crashed") as info:
        scan(objective, UNIT, 200, seed=0, threshold=0.0, **kwargs)
    partial = info.value.partial
    assert partial is not None
    assert partial.method == method
    assert partial.stop_reason == "objective_error"
    # every batch the objective answered (MCMC batches hold the proposals inside the box)
    n_seen = sum(len(b) for b in objective.seen)
    assert partial.n_calls == n_seen >= 60
    np.testing.assert_array_equal(partial.points, np.concatenate(objective.seen))
    np.testing.assert_array_equal(partial.in_target, partial.values > 0.0)
    assert f"{n_seen} earlier point(s)" in str(info.value)


def test_objective_error_at_the_first_batch_has_an_empty_partial_result():
    with pytest.raises(ObjectiveError) as info:
        explore(FailsAfter(0), UNIT, 100, seed=0, threshold=0.0, **TINY)
    assert info.value.partial.n_calls == 0
    assert info.value.partial.points.shape == (0, 2)


@pytest.mark.parametrize("seed", [-1, 1.5, True, None, "0"])
@pytest.mark.parametrize("scan", [explore, random_scan, mcmc_scan])
def test_bad_seed_names_the_seed(scan, seed):
    with pytest.raises(ValueError, match="seed"):
        scan(lambda x: x[:, 0] > 0.5, UNIT, 100, seed=seed)


def test_box_whose_width_overflows_is_rejected():
    with pytest.raises(ValueError, match=r"bounds\[0\].*overflows"):
        explore(lambda x: x[:, 0] > 0.5, [(-1e308, 1e308)], 100, seed=0, **TINY)
