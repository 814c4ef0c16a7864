"""The scan studies of the MLscanner paper (arXiv:2207.09959), as functions returning plain dicts.

* :func:`function_study` (:func:`paper_3d_study`): a test function scanned by the ML scanner (regressor on
  the observable O, as in the paper's regression method, and the classifier on
  in/out), by uniform random sampling and by MCMC on the same call budget; efficiency
  per iteration, coverage of the 13 cells, calls needed for N in-target points.
* :func:`smote_study`: with and without SMOTE on a rare target (< 1% of the box),
  over several seeds.

Both return JSON-serialisable dicts, so a workflow rule can write them out as they are.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from phenoflow.scan.baselines import mcmc_scan, random_scan
from phenoflow.scan.explore import explore
from phenoflow.scan.metrics import calls_to_reach, coverage
from phenoflow.scan.objectives import FUNCTION_3D, CosineLikelihood, rare_balls_target
from phenoflow.scan.result import ScanResult

# the settings of the 3D study: few exploratory random points and a high probability cut,
# since the aim is a high in-target fraction per iteration (random points hit only 3.3%)
PAPER_3D_OPTIONS: dict[str, Any] = {
    "n_initial": 1000,
    "n_per_iteration": 500,
    "n_pool": 50_000,
    "random_fraction": 0.02,
    "min_probability": 0.8,
}

# the SMOTE study: a rare target, a small first sample (a handful of hits) and SMOTE
# used while fewer than one iteration's worth of in-target points are known
SMOTE_OPTIONS: dict[str, Any] = {
    "n_initial": 600,
    "n_per_iteration": 200,
    "n_pool": 20_000,
    "train_steps": 200,
}


def _summary(result: ScanResult, f: CosineLikelihood | None, seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "method": result.method,
        "n_calls": result.n_calls,
        "n_in_target": result.n_in_target,
        "efficiency_overall": result.n_in_target / max(result.n_calls, 1),
        "efficiency_per_iteration": [round(float(e), 4) for e in result.efficiency],
        "seconds": round(seconds, 2),
    }
    if f is not None:
        cov = coverage(f, result)
        out |= {
            "cell_counts": cov.counts.tolist(),
            "cells_found": cov.n_found,
            "n_cells": cov.n_cells,
            "max_abs_deviation": cov.max_abs_deviation,
            "deviation_min": float(np.min(cov.deviation)) if cov.n_found else float("nan"),
            "deviation_max": float(np.max(cov.deviation)) if cov.n_found else float("nan"),
        }
    return out


def function_study(
    f: CosineLikelihood,
    n_calls: int = 10_000,
    seed: int = 0,
    classifier: bool = True,
    options: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, ScanResult]]:
    """Scan a cosine test function with each method on ``n_calls`` objective calls.

    Methods: ``"ml_regressor"`` (regressor of O, target L(O) > 0.9, as in the paper's
    regression method), ``"ml_classifier"`` (classifier of L > 0.9; skipped with
    ``classifier=False``), ``"random"`` and ``"mcmc"`` (Metropolis-Hastings on L).
    For every method: the summary of :func:`_summary` plus ``random_calls_for_same`` =
    calls a uniform scan needed for the same number of in-target points (measured with
    a uniform scan of enough calls) and ``gain`` = that / n_calls.
    Returns (JSON-serialisable study, {method: ScanResult}).
    """
    opts = {**PAPER_3D_OPTIONS, **(options or {})}
    results: dict[str, Any] = {"n_calls": n_calls, "seed": seed, "options": opts}
    runs: list[tuple[str, Any]] = [
        (
            "ml_regressor",
            lambda: explore(
                f.observable,
                f.bounds,
                n_calls,
                seed,
                threshold=f.observable_in_target,
                model="regressor",
                **opts,
            ),
        ),
    ]
    if classifier:
        runs.append(
            (
                "ml_classifier",
                lambda: explore(f, f.bounds, n_calls, seed, threshold=f.threshold, **opts),
            )
        )
    runs += [
        ("random", lambda: random_scan(f, f.bounds, n_calls, seed, threshold=f.threshold)),
        ("mcmc", lambda: mcmc_scan(f, f.bounds, n_calls, seed, threshold=f.threshold)),
    ]
    summaries, scans = {}, {}
    for name, run in runs:
        t0 = time.perf_counter()
        result = run()
        scans[name] = result
        summaries[name] = _summary(result, f, time.perf_counter() - t0)
        if name == "mcmc":
            summaries[name]["acceptance_mean"] = float(np.mean(result.info["acceptance"]))
    # calls a uniform scan needs for as many in-target points as the best method found;
    # the in-target fraction of the box comes from the random scan of the same budget
    most = max(s["n_in_target"] for s in summaries.values())
    volume = max(summaries["random"]["n_in_target"], 1) / n_calls
    reference = random_scan(
        f,
        f.bounds,
        int(1.5 * most / volume) + 1000,
        seed + 1,
        threshold=f.threshold,
        batch_size=50_000,
    )
    results["volume_fraction"] = reference.n_in_target / reference.n_calls
    for s in summaries.values():
        needed = calls_to_reach(reference, s["n_in_target"]) if s["n_in_target"] else 0
        s["random_calls_for_same"] = needed
        s["gain"] = needed / s["n_calls"] if needed else float("nan")
    results["methods"] = summaries
    return results, scans


def paper_3d_study(n_calls: int = 10_000, seed: int = 0, classifier: bool = True) -> dict[str, Any]:
    """:func:`function_study` of the paper's 3D function (:data:`FUNCTION_3D`), study only."""
    return function_study(FUNCTION_3D, n_calls, seed, classifier)[0]


