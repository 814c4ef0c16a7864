"""The scan stage (MLscanner, arXiv:2207.09959) as the workflow runs it.

* :func:`run_function_scan`: one cosine test function scanned by the ML scanner,
  uniform random sampling and MCMC on the same budget; every evaluated point to
  Parquet, the study to JSON.
* :func:`run_smote_study`: with and without SMOTE on a target of < 1% volume.
* :func:`run_zprime_scan`: the allowed Z' region from pseudo-measurements of
  sigma(pp -> e+e-) in mass bins, computed with the project's Drell-Yan calculator.
* :func:`scan_metrics`: the table of ``results/scan/metrics.json``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from phenoflow.scan.objectives import (
    FUNCTION_2D_2_2,
    FUNCTION_2D_5_7,
    FUNCTION_3D,
    CosineLikelihood,
)
from phenoflow.scan.result import ScanResult
from phenoflow.summary import metric

log = logging.getLogger(__name__)

FUNCTIONS: dict[str, CosineLikelihood] = {
    "cosine_3d": FUNCTION_3D,
    "cosine_2d_5_7": FUNCTION_2D_5_7,
    "cosine_2d_2_2": FUNCTION_2D_2_2,
}


def points_table(scans: Mapping[str, ScanResult], names: Sequence[str] | None = None) -> pa.Table:
    """One row per evaluated point of every scan: method, parameters, value, verdict, iteration."""
    cols: dict[str, list[np.ndarray]] = {}
    for method, r in scans.items():
        d = r.points.shape[1]
        labels = list(names) if names is not None else [f"x{i}" for i in range(d)]
        block = {
            "method": np.full(r.n_calls, method),
            **{labels[i]: r.points[:, i] for i in range(d)},
            "value": np.asarray(r.values, dtype=np.float64),
            "in_target": np.asarray(r.in_target, dtype=bool),
            "iteration": np.asarray(r.iteration, dtype=np.int64),
            "origin": np.asarray(r.origin, dtype=str),
        }
        for k, v in block.items():
            cols.setdefault(k, []).append(v)
    return pa.table({k: np.concatenate(v) for k, v in cols.items()})


def write_points(table: pa.Table, path: str | os.PathLike[str]) -> None:
    """Atomic, reproducible Parquet (zstd, no creation timestamp in the file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def run_function_scan(
    objective: str,
    n_calls: int,
    seed: int,
    options: Mapping[str, Any],
    classifier: bool,
    points_path: str | os.PathLike[str],
) -> tuple[dict[str, Any], dict[str, ScanResult]]:
    """Scan ``FUNCTIONS[objective]`` with every method; write the points; return the study."""
    from phenoflow.scan.studies import function_study

    if objective not in FUNCTIONS:
        raise ValueError(
            f"unknown scan objective {objective!r}; expected one of {sorted(FUNCTIONS)}"
        )
    f = FUNCTIONS[objective]
    study, scans = function_study(f, n_calls, seed, classifier, dict(options))
    study["objective"] = objective
    for method, s in study["methods"].items():
        log.info(
            "%s %s: %d in target of %d calls, %d/%d cells, gain %.1f",
            objective, method, s["n_in_target"], s["n_calls"], s["cells_found"], s["n_cells"],
            s["gain"],
        )  # fmt: skip
    write_points(points_table(scans), points_path)
    return study, scans


def run_smote_study(spec: Mapping[str, Any]) -> dict[str, Any]:
    """With and without SMOTE on a rare target (``spec``: seeds, n_calls, n_wanted, dim, volume_fraction)."""
    from phenoflow.scan.studies import smote_study

    return smote_study(
        seeds=tuple(spec["seeds"]),
        n_calls=int(spec["n_calls"]),
        n_wanted=int(spec["n_wanted"]),
        dim=int(spec["dim"]),
        volume_fraction=float(spec["volume_fraction"]),
    )


def scan_metrics(
    studies: Sequence[Mapping[str, Any]],
    smote: Mapping[str, Any] | None,
    zprime: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """``results/scan/metrics.json``: efficiency, coverage and call savings per objective."""
    m: dict[str, Any] = {}
    for st in studies:
        obj = st["objective"]
        for method, s in st["methods"].items():
            eff = np.asarray(s["efficiency_per_iteration"], dtype=float)
            late = eff[5:] if len(eff) > 5 else eff[-1:]
            key = f"{obj}_{method}"
            m[f"{key}_n_in_target"] = metric(
                s["n_in_target"], "points", f"in-target points from {s['n_calls']} calls"
            )
            m[f"{key}_gain"] = metric(
                s["gain"],
                "x",
                "calls a uniform scan needs for as many in-target points / calls used",
            )
            m[f"{key}_cells_found"] = metric(
                s["cells_found"], "cells", f"target cells with >= 1 point (of {s['n_cells']})"
            )
            m[f"{key}_max_cell_deviation"] = metric(
                s["max_abs_deviation"], "", "max |cell population / mean - 1|"
            )
            if method.startswith("ml_"):
                m[f"{key}_min_efficiency_from_it5"] = metric(
                    float(np.nanmin(late)),
                    "",
                    "lowest in-target fraction per iteration from iteration 5 on",
                )
            m[f"{key}_seconds"] = metric(s["seconds"], "s", "wall time of the scan")
    if smote:
        for variant, row in smote["summary"].items():
            if isinstance(row, dict):
                m[f"smote_{variant}_calls_to_{smote['n_wanted']}"] = metric(
                    row["mean_calls_to_n_wanted"], "calls",
                    f"mean over {smote['summary']['n_seeds']} seeds, target {smote['volume_fraction']:.2%} of the box",
                )  # fmt: skip
                m[f"smote_{variant}_efficiency_it1_3"] = metric(
                    row["mean_efficiency_iterations_1_3"],
                    "",
                    "mean in-target fraction of iterations 1-3",
                )
        m["smote_seeds_fewer_calls"] = metric(
            smote["summary"]["seeds_where_smote_needs_fewer_calls"], "seeds",
            f"seeds (of {smote['summary']['n_seeds']}) where SMOTE reached the target count with fewer calls",
        )  # fmt: skip
    if zprime:
        for method, s in zprime["methods"].items():
            m[f"zprime_{method}_n_in_target"] = metric(
                s["n_in_target"],
                "points",
                f"allowed Z' points from {s['n_calls']} calculator calls",
            )
            m[f"zprime_{method}_efficiency"] = metric(
                s["efficiency_overall"], "", "allowed points / calculator calls"
            )
        if "truth_allowed" in zprime:
            m["zprime_truth_allowed"] = metric(
                zprime["truth_allowed"], "", "the true Z' point lies in the allowed region"
            )
    return {"title": "ML-guided parameter scans (MLscanner)", "metrics": m}


def function_scan_figure(
    objective: str,
    study: Mapping[str, Any],
    scans: Mapping[str, ScanResult],
    path: str | os.PathLike[str],
) -> None:
    """Efficiency, cell coverage and the found points of one function scan."""
    from phenoflow.plotting.scan import plot_function_scan
    from phenoflow.scan.metrics import cosine_cell_labels

    ml = next(m for m in scans if m.startswith("ml_"))
    labels = cosine_cell_labels(FUNCTIONS[objective], scans[ml].target_points)
    plot_function_scan(study, scans, labels, path)


ZPRIME_NAMES = ("mass", "g_quark", "g_lepton")


def zprime_objective(spec: Mapping[str, Any]) -> tuple[Any, np.ndarray]:
    """The chi2 of a Z' (mass [GeV], g_quark, g_lepton) against pseudo-data; and the truth.

    Pseudo-data: Asimov data (the prediction itself) of the backward and forward
    sigma(pp -> e+e-) in ``m_edges`` bins for the ``truth`` Z', with statistical
    errors for ``luminosity_fb`` and a relative ``systematic``; in target: chi2 below
    the ``cl`` region for three parameters.
    """
    from phenoflow.physics.drell_yan import Cuts, DrellYan
    from phenoflow.physics.zprime_bins import BinnedDrellYan
    from phenoflow.scan.objectives import PseudoMeasurement, delta_chi2

    e = spec["m_edges"]
    edges = np.geomspace(e["min"], e["max"], e["n_bins"] + 1)
    dy = DrellYan(cuts=Cuts(m_min=e["min"], m_max=e["max"]))
    calc = BinnedDrellYan(dy, edges)
    truth = np.array([spec["truth"][k] for k in ZPRIME_NAMES])
    data = calc.predict(truth[None])[0]
    events_per_pb = spec["luminosity_fb"] * 1000.0
    errors = np.sqrt(data / events_per_pb + (spec["systematic"] * data) ** 2)
    bounds = np.array([spec["bounds"][k] for k in ZPRIME_NAMES], dtype=np.float64)
    objective = PseudoMeasurement(
        predict=calc.predict,
        data=data,
        errors=errors,
        limit=delta_chi2(spec["cl"], len(ZPRIME_NAMES)),
        bounds=bounds,
    )
    return objective, truth


def run_zprime_scan(
    spec: Mapping[str, Any], seed: int, points_path: str | os.PathLike[str]
) -> tuple[dict[str, Any], dict[str, ScanResult]]:
    """The allowed Z' region by the ML scanner (regressor of log(1 + chi2)), random and MCMC."""
    import time

    from phenoflow.scan.baselines import mcmc_scan, random_scan
    from phenoflow.scan.explore import explore
    from phenoflow.scan.metrics import calls_to_reach

    obj, truth = zprime_objective(spec)
    n = int(spec["n_calls"])
    limit = obj.limit

    def log_chi2(theta: np.ndarray) -> np.ndarray:
        return np.log1p(obj(theta))

    def allowed_log(v: np.ndarray) -> np.ndarray:
        return np.asarray(v) < np.log1p(limit)

    runs = {
        "ml_regressor": lambda: explore(
            log_chi2, obj.bounds, n, seed, threshold=allowed_log, model="regressor",
            **spec["options"],
        ),
        "random": lambda: random_scan(obj, obj.bounds, n, seed, threshold=obj.accept),
        "mcmc": lambda: mcmc_scan(
            obj, obj.bounds, n, seed, threshold=obj.accept, log_density=obj.log_density
        ),
    }  # fmt: skip
    study: dict[str, Any] = {
        "objective": "zprime",
        "truth": dict(zip(ZPRIME_NAMES, truth.tolist(), strict=True)),
        "chi2_limit": limit,
        "truth_allowed": bool(obj.accept(obj(truth[None]))[0]),
        "methods": {},
    }
    scans: dict[str, ScanResult] = {}
    for name, run in runs.items():
        t0 = time.perf_counter()
        r = run()
        if name.startswith("ml_"):  # the network saw log(1 + chi2); keep chi2 in the record
            r = dataclasses.replace(r, values=np.expm1(r.values))
        scans[name] = r
        allowed = r.target_points
        study["methods"][name] = {
            "n_calls": r.n_calls,
            "n_in_target": r.n_in_target,
            "efficiency_overall": r.n_in_target / max(r.n_calls, 1),
            "efficiency_per_iteration": [round(float(x), 4) for x in r.efficiency],
            "calls_to_100": calls_to_reach(r, 100) if r.n_in_target >= 100 else None,
            "allowed_range": {
                k: [float(allowed[:, i].min()), float(allowed[:, i].max())]
                for i, k in enumerate(ZPRIME_NAMES)
            }
            if len(allowed)
            else None,
            "seconds": round(time.perf_counter() - t0, 2),
        }
        log.info("zprime %s: %d allowed of %d calls", name, r.n_in_target, r.n_calls)
    write_points(points_table(scans, ZPRIME_NAMES), points_path)
    return study, scans
