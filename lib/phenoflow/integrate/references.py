"""Reference integrators: VEGAS+ and classic VEGAS (``vegas``), plain MC and MadNIS.

Each runner takes the counted integrand ``F`` (see :class:`CountedIntegrand`), the
(d, 2) box, the budget and a seed, and returns a :class:`RefOutput`.  None of them
draws from global random state: vegas gets a ``ran_array_generator`` backed by a
seeded :class:`numpy.random.Generator`; MadNIS (torch) runs inside
``torch.random.fork_rng`` seeded from ``seed``, so the caller's torch state is untouched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import vegas

from phenoflow.integrate.result import CountedIntegrand

MIN_CALLS: dict[str, int] = {"vegas": 1000, "vegas_classic": 1000, "plain": 2, "madnis": 5000}


@dataclass(frozen=True)
class RefOutput:
    """Estimate of a reference method: mean, sdev, consistency (vegas) and extras."""

    mean: float
    sdev: float
    chi2_dof: float = math.nan
    Q: float = math.nan
    info: dict[str, Any] = field(default_factory=dict)


def vegas_batch(integ: vegas.Integrator, fn: Any) -> Any:
    """``fn`` as a vegas batch integrand, minus vegas's shape probe.

    Before integrating, vegas calls the integrand once at ``integ.xsample``, a point it
    draws from the global ``gvar.RNG``; answering that probe without calling ``fn``
    keeps results independent of global random state and the probe out of the budget.
    """

    @vegas.batchintegrand
    def batch(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.shape[0] == 1 and np.array_equal(x[0], np.asarray(integ.xsample)):
            return np.zeros(1)
        return fn(x)

    return batch


# The keyword options of each reference method (``integrate(..., **options)``).  The
# config validation reads this literal from the source, without importing the module
# (and torch), to reject unknown names before any job starts: keep it a plain literal.
OPTIONS: dict[str, tuple[str, ...]] = {
    "vegas": ("nitn_adapt", "nitn"),
    "vegas_classic": ("nitn_adapt", "nitn"),
    "plain": (),
    "madnis": ("train_frac", "batch_size", "learning_rate", "layers", "units", "bins"),
}


def _check_options(method: str, options: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"unknown {method} option(s) {unknown}; known: {sorted(known)}")


def run_vegas(
    F: CountedIntegrand,
    bounds: np.ndarray,
    n_calls: int,
    seed: int,
    beta: float = 0.75,
    nitn_adapt: int = 10,
    nitn: int = 10,
) -> RefOutput:
    """VEGAS+ (``beta > 0``) or classic VEGAS (``beta = 0``): ``nitn_adapt`` iterations
    to adapt (discarded), then ``nitn`` iterations whose weighted average is the result.

    Each iteration gets ``neval = n_calls // (nitn_adapt + nitn)``; vegas uses at most
    that many points per iteration, so the budget holds.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))

    def ran_array_generator(size: tuple[int, ...]) -> np.ndarray:
        return rng.random(size)

    neval = n_calls // (nitn_adapt + nitn)
    integ = vegas.Integrator(
        [tuple(b) for b in bounds], beta=beta, ran_array_generator=ran_array_generator
    )

    fbatch = vegas_batch(integ, F)

    if nitn_adapt > 0:
        integ(fbatch, nitn=nitn_adapt, neval=neval)
    result = integ(fbatch, nitn=nitn, neval=neval)
    dof = max(int(result.dof), 1)
    return RefOutput(
        mean=float(result.mean),
        sdev=float(result.sdev),
        chi2_dof=float(result.chi2) / dof,
        Q=float(result.Q),
        info={"neval": neval, "nitn_adapt": nitn_adapt, "nitn": nitn, "beta": beta},
    )


