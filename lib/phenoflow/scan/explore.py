"""ML-guided exploration of a parameter space (MLscanner, Hammad et al., arXiv:2207.09959).

The loop, as in the paper:

1. evaluate a random initial sample (iteration 0);
2. train a small MLP on every evaluated point: a classifier (in target or not) or, with
   ``model="regressor"``, a regressor of the objective's score;
3. draw a fresh pool of random candidates (enlarged while it offers too few likely
   ones), score them with the network and pick the
   iteration's points from the pool (see *selection*), plus a random fraction drawn
   uniformly from the box; while in-target points are scarce, part of the iteration is
   made of SMOTE points synthesised on segments between in-target neighbours;
4. evaluate all of them with the real objective (one call per iteration, every point
   counts against ``n_calls``), retrain (warm start) and repeat until the budget, the
   wanted number of in-target points or the iteration limit is reached.

Selection from the pool (``selection=``):

``"top"``           the highest probabilities (the paper's ranking).  Efficient, but piles
                    proposals onto the regions the network is surest about.
``"proportional"``  sampling without replacement with weight p (Gumbel top-k).
``"balanced"``      (default) sampling among candidates with p >= ``min_probability``
                    with weight p x (local sparsity of the in-target points found so far):
                    the k-th-neighbour distance r_k to the found in-target points raised to
                    the power d, clipped to [1/3, 3] x its median.  Regions that are
                    predicted in target but still thinly populated (a newly found island)
                    get more proposals, so disconnected regions fill evenly.

With the regressor, the "probability" of a candidate is P(score passes the threshold)
(monotone in the predicted score for a number threshold, so ``selection="top"`` ranks
by the predicted score, as in the paper)
under a Gaussian error on the prediction whose width is the RMS residual of the network
on the points of the previous iteration (out of sample): Phi((pred - t) / sigma) for a
number threshold ``t``, a Monte-Carlo average of the predicate for a callable one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.special import ndtr

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
from phenoflow.scan.surrogate import MODEL_KINDS, Surrogate

log = logging.getLogger(__name__)

SELECTIONS = ("top", "proportional", "balanced")
_N_JITTER = 8  # Monte-Carlo draws for a callable threshold with the regressor
# the sparsity weight of "balanced" is clipped to [1/3, 3] x its median: enough to fill a
# thin region, not so much that a few far false positives take a whole iteration
_SPARSITY_CLIP = 3.0


@dataclass(frozen=True)
class IterationReport:
    """Progress after one iteration, passed to ``callback`` (and logged at INFO)."""

    iteration: int  # 0 = the initial sample
    n_calls: int  # objective calls used so far
    n_evaluated: int  # points evaluated in this iteration
    n_in_target_iteration: int  # of which in the target
    n_in_target: int  # in-target points found so far
    n_smote: int  # SMOTE points among this iteration's
    efficiency: float  # n_in_target_iteration / n_evaluated
    train_loss: float  # mean loss of the last training (NaN for iteration 0)
    seconds: float  # wall time of the iteration (training + proposal + evaluation)


@dataclass(frozen=True)
class ScanOptions:
    """Options of :func:`explore` (all keyword arguments of it except the first four)."""

    # target: for objectives returning scores, in target = score > threshold (a number)
    # or threshold(scores) (a callable (n,) -> (n,) bool); None for boolean objectives
    threshold: Threshold = None
    n_initial: int = 1000  # random points of iteration 0
    n_per_iteration: int = 500  # points evaluated per later iteration
    n_pool: int = 50_000  # fresh random candidates scored by the network per iteration
    max_pool: int = 1_000_000  # more batches of n_pool are drawn (up to this many in all)
    # while fewer than pool_factor x the wanted points have p >= min_probability
    pool_factor: float = 4.0
    random_fraction: float = 0.05  # share of each iteration drawn uniformly from the box
    selection: str = "balanced"  # "top" | "proportional" | "balanced" (module docstring)
    min_probability: float = 0.8  # "balanced": candidates below are used only to fill up
    density_neighbors: int = 5  # "balanced": k of the k-th-neighbour sparsity
    smote: bool = True  # SMOTE proposals while in-target points are scarce
    smote_k_neighbors: int = 5  # SMOTE's k (reduced when fewer in-target points exist)
    smote_fraction: float = 0.5  # share of an iteration's proposals made by SMOTE
    smote_until: int | None = None  # "scarce": fewer in-target points than this
    # (None: n_per_iteration)
    model: str = "classifier"  # "classifier" | "regressor" (needs a score objective)
    hidden: tuple[int, ...] = (64, 64)  # MLP hidden widths
    fourier_features: int = 32  # random Fourier input features (0: raw coordinates)
    fourier_scale: float = 1.0  # their frequency spread (1: wavelengths ~ box width)
    learning_rate: float = 3e-3  # Adam
    batch_size: int = 512
    train_steps: int = 400  # Adam steps per iteration (warm start)
    max_class_weight: float = 10.0  # cap of the class-balancing weight ratio
    target_count: int | None = None  # stop once this many in-target points are found
    max_iterations: int | None = None  # stop after this many iterations after the first
    callback: Callable[[IterationReport], Any] | None = None
    num_threads: int | None = 1  # torch CPU threads during the scan (None: leave as is)

    def __post_init__(self) -> None:
        def positive(name: str) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"option {name} must be a positive int, got {value!r}")

        for name in ("n_initial", "n_per_iteration", "n_pool", "batch_size", "train_steps"):
            positive(name)
        for name in ("density_neighbors", "smote_k_neighbors"):
            positive(name)
        for name in ("target_count", "max_iterations", "smote_until", "num_threads"):
            if getattr(self, name) is not None:
                positive(name)
        for name in ("random_fraction", "smote_fraction", "min_probability"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"option {name} must lie in [0, 1], got {value!r}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"option selection={self.selection!r}; expected one of {SELECTIONS}")
        if self.model not in MODEL_KINDS:
            raise ValueError(f"option model={self.model!r}; expected one of {MODEL_KINDS}")
        if self.model == "regressor" and self.threshold is None:
            raise ValueError(
                "model='regressor' needs an objective returning scores and a threshold"
            )
        positive("max_pool")
        if self.max_pool < self.n_pool or not self.pool_factor >= 1.0:
            raise ValueError("options need max_pool >= n_pool and pool_factor >= 1")
        if self.n_pool < self.n_per_iteration:
            raise ValueError(
                f"option n_pool={self.n_pool} must be >= n_per_iteration={self.n_per_iteration}"
            )
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ValueError(f"option hidden must be positive widths, got {self.hidden!r}")
        ff = self.fourier_features
        if isinstance(ff, bool) or not isinstance(ff, int) or ff < 0:
            raise ValueError(f"option fourier_features must be an int >= 0, got {ff!r}")
        if not (math.isfinite(self.fourier_scale) and self.fourier_scale > 0):
            raise ValueError(
                f"option fourier_scale must be finite and > 0, got {self.fourier_scale!r}"
            )
        if not (self.learning_rate > 0 and self.max_class_weight >= 1):
            raise ValueError("options learning_rate must be > 0 and max_class_weight >= 1")
        if self.callback is not None and not callable(self.callback):
            raise TypeError("option callback must be callable")


def make_options(**options: Any) -> ScanOptions:
    """:class:`ScanOptions` from keywords; unknown names raise TypeError listing the valid."""
    known = {f.name for f in dataclasses.fields(ScanOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unknown option(s) {unknown}; valid options: {sorted(known)}")
    if "hidden" in options:
        try:
            options["hidden"] = tuple(int(h) for h in options["hidden"])
        except (TypeError, ValueError):
            raise ValueError(
                f"option hidden must be a sequence of positive widths, got {options['hidden']!r}"
            ) from None
    return ScanOptions(**options)


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch CPU threads, restoring the previous number after."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def explore(
    objective: Objective,
    bounds: Any,
    n_calls: int,
    seed: int = 0,
    **options: Any,
) -> ScanResult:
    """Collect points of the target region of ``objective`` inside the box ``bounds``.

    ``objective`` maps (n, d) float64 parameters to (n,) bool (in target) or (n,) scores
    with ``threshold=`` (see :class:`ScanOptions`); ``bounds`` is (d, 2) [low, high];
    ``n_calls`` is the most points the objective will ever see.  ``seed`` fixes every
    random choice (same seed, same scan, bit for bit on the same machine); it must be a
    non-negative int.  ``options`` are the fields of :class:`ScanOptions`.  The objective
    gets its own copy of the points (it may modify them).

    Raises ValueError for bad bounds, budget, seed or option values and for an objective
    returning NaN or a wrong shape, TypeError for unknown options;
    :class:`~phenoflow.scan.evaluation.ObjectiveError` (naming the points) when the
    objective raises, with every point evaluated before in its ``partial`` result.
    """
    opts = make_options(**options)
    box = check_bounds(bounds)
    budget = check_budget(n_calls)
    rng = np.random.default_rng(check_seed(seed))
    generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
    with torch_threads(opts.num_threads):
        return _run(objective, box, budget, opts, rng, generator)


@dataclass
class _Learner:
    """The surrogate of a scan (built at the first in-target point) and its error estimate."""

    box: np.ndarray
    opts: ScanOptions
    generator: torch.Generator
    surrogate: Surrogate | None = None
    sigma: float = math.nan  # regressor: out-of-sample RMS residual
    last_new: int = 0  # number of points evaluated in the previous iteration

    def learn(self, ev: Evaluator, x_all: np.ndarray, in_all: np.ndarray) -> float:
        """(Re)train the surrogate on every point so far; returns its loss (NaN: none)."""
        opts = self.opts
        # a classifier needs an in-target example; a regressor learns from any scores
        if not (ev.n_in_target > 0 or opts.model == "regressor"):
            return math.nan
        if self.surrogate is None:
            self.surrogate = Surrogate(
                opts.model,
                self.box,
                opts.hidden,
                opts.learning_rate,
                opts.batch_size,
                opts.train_steps,
                opts.max_class_weight,
                self.generator,
                opts.fourier_features,
                opts.fourier_scale,
            )
        if opts.model != "regressor":
            return self.surrogate.fit(x_all, in_all)
        surrogate = self.surrogate
        values = ev.values()
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValueError(
                f"model='regressor' needs finite scores; the objective returned "
                f"{values[bad[0]]} at {x_all[bad[0]].tolist()} ({bad.size} such points)"
            )
        last_new = self.last_new
        if last_new and not math.isnan(surrogate.last_loss):  # trained before
            resid = surrogate.predict(x_all[-last_new:]) - values[-last_new:]
            self.sigma = float(np.sqrt(np.mean(resid**2)))
        loss = surrogate.fit(x_all, values)
        if math.isnan(self.sigma):  # no out-of-sample residual yet: use the training one
            self.sigma = float(np.sqrt(np.mean((surrogate.predict(x_all) - values) ** 2)))
        return loss


def _next_batch(
    learner: _Learner,
    ev: Evaluator,
    x_all: np.ndarray,
    in_all: np.ndarray,
    n_it: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """The points of the next iteration and their origins ("model", "smote", "random")."""
    opts, box = learner.opts, learner.box
    if learner.surrogate is None:  # nothing in target yet: nothing to learn, keep sampling
        return uniform(rng, box, n_it), np.full(n_it, "random")
    smote_until = opts.n_per_iteration if opts.smote_until is None else opts.smote_until
    n_rand = round(opts.random_fraction * n_it)
    smote_pts = np.zeros((0, len(box)))
    if opts.smote and ev.n_in_target < smote_until:
        n_smote = round(opts.smote_fraction * (n_it - n_rand))
        smote_pts = smote_proposals(x_all, in_all, box, n_smote, opts.smote_k_neighbors, rng)
    n_model = n_it - n_rand - len(smote_pts)
    pool, prob = _candidates(learner.surrogate, box, ev, learner.sigma, n_model, opts, rng)
    chosen = select(
        prob,
        n_model,
        opts.selection,
        rng,
        candidates=pool,
        found=x_all[in_all],
        bounds=box,
        min_probability=opts.min_probability,
        k=opts.density_neighbors,
    )
    batch = np.concatenate([pool[chosen], smote_pts, uniform(rng, box, n_rand)])
    origin = np.array(["model"] * len(chosen) + ["smote"] * len(smote_pts) + ["random"] * n_rand)
    return batch, origin


def _stop_reason(ev: Evaluator, opts: ScanOptions, iteration: int) -> str | None:
    """Why the scan stops before the next iteration, or None to go on."""
    if ev.remaining <= 0:
        if opts.target_count is not None and ev.n_in_target >= opts.target_count:
            return "target_count"
        return "budget"
    if opts.target_count is not None and ev.n_in_target >= opts.target_count:
        return "target_count"
    if opts.max_iterations is not None and iteration >= opts.max_iterations:
        return "max_iterations"
    return None


def _run(
    objective: Objective,
    box: np.ndarray,
    budget: int,
    opts: ScanOptions,
    rng: np.random.Generator,
    generator: torch.Generator,
) -> ScanResult:
    ev = Evaluator(objective, box, budget, opts.threshold, method="mlscan")
    t0 = time.perf_counter()
    ev(uniform(rng, box, min(opts.n_initial, budget)), 0, "initial")
    _report(opts, ev, 0, 0, math.nan, t0)
    learner = _Learner(box, opts, generator)
    iteration = 0
    while (stop := _stop_reason(ev, opts, iteration)) is None:
        iteration += 1
        t0 = time.perf_counter()
        x_all, in_all = ev.points(), ev.in_target()
        n_it = min(opts.n_per_iteration, ev.remaining)
        loss = learner.learn(ev, x_all, in_all)
        batch, origin = _next_batch(learner, ev, x_all, in_all, n_it, rng)
        ev(batch, iteration, origin)
        learner.last_new = len(batch)
        _report(opts, ev, iteration, int(np.count_nonzero(origin == "smote")), loss, t0)
    info: dict[str, object] = {"options": _plain_options(opts)}
    return ev.result("mlscan", stop, info)


def _plain_options(opts: ScanOptions) -> dict[str, object]:
    """The options as plain values (callables by name), for the result's ``info``."""
    out: dict[str, object] = {}
    for f in dataclasses.fields(opts):
        value = getattr(opts, f.name)
        out[f.name] = getattr(value, "__qualname__", repr(value)) if callable(value) else value
    return out


