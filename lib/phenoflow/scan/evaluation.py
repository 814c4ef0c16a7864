"""Calling the objective: checks, the call budget and the record of every evaluated point.

Shared by :func:`phenoflow.scan.explore` and the baselines, so all of them count calls,
report a failing objective and build a :class:`~phenoflow.scan.result.ScanResult` the
same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from phenoflow.scan.result import ORIGINS, ScanResult

Objective = Callable[[np.ndarray], Any]
Threshold = float | Callable[[np.ndarray], Any] | None

_SHOW = 5  # points quoted in an error message
_ORIGIN_DTYPE = f"<U{max(map(len, ORIGINS))}"


class ObjectiveError(RuntimeError):
    """The objective raised; ``points`` (n, d) is the batch it was evaluating.

    ``partial`` is the :class:`~phenoflow.scan.result.ScanResult` of every point
    evaluated before that batch (``stop_reason="objective_error"``), so a scan that fails
    late keeps its work; ``None`` when raised outside a scan.
    """

    def __init__(self, message: str, points: np.ndarray, partial: ScanResult | None = None) -> None:
        super().__init__(message)
        self.points = points
        self.partial = partial


def check_seed(seed: Any) -> int:
    """Validate a scan's ``seed``: a non-negative int (not bool); ValueError naming it."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)