def run_plain(F: CountedIntegrand, bounds: np.ndarray, n_calls: int, seed: int) -> RefOutput:
    """Uniform Monte Carlo with all ``n_calls`` points (chunks of 2^18)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    low, width = bounds[:, 0], bounds[:, 1] - bounds[:, 0]
    volume = float(np.prod(width))
    s1 = s2 = 0.0
    for start in range(0, n_calls, 1 << 18):
        n = min(1 << 18, n_calls - start)
        fx = F(low + width * rng.random((n, len(bounds))))
        s1 += float(fx.sum())
        s2 += float(np.dot(fx, fx))
    mean = s1 / n_calls
    var = max(s2 / n_calls - mean * mean, 0.0) / max(n_calls - 1, 1)
    return RefOutput(mean=volume * mean, sdev=volume * math.sqrt(var))


def run_madnis(
    F: CountedIntegrand,
    bounds: np.ndarray,
    n_calls: int,
    seed: int,
    train_frac: float = 0.5,
    batch_size: int = 1024,
    learning_rate: float = 3e-3,
    layers: int = 2,
    units: int = 32,
    bins: int = 10,
) -> RefOutput:
    """MadNIS neural importance sampling (a normalising flow trained on |f|, KL loss).

    ``train_frac`` of the budget trains the flow (``batch_size`` calls per step); the
    rest is one fresh importance-sampled estimate with the trained flow (the training
    batches are not reused, so the estimate and its error are unbiased).
    """
    import torch
    from madnis.integrator import Integrator as MadnisIntegrator

    from phenoflow.integrate.classify import single_thread

    low = torch.tensor(bounds[:, 0], dtype=torch.float64)
    width = torch.tensor(bounds[:, 1] - bounds[:, 0], dtype=torch.float64)
    volume = float(torch.prod(width))
    train_budget = int(n_calls * train_frac)

    class _TrainingBudgetSpent(Exception):
        pass

    training = True

    def integrand(u: torch.Tensor) -> torch.Tensor:
        # a training step may draw extra batches (where f vanishes); refuse before
        # calling f once the training share is spent, so the final share stays whole
        if training and F.n_calls + len(u) > train_budget:
            raise _TrainingBudgetSpent
        x = (low + width * u.detach().to(torch.float64)).numpy()
        return torch.from_numpy(F(x) * volume).to(u.dtype)

    with torch.random.fork_rng(devices=[]), single_thread():
        torch.manual_seed(seed)
        integ = MadnisIntegrator(
            integrand,
            dims=len(bounds),
            batch_size=batch_size,
            learning_rate=learning_rate,
            flow_kwargs={"layers": layers, "units": units, "bins": bins},
            dtype=torch.float64,
        )
        losses = []
        try:
            while F.n_calls + batch_size <= train_budget:
                losses.append(float(integ.train_step().loss))
        except _TrainingBudgetSpent:
            pass
        training = False
        n_final = F.remaining
        if n_final < 2:
            raise ValueError(f"n_calls = {n_calls} leaves nothing for the MadNIS estimate")
        mean, sdev = integ.integrate(n_final, batch_size=min(n_final, 100_000))
    n_train_steps = len(losses)
    return RefOutput(
        mean=float(mean),
        sdev=float(sdev),
        info={"train_steps": n_train_steps, "final_points": n_final, "last_loss": losses[-1:]},
    )


def run(
    method: str,
    F: CountedIntegrand,
    bounds: np.ndarray,
    n_calls: int,
    seed: int,
    options: dict[str, Any],
) -> RefOutput:
    """Dispatch to the reference runner ``method`` with its keyword ``options``."""
    if method in OPTIONS:
        _check_options(method, options, set(OPTIONS[method]))
    if method == "vegas":
        return run_vegas(F, bounds, n_calls, seed, beta=0.75, **options)
    if method == "vegas_classic":
        return run_vegas(F, bounds, n_calls, seed, beta=0.0, **options)
    if method == "plain":
        return run_plain(F, bounds, n_calls, seed)
    if method == "madnis":
        return run_madnis(F, bounds, n_calls, seed, **options)
    raise ValueError(f"unknown method {method!r}")
