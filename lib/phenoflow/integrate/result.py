"""What every integrator returns, the call-counting wrapper and input validation.

Every method of :func:`phenoflow.integrate.integrate` sees the user's integrand only
through a :class:`CountedIntegrand`: it checks shapes and finiteness of what ``f``
returns, counts every point passed to ``f`` and refuses to go past the budget, so
``Result.n_calls`` is exact and never larger than the ``n_calls`` asked for.  ``f``
gets its own copy of the points (it may modify them in place), and values far outside
the range of ordinary float64 arithmetic are rescaled by a power of two (see
:data:`SAFE_RANGE`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Integrand = Callable[[np.ndarray], np.ndarray]

# Integrands whose largest |f| on the first batch with a nonzero value lies in this range
# are integrated as they are.  Outside it, squares of f (variances, VEGAS's map
# adaptation) under- or overflow float64: the methods see f / scale instead, with
# ``scale`` the power of two nearest below that largest |f|, which divides every value
# exactly, and the results are multiplied back.
SAFE_RANGE: tuple[float, float] = (2.0**-128, 2.0**128)


class IntegrandError(ValueError):
    """The integrand returned something unusable (NaN/inf values or a wrong shape)."""


class ScaleError(ArithmeticError):
    """The integrand's values span more than float64 arithmetic can integrate.

    Raised when an integrator's own numbers over- or underflow although ``f`` returned
    finite values (e.g. a peak of 1e300 next to values of 1e-300): divide ``f`` by a
    constant of the size of its typical values, or split the domain.
    """


class BudgetExceededError(RuntimeError):
    """An integrator tried to evaluate more points than its ``n_calls`` budget (a bug)."""


@dataclass(frozen=True)
class Result:
    """Estimate of an integral over a box.

    ``mean``, ``sdev``  the estimate and its one-standard-deviation error.
    ``n_calls``         integrand evaluations actually used (<= the budget asked for).
    ``n_calls_budget``  the budget asked for.
    ``wall_s``          wall-clock seconds of the whole call.
    ``method``          ``"lestrat"``, ``"vegas"``, ``"vegas_classic"``, ``"plain"``, ``"madnis"``.
    ``seed``            the seed the result was computed with.
    ``chi2_dof``, ``Q`` consistency of the iterations (vegas-type methods; NaN otherwise).
    ``n_classes``       number of level-set classes learnt (lestrat; 0 otherwise).
    ``model``           for lestrat a :class:`phenoflow.integrate.model.LeStratModel`,
                        which can generate unweighted events; ``None`` otherwise.
    ``info``            method-specific extras (per-stratum numbers, timings, ...).
    """

    mean: float
    sdev: float
    n_calls: int
    n_calls_budget: int
    wall_s: float
    method: str
    seed: int
    chi2_dof: float = math.nan
    Q: float = math.nan
    n_classes: int = 0
    model: Any = field(default=None, repr=False, compare=False)
    info: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.n_calls > self.n_calls_budget:
            raise BudgetExceededError(
                f"{self.method}: {self.n_calls} integrand calls exceed the budget of "
                f"{self.n_calls_budget}"
            )

    def pull(self, exact: float) -> float:
        """(mean - exact) / sdev; 0 when both the error and the sdev vanish."""
        if self.sdev > 0:
            return (self.mean - exact) / self.sdev
        return 0.0 if self.mean == exact else math.copysign(math.inf, self.mean - exact)

    def __str__(self) -> str:
        return f"{self.method}: {self.mean:.6g} +- {self.sdev:.3g} ({self.n_calls} calls)"


def check_bounds(bounds: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """Validate ``bounds`` and return it as a (d, 2) float64 array of [low, high].

    Raises ``ValueError`` naming the problem: not d pairs, non-finite values, or a
    dimension with ``low >= high``.
    """
    try:
        arr = np.asarray(bounds, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"bounds must be a list of (low, high) pairs of numbers: {err}") from None
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 1:
        raise ValueError(
            f"bounds must be a list of d >= 1 (low, high) pairs, got an array of shape {arr.shape}"
        )
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"bounds[{i}] = {tuple(arr[i])} is not finite")
    empty = arr[:, 0] >= arr[:, 1]
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise ValueError(f"bounds[{i}] = {tuple(arr[i])} has low >= high")
    with np.errstate(over="ignore", under="ignore"):
        width = arr[:, 1] - arr[:, 0]
        volume = float(np.prod(width))
    wide = ~np.isfinite(width)
    if wide.any():
        i = int(np.flatnonzero(wide)[0])
        raise ValueError(f"bounds[{i}] = {tuple(arr[i])}: high - low overflows float64")
    if not (math.isfinite(volume) and volume > 0):
        raise ValueError(f"bounds: the box volume {volume} over- or underflows float64")
    return arr


def check_budget(n_calls: int, minimum: int, method: str) -> int:
    """Validate the call budget: an int >= ``minimum`` (the method's smallest useful budget)."""
    if isinstance(n_calls, bool) or not isinstance(n_calls, int | np.integer):
        raise ValueError(f"n_calls must be an int, got {type(n_calls).__name__}")
    if n_calls < minimum:
        raise ValueError(
            f"n_calls = {n_calls} is too small for method {method!r}: need >= {minimum}"
        )
    return int(n_calls)


class CountedIntegrand:
    """Wraps the user's ``f``: counts calls, enforces the budget, checks what ``f`` returns.

    Calling it with an (n, d) array evaluates ``f`` once on a fresh C-contiguous float64
    copy of the whole array (``f`` may modify it; the caller's points stay intact) and
    returns an (n,) float64 array of ``f / scale``.  ``f`` may return any real dtype and
    shape (n,), (n, 1) or (1, n).  It raises :class:`BudgetExceededError` *before*
    calling ``f`` if the n points would take the count past ``budget``,
    :class:`IntegrandError` if ``f`` returns a wrong shape or non-finite values (with the
    count and an example point) and :class:`ScaleError` if the integrator hands it
    non-finite points (its own arithmetic overflowed).

    ``scale`` is 1 unless the largest |f| of the first batch with a nonzero value lies
    outside :data:`SAFE_RANGE`; then it is the power of two nearest below that value,
    fixed for the rest of the run (batches before it were all zero, so they agree with
    any scale).  Integrals of the values returned are multiplied by ``scale``.
    """

    def __init__(self, f: Integrand, dim: int, budget: int) -> None:
        self.f = f
        self.dim = dim
        self.budget = budget
        self.n_calls = 0
        self.scale = 1.0
        self._scale_fixed = False
        self.max_abs = 0.0  # largest |f| returned so far (unscaled)

    @property
    def remaining(self) -> int:
        """Calls left in the budget."""
        return self.budget - self.n_calls

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        n = x.shape[0]
        if n == 0:
            return np.zeros(0)
        if self.n_calls + n > self.budget:
            raise BudgetExceededError(
                f"evaluating {n} more points would exceed the budget: "
                f"{self.n_calls} used of {self.budget}"
            )
        if not np.isfinite(x).all():
            raise ScaleError(
                f"the integrator produced non-finite points after f returned values up to "
                f"|f| = {self.max_abs:.3g} (internal scale {self.scale:.3g}): its arithmetic "
                f"overflowed; divide f by a constant of the size of its typical values, or "
                f"split the domain where f spans many orders of magnitude"
            )
        self.n_calls += n
        # a copy: f may modify its argument in place, and x is often the integrator's own
        # array (sample points it still needs)
        out = self.f(x.copy())
        try:
            values = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise IntegrandError(f"integrand returned a non-numeric value: {err}") from None
        if values.shape != (n,):
            if values.shape in ((n, 1), (1, n)):
                values = values.reshape(n)
            else:
                raise IntegrandError(
                    f"integrand must map an (n, d) = ({n}, {self.dim}) array to shape ({n},), "
                    f"got shape {values.shape}"
                )
        # a strided view (a column of a bigger array) would reach vegas's C code as it is
        values = np.ascontiguousarray(values)
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            point = ", ".join(f"{v:.6g}" for v in x[i])
            raise IntegrandError(
                f"integrand returned {int(bad.sum())} non-finite value(s) (NaN or inf) out of "
                f"{n} points; e.g. f([{point}]) = {values[i]}"
            )
        return self._rescaled(values)

    def _rescaled(self, values: np.ndarray) -> np.ndarray:
        """``values / scale``, fixing the scale at the first batch with a nonzero value."""
        peak = float(np.max(np.abs(values)))
        self.max_abs = max(self.max_abs, peak)
        if not self._scale_fixed and peak > 0:
            self._scale_fixed = True
            if not SAFE_RANGE[0] <= peak <= SAFE_RANGE[1]:
                # 2^(e-1) <= peak < 2^e: dividing by a power of two is exact
                self.scale = math.ldexp(1.0, math.frexp(peak)[1] - 1)
        if self.scale != 1.0:
            return values / self.scale
        return values

    def unscale(self, mean: float, sdev: float) -> tuple[float, float]:
        """An integral of the scaled values and its error, in units of ``f``.

        Raises :class:`ScaleError` when the product is not a finite float64.
        """
        mean, sdev = mean * self.scale, sdev * self.scale
        if not (math.isfinite(mean) and math.isfinite(sdev)):
            raise ScaleError(
                f"the integral ({mean} +- {sdev}) is not a finite float64 (|f| up to "
                f"{self.max_abs:.3g}); divide f by a constant and multiply the result back"
            )
        return mean, sdev