def check_bounds(bounds: Any) -> np.ndarray:
    """(d, 2) float64 [low, high] rows; ValueError unless finite with low < high."""
    try:
        arr = np.array(bounds, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bounds must be a (d, 2) array of numbers, got {bounds!r}") from exc
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 1:
        raise ValueError(f"bounds must have shape (d, 2) with d >= 1, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"bounds must be finite, got {arr.tolist()}")
    bad = np.flatnonzero(arr[:, 0] >= arr[:, 1])
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"bounds[{i}] = {arr[i].tolist()}: low must be < high "
            f"({bad.size} bad dimension(s): {bad.tolist()})"
        )
    with np.errstate(over="ignore"):
        wide = np.flatnonzero(~np.isfinite(arr[:, 1] - arr[:, 0]))
    if wide.size:
        i = int(wide[0])
        raise ValueError(f"bounds[{i}] = {arr[i].tolist()}: high - low overflows float64")
    return arr


def check_budget(n_calls: Any) -> int:
    if isinstance(n_calls, bool) or not isinstance(n_calls, int | np.integer) or n_calls < 1:
        raise ValueError(f"n_calls must be a positive int, got {n_calls!r}")
    return int(n_calls)


def uniform(rng: np.random.Generator, bounds: np.ndarray, n: int) -> np.ndarray:
    """(n, d) points uniform in the box ``bounds`` (d, 2)."""
    return bounds[:, 0] + (bounds[:, 1] - bounds[:, 0]) * rng.random((n, len(bounds)))


def _quote(points: np.ndarray, rows: np.ndarray | None = None) -> str:
    rows = np.arange(len(points)) if rows is None else rows
    shown = ", ".join(f"#{int(i)} {np.array2string(points[i], precision=6)}" for i in rows[:_SHOW])
    more = f" and {len(rows) - _SHOW} more" if len(rows) > _SHOW else ""
    return shown + more


class Evaluator:
    """Wraps the objective: validates what it returns, enforces the budget, records points.

    ``objective`` maps (n, d) float64 to (n,) bool (in target) or (n,) scores; with
    scores, ``threshold`` decides: a float means ``score > threshold``, a callable maps
    (n,) scores to (n,) bool.  Every point handed to the objective counts as one call.
    ``method`` names the scan in the partial result attached to an :class:`ObjectiveError`.
    """

    def __init__(
        self,
        objective: Objective,
        bounds: np.ndarray,
        n_calls: int,
        threshold: Threshold,
        method: str = "scan",
    ) -> None:
        if not callable(objective):
            raise TypeError(f"objective must be callable, got {type(objective).__name__}")
        if threshold is not None and not callable(threshold):
            try:
                threshold = float(threshold)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"threshold must be a number or a callable, got {threshold!r}"
                ) from exc
            if np.isnan(threshold):
                raise ValueError("threshold must not be NaN")
        self.objective = objective
        self.method = method  # names the partial result of an ObjectiveError
        self.bounds = bounds
        self.budget = n_calls
        self.threshold = threshold
        self.scores_kind: str | None = None  # "bool" or "score", fixed by the first call
        self._points: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        self._in: list[np.ndarray] = []
        self._iter: list[np.ndarray] = []
        self._origin: list[np.ndarray] = []
        self.n_used = 0
        self.n_in_target = 0
        self.last_n = 0  # size of the last evaluated batch
        self.last_hits = 0  # in-target points in it

    @property
    def remaining(self) -> int:
        return self.budget - self.n_used

    def __call__(self, points: np.ndarray, iteration: int, origin: str | np.ndarray) -> np.ndarray:
        """Evaluate (n, d) points in one objective call; return (n,) bool in target.

        ``origin`` is one of :data:`ORIGINS` for all points, or an (n,) array of them.
        n must fit in the remaining budget.
        """
        # our own copy: the caller may reuse its array (an MCMC state), and the objective
        # gets another one, so neither can alter the record
        points = np.array(points, dtype=np.float64, order="C", copy=True)
        n = len(points)
        origins = np.broadcast_to(np.asarray(origin, dtype=_ORIGIN_DTYPE), (n,)).copy()
        unknown = set(origins.tolist()) - set(ORIGINS)
        if unknown:
            raise ValueError(f"unknown origin(s) {sorted(unknown)}; expected one of {ORIGINS}")
        if n > self.remaining:
            raise RuntimeError(f"asked to evaluate {n} points with {self.remaining} calls left")
        if n == 0:
            return np.zeros(0, dtype=bool)
        try:
            raw = self.objective(points.copy())
        except Exception as exc:
            raise ObjectiveError(
                f"objective raised {type(exc).__name__}: {exc} while evaluating a batch of "
                f"{n} point(s): {_quote(points)} ({self.n_used} earlier point(s) are in "
                f"the error's .partial result)",
                points,
                self.result(self.method, "objective_error"),
            ) from exc
        values, in_target = self._verdict(points, raw)
        self.n_used += n
        self.last_n = n
        self.last_hits = int(np.count_nonzero(in_target))
        self.n_in_target += self.last_hits
        self._points.append(points)
        self._values.append(values)
        self._in.append(in_target)
        self._iter.append(np.full(n, iteration, dtype=np.int64))
        self._origin.append(origins)
        return in_target

    def _verdict(self, points: np.ndarray, raw: Any) -> tuple[np.ndarray, np.ndarray]:
        n, d = points.shape
        values = np.asarray(raw)
        if values.shape != (n,):
            raise ValueError(
                f"objective must return shape ({n},) for input of shape ({n}, {d}), "
                f"got shape {values.shape}"
            )
        kind = "bool" if values.dtype == np.bool_ else "score"
        if kind == "score" and not (
            np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)
        ):
            raise ValueError(
                f"objective must return bool or real numbers, got dtype {values.dtype}"
            )
        if self.scores_kind is None:
            self.scores_kind = kind
        elif kind != self.scores_kind:
            raise ValueError(f"objective returned {kind}s after returning {self.scores_kind}s")
        if kind == "bool":
            if self.threshold is not None:
                raise ValueError("objective returns bool (in target or not); drop the threshold")
            return values.copy(), values.copy()
        values = values.astype(np.float64)
        nan = np.flatnonzero(np.isnan(values))
        if nan.size:
            raise ValueError(
                f"objective returned NaN for {nan.size} of {n} point(s): {_quote(points, nan)}"
            )
        if self.threshold is None:
            raise ValueError(
                "objective returns scores, not bools: pass threshold= (a number: in target "
                "when score > threshold, or a callable scores -> bools)"
            )
        return values, self.apply_threshold(values)

    def apply_threshold(self, scores: np.ndarray) -> np.ndarray:
        """(n,) bool: the target condition applied to (n,) scores."""
        if not callable(self.threshold):
            return scores > self.threshold
        verdict = np.asarray(self.threshold(scores))
        if verdict.shape != scores.shape or verdict.dtype != np.bool_:
            raise ValueError(
                f"threshold callable must return a bool array of shape {scores.shape}, "
                f"got {verdict.dtype} {verdict.shape}"
            )
        return verdict

    # -- the record ----------------------------------------------------------------------
    def points(self) -> np.ndarray:
        d = len(self.bounds)
        return np.concatenate(self._points) if self._points else np.zeros((0, d))

    def in_target(self) -> np.ndarray:
        return np.concatenate(self._in) if self._in else np.zeros(0, dtype=bool)

    def values(self) -> np.ndarray:
        return np.concatenate(self._values) if self._values else np.zeros(0)

    def result(
        self, method: str, stop_reason: str, info: dict[str, object] | None = None
    ) -> ScanResult:
        return ScanResult(
            points=self.points(),
            values=self.values(),
            in_target=self.in_target(),
            iteration=np.concatenate(self._iter) if self._iter else np.zeros(0, np.int64),
            origin=np.concatenate(self._origin) if self._origin else np.zeros(0, _ORIGIN_DTYPE),
            bounds=self.bounds.copy(),
            method=method,
            n_calls_budget=self.budget,
            stop_reason=stop_reason,
            info=dict(info or {}),
        )