def smote_study(
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    n_calls: int = 2000,
    n_wanted: int = 300,
    dim: int = 4,
    volume_fraction: float = 0.005,
) -> dict[str, Any]:
    """Scans of :func:`rare_balls_target` with and without SMOTE, one per seed.

    Per seed and variant: calls needed for ``n_wanted`` in-target points (None if not
    reached), in-target points after ``n_calls`` calls, efficiency per iteration and the
    number of balls found.  ``summary`` holds the means over seeds and the number of
    seeds where SMOTE needed fewer calls.
    """
    target = rare_balls_target(dim, volume_fraction)
    out: dict[str, Any] = {
        "dim": dim,
        "volume_fraction": target.volume_fraction,
        "n_calls": n_calls,
        "n_wanted": n_wanted,
        "options": dict(SMOTE_OPTIONS),
        "runs": {},
    }
    for variant, smote in (("without_smote", False), ("with_smote", True)):
        rows = []
        for seed in seeds:
            t0 = time.perf_counter()
            r = explore(target, target.bounds, n_calls, seed, smote=smote, **SMOTE_OPTIONS)
            balls = np.unique(target.ball_index(r.target_points))
            rows.append(
                {
                    "seed": seed,
                    "calls_to_n_wanted": calls_to_reach(r, n_wanted),
                    "n_in_target": r.n_in_target,
                    "efficiency_per_iteration": [round(float(e), 4) for e in r.efficiency],
                    "n_smote": int(np.count_nonzero(r.origin == "smote")),
                    "smote_efficiency": (
                        float(np.mean(r.in_target[r.origin == "smote"])) if smote else None
                    ),
                    "balls_found": int(np.count_nonzero(balls >= 0)),
                    "seconds": round(time.perf_counter() - t0, 2),
                }
            )
        out["runs"][variant] = rows

    def mean(variant: str, key: str) -> float:
        values = [row[key] if row[key] is not None else n_calls for row in out["runs"][variant]]
        return float(np.mean(values))

    wins = sum(
        (a["calls_to_n_wanted"] or n_calls + 1) < (b["calls_to_n_wanted"] or n_calls + 1)
        for a, b in zip(out["runs"]["with_smote"], out["runs"]["without_smote"], strict=True)
    )
    out["summary"] = {
        variant: {
            "mean_calls_to_n_wanted": mean(variant, "calls_to_n_wanted"),
            "mean_n_in_target": mean(variant, "n_in_target"),
            "mean_efficiency_iterations_1_3": float(
                np.mean([row["efficiency_per_iteration"][1:4] for row in out["runs"][variant]])
            ),
        }
        for variant in out["runs"]
    } | {"seeds_where_smote_needs_fewer_calls": int(wins), "n_seeds": len(seeds)}
    return out