def _candidates(
    surrogate: Surrogate,
    box: np.ndarray,
    ev: Evaluator,
    sigma: float,
    n_wanted: int,
    opts: ScanOptions,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """(N, d) uniform candidates and their (N,) probabilities.

    Batches of ``n_pool`` are drawn until ``pool_factor * n_wanted`` of them reach
    ``min_probability`` or ``max_pool`` are drawn: a rare target needs a bigger pool
    than a common one to offer enough likely candidates, and the pool stays uniform.
    """
    pools, probs, n_good = [], [], 0
    while True:
        pool = uniform(rng, box, opts.n_pool)
        prob = _probability(surrogate, pool, ev, sigma, rng)
        pools.append(pool)
        probs.append(prob)
        n_good += int(np.count_nonzero(prob >= opts.min_probability))
        if (
            n_good >= opts.pool_factor * n_wanted
            or len(pools) * opts.n_pool + opts.n_pool > opts.max_pool
        ):
            return np.concatenate(pools), np.concatenate(probs)


def _probability(
    surrogate: Surrogate,
    pool: np.ndarray,
    ev: Evaluator,
    sigma: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """(n_pool,) estimated probability that each candidate is in the target."""
    pred = surrogate.predict(pool)
    if surrogate.kind == "classifier":
        return pred
    sigma = max(sigma, 1e-12)
    if not callable(ev.threshold):
        assert ev.threshold is not None  # a regressor scan always has one (ScanOptions)
        return ndtr((pred - float(ev.threshold)) / sigma)
    jitter = pred[None, :] + sigma * rng.standard_normal((_N_JITTER, len(pred)))
    hits = [ev.apply_threshold(row) for row in jitter]
    return np.mean(hits, axis=0)


def select(
    prob: np.ndarray,
    n: int,
    selection: str,
    rng: np.random.Generator,
    *,
    candidates: np.ndarray | None = None,
    found: np.ndarray | None = None,
    bounds: np.ndarray | None = None,
    min_probability: float = 0.5,
    k: int = 5,
) -> np.ndarray:
    """Indices of ``n`` distinct candidates chosen from their (N,) probabilities ``prob``.

    ``"balanced"`` also needs the (N, d) ``candidates``, the (m, d) in-target points
    ``found`` so far and the (d, 2) ``bounds`` (distances are measured in the box
    normalised to [0, 1]^d).
    """
    n = min(n, len(prob))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if selection == "top":
        return np.argsort(-prob, kind="stable")[:n]
    if selection == "proportional":
        return _gumbel_top_k(prob, n, rng)
    if selection != "balanced":
        raise ValueError(f"selection={selection!r}; expected one of {SELECTIONS}")
    if candidates is None or found is None or bounds is None:
        raise ValueError("selection='balanced' needs candidates, found and bounds")
    eligible = np.flatnonzero(prob >= min_probability)
    if len(eligible) <= n:  # too few confident candidates: take them all, fill by rank
        rest = np.setdiff1d(np.argsort(-prob, kind="stable")[: n + len(eligible)], eligible)
        return np.concatenate([eligible, rest[: n - len(eligible)]])
    weight = prob[eligible]
    if len(found) > 0:
        scale = bounds[:, 1] - bounds[:, 0]
        tree = cKDTree((found - bounds[:, 0]) / scale)
        kk = min(k, len(found))
        dist, _ = tree.query((candidates[eligible] - bounds[:, 0]) / scale, k=kk)
        r_k = dist if kk == 1 else np.asarray(dist)[:, -1]
        sparsity = r_k ** candidates.shape[1]
        med = np.median(sparsity)
        if med > 0:
            weight = weight * np.clip(sparsity / med, 1 / _SPARSITY_CLIP, _SPARSITY_CLIP)
    return eligible[_gumbel_top_k(weight, n, rng)]


def _gumbel_top_k(weight: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` indices drawn without replacement with probability proportional to ``weight``."""
    with np.errstate(divide="ignore"):
        keys = np.log(np.clip(weight, 0.0, None)) + rng.gumbel(size=len(weight))
    return np.argsort(-keys, kind="stable")[:n]


def smote_proposals(
    points: np.ndarray,
    in_target: np.ndarray,
    bounds: np.ndarray,
    n: int,
    k_neighbors: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """(m, d) SMOTE points, m <= n, on segments between in-target neighbours.

    Uses ``imblearn.over_sampling.SMOTE`` on the parameters normalised to the box (so
    that no dimension dominates the neighbour search): each new point is
    a + u (b - a) with a an in-target point, b one of its ``k_neighbors`` nearest
    in-target points and u uniform in [0, 1).  Returns no points when fewer than two
    in-target or no out-of-target points exist.  The points are only *proposals*: the
    caller evaluates them before counting them as in target.
    """
    from imblearn.over_sampling import SMOTE

    d = points.shape[1]
    n_pos = int(np.count_nonzero(in_target))
    if n <= 0 or n_pos < 2 or n_pos == len(in_target):
        return np.zeros((0, d))
    scale = bounds[:, 1] - bounds[:, 0]
    x_norm = (points - bounds[:, 0]) / scale
    y = in_target.astype(np.int64)
    sampler = SMOTE(
        sampling_strategy={1: n_pos + n},
        k_neighbors=min(k_neighbors, n_pos - 1),
        random_state=int(rng.integers(2**31 - 1)),
    )
    x_res, _ = sampler.fit_resample(x_norm, y)
    new = np.asarray(x_res[len(x_norm) :], dtype=np.float64)
    return np.clip(bounds[:, 0] + new * scale, bounds[:, 0], bounds[:, 1])


def _report(
    opts: ScanOptions, ev: Evaluator, iteration: int, n_smote: int, loss: float, t0: float
) -> None:
    n_new, hits = ev.last_n, ev.last_hits
    report = IterationReport(
        iteration=iteration,
        n_calls=ev.n_used,
        n_evaluated=n_new,
        n_in_target_iteration=hits,
        n_in_target=ev.n_in_target,
        n_smote=n_smote,
        efficiency=hits / n_new if n_new else math.nan,
        train_loss=loss,
        seconds=time.perf_counter() - t0,
    )
    log.info(
        "iteration %d: %d calls, efficiency %.3f (%d/%d), %d in target%s",
        iteration,
        report.n_calls,
        report.efficiency,
        hits,
        n_new,
        report.n_in_target,
        f", {n_smote} SMOTE" if n_smote else "",
    )
    if opts.callback is not None:
        opts.callback(report)
