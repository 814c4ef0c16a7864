"""Monte Carlo integrators with one interface: ``integrate(f, bounds, n_calls, method)``.

Methods
    ``"lestrat"``        level-set classification + per-stratum adaptive importance
                         sampling (:mod:`phenoflow.integrate.lestrat`); its result's
                         ``model`` generates unweighted events.
    ``"vegas"``          VEGAS+ from the ``vegas`` package (10 adapt + 10 final iterations).
    ``"vegas_classic"``  the same with ``beta=0`` (no adaptive stratification).
    ``"plain"``          uniform Monte Carlo.
    ``"madnis"``         flow-based neural importance sampling with ``madnis``.

``f`` maps an (n, d) float64 array to (n,) values; ``bounds`` is d pairs (low, high);
``n_calls`` is the total number of integrand evaluations allowed (training and
adaptation included) and is never exceeded.  Same ``seed`` -> same result.

``f`` always gets a fresh copy of the points, so it may modify its argument in place.
Integrands of any overall size work: when the largest |f| of the first batch is
outside :data:`~phenoflow.integrate.result.SAFE_RANGE` (about 1e-38 to 1e38) the
methods integrate ``f / 2^k`` and the result is multiplied back (exact: a power of two).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from phenoflow.integrate import references
from phenoflow.integrate.lestrat import MIN_CALLS, LeStratOptions, lestrat_integrate, options_from
from phenoflow.integrate.model import Events, LeStratModel
from phenoflow.integrate.result import (
    BudgetExceededError,
    CountedIntegrand,
    Integrand,
    IntegrandError,
    Result,
    ScaleError,
    check_bounds,
    check_budget,
)

METHODS: tuple[str, ...] = ("lestrat", "vegas", "vegas_classic", "plain", "madnis")
SEED_LIMIT = 2**64  # seeds are ints in [0, SEED_LIMIT) (what torch's generators accept)


def check_seed(seed: Any) -> int:
    """Validate ``seed``: an int (not bool) in [0, 2^64); ``ValueError`` naming it otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= int(seed) < SEED_LIMIT:
        raise ValueError(f"seed must be an int in [0, 2**64), got {int(seed)}")
    return int(seed)


def integrate(
    f: Integrand,
    bounds: Sequence[Sequence[float]] | np.ndarray,
    n_calls: int,
    method: str = "lestrat",
    seed: int = 0,
    **options: Any,
) -> Result:
    """Integrate ``f`` over the box ``bounds`` with at most ``n_calls`` evaluations.

    ``f``        vectorised integrand: (n, d) float64 -> (n,) real values ((n, 1) is
                 accepted too); it gets its own copy of the points and may modify it.
    ``bounds``   d pairs (low, high), finite, low < high.
    ``n_calls``  budget of integrand evaluations (every point passed to f counts).
    ``method``   one of :data:`METHODS`.
    ``seed``     an int in [0, 2^64); seeds every random number of the method.
    ``options``  method-specific keyword options (see each method).

    Raises ``ValueError`` for bad bounds, budget, seed, method or options,
    :class:`IntegrandError` when f returns non-finite values or a wrong shape,
    :class:`ScaleError` when the values of f span more than float64 arithmetic holds.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {list(METHODS)}")
    box = check_bounds(bounds)
    seed = check_seed(seed)
    minimum = MIN_CALLS if method == "lestrat" else references.MIN_CALLS[method]
    budget = check_budget(n_calls, minimum, method)
    if not callable(f):
        raise ValueError(f"f must be callable, got {type(f).__name__}")
    F = CountedIntegrand(f, len(box), budget)
    t0 = time.perf_counter()
    if method == "lestrat":
        opts = options_from(options)
        mean, sdev, model, info = lestrat_integrate(F, f, box, budget, seed, opts)
        mean, sdev = F.unscale(mean, sdev)
        return Result(
            mean=mean,
            sdev=sdev,
            n_calls=F.n_calls,
            n_calls_budget=budget,
            wall_s=time.perf_counter() - t0,
            method=method,
            seed=seed,
            n_classes=model.classes.n_classes,
            model=model,
            info=info,
        )
    out = references.run(method, F, box, budget, seed, options)
    mean, sdev = F.unscale(out.mean, out.sdev)
    return Result(
        mean=mean,
        sdev=sdev,
        n_calls=F.n_calls,
        n_calls_budget=budget,
        wall_s=time.perf_counter() - t0,
        method=method,
        seed=int(seed),
        chi2_dof=out.chi2_dof,
        Q=out.Q,
        info=out.info,
    )


__all__ = [
    "METHODS",
    "BudgetExceededError",
    "Events",
    "IntegrandError",
    "LeStratModel",
    "LeStratOptions",
    "Result",
    "ScaleError",
    "integrate",
]
