"""Baselines on the same budget as :func:`phenoflow.scan.explore`: uniform sampling and MCMC.

Both return a :class:`~phenoflow.scan.result.ScanResult` whose every point was passed
to the objective, so efficiencies, calls-to-N and coverage compare one to one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from phenoflow.scan.evaluation import (
    Evaluator,
    Objective,
    Threshold,
    check_bounds,
    check_budget,
    check_seed,
    uniform,
)
from phenoflow.scan.result import ScanResult


def random_scan(
    objective: Objective,
    bounds: Any,
    n_calls: int,
    seed: int = 0,
    *,
    threshold: Threshold = None,
    batch_size: int = 500,
    target_count: int | None = None,
) -> ScanResult:
    """Uniform random points in the box ``bounds`` (d, 2), ``batch_size`` per iteration.

    Iteration i holds calls [i * batch_size, (i + 1) * batch_size).  Stops when the
    budget is used or ``target_count`` in-target points are found (after that batch).
    """
    box, budget = check_bounds(bounds), check_budget(n_calls)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rng = np.random.default_rng(check_seed(seed))
    ev = Evaluator(objective, box, budget, threshold, method="random")
    iteration, stop = 0, "budget"
    while ev.remaining > 0:
        if target_count is not None and ev.n_in_target >= target_count:
            stop = "target_count"
            break
        ev(uniform(rng, box, min(batch_size, ev.remaining)), iteration, "uniform")
        iteration += 1
    return ev.result("random", stop)


def mcmc_scan(
    objective: Objective,
    bounds: Any,
    n_calls: int,
    seed: int = 0,
    *,
    threshold: Threshold = None,
    log_density: Callable[[np.ndarray], np.ndarray] | None = None,
    n_chains: int = 20,
    burn_in: int = 100,
    target_acceptance: float = 0.3,
    initial_step: float = 0.1,
    steps_per_iteration: int = 25,
) -> ScanResult:
    """Metropolis-Hastings on the likelihood: ``n_chains`` parallel chains in the box.

    The chains sample exp(``log_density(score)``) times a flat prior on the box; the
    default ``log_density`` is log(score), i.e. the objective returns the likelihood
    (use ``-chi2 / 2`` for a chi-square objective).  Each chain starts at a uniform
    random point.  Proposals are Gaussian with a per-chain step (a fraction of the box
    width per dimension, starting at ``initial_step``); proposals outside the box are
    rejected without calling the objective.  During the first ``burn_in`` steps of each
    chain the step is tuned every 10 steps toward ``target_acceptance`` (log step +=
    acceptance - target); after burn-in it is frozen.  Every evaluation - burn-in
    included - counts against ``n_calls`` and is kept in the result (origin "mcmc";
    ``info["burn_in"]`` (n,) marks burn-in points).  An iteration is
    ``steps_per_iteration`` steps of all chains.  ``info`` also holds the final steps
    and the post-burn-in acceptance rate of each chain.
    """
    box, budget = check_bounds(bounds), check_budget(n_calls)
    if n_chains < 1 or burn_in < 0 or steps_per_iteration < 1:
        raise ValueError("need n_chains >= 1, burn_in >= 0 and steps_per_iteration >= 1")
    if not 0.0 < target_acceptance < 1.0 or not initial_step > 0:
        raise ValueError("need 0 < target_acceptance < 1 and initial_step > 0")
    logp_of = log_density if log_density is not None else _log
    rng = np.random.default_rng(check_seed(seed))
    ev = Evaluator(objective, box, budget, threshold, method="mcmc")
    chains = _Chains.start(ev, rng, box, min(n_chains, budget), logp_of, initial_step)
    t = 0
    while ev.remaining > 0:
        t += 1
        accept = chains.move(ev, rng, t, 1 + (t - 1) // steps_per_iteration, burn_in)
        chains.tune(accept, t, burn_in, target_acceptance)
    info: dict[str, object] = {
        "burn_in": np.concatenate(chains.burn_flags),
        "step": chains.step.copy(),
        "acceptance": np.where(
            chains.tried > 0, chains.accepted / np.maximum(chains.tried, 1), math.nan
        ),
    }
    return ev.result("mcmc", "budget", info)


@dataclass
class _Chains:
    """The state of the parallel Metropolis-Hastings chains of :func:`mcmc_scan`."""

    box: np.ndarray
    logp_of: Callable[[np.ndarray], np.ndarray]
    current: np.ndarray  # (n_chains, d) positions
    logp: np.ndarray  # (n_chains,) log density there
    step: np.ndarray  # (n_chains,) step, as a fraction of the box width
    accepted: np.ndarray  # after burn-in
    tried: np.ndarray
    window_acc: np.ndarray  # during burn-in, since the last tuning
    window_try: np.ndarray
    burn_flags: list[np.ndarray]  # per evaluated batch: which points are burn-in

    @classmethod
    def start(
        cls,
        ev: Evaluator,
        rng: np.random.Generator,
        box: np.ndarray,
        n0: int,
        logp_of: Callable[[np.ndarray], np.ndarray],
        initial_step: float,
    ) -> _Chains:
        """n0 chains at uniform random points (evaluated: iteration 0)."""
        current = uniform(rng, box, n0)
        ev(current, 0, "mcmc")
        logp = _checked_logp(logp_of, ev.values()[-n0:])
        return cls(
            box,
            logp_of,
            current,
            logp,
            np.full(n0, initial_step),
            accepted=np.zeros(n0),
            tried=np.zeros(n0),
            window_acc=np.zeros(n0),
            window_try=np.zeros(n0),
            burn_flags=[np.ones(n0, dtype=bool)],
        )

    def move(
        self, ev: Evaluator, rng: np.random.Generator, t: int, iteration: int, burn_in: int
    ) -> np.ndarray:
        """Step t of every chain: propose, evaluate those inside the box, accept; (n0,) bool."""
        box, n0 = self.box, len(self.current)
        width = box[:, 1] - box[:, 0]
        proposal = self.current + rng.standard_normal((n0, len(box))) * self.step[:, None] * width
        inside = np.all((proposal >= box[:, 0]) & (proposal <= box[:, 1]), axis=1)
        idx = np.flatnonzero(inside)[: ev.remaining]
        u = rng.random(n0)  # drawn for every chain so the stream does not depend on idx
        accept = np.zeros(n0, dtype=bool)
        if len(idx):
            ev(proposal[idx], iteration, "mcmc")
            new_logp = _checked_logp(self.logp_of, ev.values()[-len(idx) :])
            with np.errstate(invalid="ignore"):
                ok = np.log(u[idx]) < new_logp - self.logp[idx]
            # a chain at zero likelihood (e.g. outside a boolean target) random-walks
            # until it finds a non-zero one
            ok |= np.isneginf(self.logp[idx])
            accept[idx] = ok
            self.current[idx[ok]] = proposal[idx[ok]]
            self.logp[idx[ok]] = new_logp[ok]
            self.burn_flags.append(np.full(len(idx), t <= burn_in))
        return accept

    def tune(self, accept: np.ndarray, t: int, burn_in: int, target_acceptance: float) -> None:
        """Count acceptances; during burn-in retune the steps every 10 steps."""
        if t <= burn_in:
            self.window_acc += accept
            self.window_try += 1
            if t % 10 == 0 or t == burn_in:
                self.step *= np.exp(self.window_acc / self.window_try - target_acceptance)
                self.step = np.clip(self.step, 1e-6, 1.0)
                self.window_acc[:] = 0
                self.window_try[:] = 0
        else:
            self.accepted += accept
            self.tried += 1


def _log(scores: np.ndarray) -> np.ndarray:
    if np.any(scores < 0):
        raise ValueError(
            "MCMC's default log_density is log(score): the objective must return a "
            "likelihood >= 0; pass log_density= for other scores (e.g. -chi2 / 2)"
        )
    with np.errstate(divide="ignore"):
        return np.log(scores)


def _checked_logp(
    log_density: Callable[[np.ndarray], np.ndarray], scores: np.ndarray
) -> np.ndarray:
    logp = np.asarray(log_density(scores), dtype=np.float64)
    if logp.shape != scores.shape:
        raise ValueError(f"log_density must return shape {scores.shape}, got {logp.shape}")
    if np.any(np.isnan(logp)) or np.any(logp == np.inf):
        raise ValueError("log_density returned NaN or +inf")
    return logp
