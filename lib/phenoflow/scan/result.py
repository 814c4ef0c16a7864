"""What every scan returns: the evaluated points, in the order they were evaluated.

A :class:`ScanResult` is the common output of :func:`phenoflow.scan.explore` and of the
baselines in :mod:`phenoflow.scan.baselines`, so the metrics in
:mod:`phenoflow.scan.metrics` work on all of them alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Where a point came from.  "initial": the random sample before any model exists;
# "model": ranked by the classifier (or regressor); "random": the random fraction of an
# iteration; "smote": synthesised between in-target neighbours; "uniform": the uniform
# baseline; "mcmc": a Metropolis-Hastings step (burn-in included).
ORIGINS: tuple[str, ...] = ("initial", "model", "random", "smote", "uniform", "mcmc")


@dataclass(frozen=True)
class ScanResult:
    """Every point a scan passed to the objective, in evaluation order.

    Arrays (n = number of objective calls, d = dimension):

    ``points``     (n, d) float64 parameter values
    ``values``     (n,) what the objective returned: bool, or float64 scores
    ``in_target``  (n,) bool, the verdict (the boolean itself, or the threshold applied)
    ``iteration``  (n,) int64, the iteration that proposed the point (0 = initial sample)
    ``origin``     (n,) str, one of :data:`ORIGINS`
    ``bounds``     (d, 2) float64, [low, high] per dimension

    ``method`` names the algorithm, ``n_calls_budget`` the budget it was given and
    ``stop_reason`` why it stopped (``"budget"``, ``"target_count"``, ``"max_iterations"``;
    ``"objective_error"`` for the partial result of an ``ObjectiveError``).
    ``info`` holds algorithm-specific extras (e.g. MCMC acceptance rates).
    """

    points: np.ndarray
    values: np.ndarray
    in_target: np.ndarray
    iteration: np.ndarray
    origin: np.ndarray
    bounds: np.ndarray
    method: str
    n_calls_budget: int
    stop_reason: str
    info: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.points)
        for name in ("values", "in_target", "iteration", "origin"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"ScanResult.{name} has {len(getattr(self, name))} rows, points {n}"
                )
        if n > self.n_calls_budget:
            raise ValueError(f"{n} objective calls exceed the budget of {self.n_calls_budget}")

    @property
    def n_calls(self) -> int:
        """Number of points passed to the objective (every one counts)."""
        return len(self.points)

    @property
    def n_in_target(self) -> int:
        return int(np.count_nonzero(self.in_target))

    @property
    def target_points(self) -> np.ndarray:
        """(m, d) the in-target points, in evaluation order."""
        return self.points[self.in_target]

    @property
    def n_iterations(self) -> int:
        """Number of iterations, the initial sample (iteration 0) included."""
        return int(self.iteration.max()) + 1 if self.n_calls else 0

    @property
    def efficiency(self) -> np.ndarray:
        """(n_iterations,) in-target / evaluated for each iteration (NaN where none evaluated)."""
        return efficiency_per_iteration(self.iteration, self.in_target)

    @property
    def calls_per_iteration(self) -> np.ndarray:
        """(n_iterations,) objective calls made in each iteration."""
        return np.bincount(self.iteration, minlength=self.n_iterations)


def efficiency_per_iteration(iteration: np.ndarray, in_target: np.ndarray) -> np.ndarray:
    """(n_iter,) fraction of the points of each iteration that are in the target.

    ``iteration`` (n,) non-negative ints, ``in_target`` (n,) bool.  An iteration with no
    evaluated point gets NaN.
    """
    iteration = np.asarray(iteration, dtype=np.int64)
    in_target = np.asarray(in_target, dtype=bool)
    if iteration.shape != in_target.shape or iteration.ndim != 1:
        raise ValueError(
            f"iteration {iteration.shape} and in_target {in_target.shape} must be equal 1-d shapes"
        )
    if len(iteration) == 0:
        return np.zeros(0)
    n_iter = int(iteration.max()) + 1
    evaluated = np.bincount(iteration, minlength=n_iter).astype(np.float64)
    hits = np.bincount(iteration, weights=in_target.astype(np.float64), minlength=n_iter)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(evaluated > 0, hits / evaluated, np.nan)
