"""Benchmark of the ML-guided scan (MLscanner, arXiv:2207.09959); prints the goal table.

1. The paper's 3D function O = [2 + cos(x1/7) cos(x2/7) cos(x3/7)]^5 on [-10 pi, 10 pi]^3,
   target L = exp(-(O - 100)^2 / 800) > 0.9 (3.3% of the box, 13 disconnected shells),
   on 10 000 objective calls: the ML scan (regressor of O, as in the paper's regression
   method; and the classifier of in/out), uniform random sampling and MCMC.  Goals:
   efficiency >= 90% from iteration 5 on, all 13 cells found, every cell within +-50%
   of the mean population, >= 20x fewer calls than random for as many in-target points.
2. SMOTE on a rare target (three 4D balls, 0.5% of the box), with and without, 5 seeds.

Usage: python tests/benchmarks/bench_scan.py [--seeds 0 1 2] [--out FILE]
Runs single-threaded (torch and BLAS threads = 1).
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lib"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from phenoflow.scan.studies import PAPER_3D_OPTIONS, SMOTE_OPTIONS, paper_3d_study, smote_study  # noqa: E402

torch.set_num_threads(1)


def fmt_eff(effs: list[float]) -> str:
    return " ".join(f"{e:.2f}" for e in effs)


def emit(lines: list[str], *new: str) -> None:
    """Append to the table and print at once."""
    lines.extend(new)
    print("\n".join(new), flush=True)


def bench_3d(seeds: list[int], lines: list[str]) -> None:
    emit(
        lines,
        "== 1. 3D function, 10 000 objective calls per method ==",
        f"ML options: {PAPER_3D_OPTIONS} (pool re-drawn each iteration)",
        "ml_regressor: regressor of O, in target L(O) > 0.9; ml_classifier: classifier of L > 0.9;",
        "'random calls for same' = calls a uniform scan needed for as many in-target points; "
        "gain = that / 10 000",
    )
    for seed in seeds:
        start = len(lines)
        t0 = time.perf_counter()
        study = paper_3d_study(10_000, seed, classifier=(seed == seeds[0]))
        lines.append(f"-- seed {seed} ({time.perf_counter() - t0:.1f} s for all methods)")
        header = (
            f"{'method':<14}{'time/s':>7}{'in-target':>10}{'eff':>6}{'min eff it>=5':>14}"
            f"{'cells':>7}{'dev min..max':>14}{'random calls for same':>23}{'gain':>7}"
        )
        lines.append(header)
        for name, s in study["methods"].items():
            eff = s["efficiency_per_iteration"]
            late = min(eff[5:]) if len(eff) > 5 and name.startswith("ml") else float("nan")
            lines.append(
                f"{name:<14}{s['seconds']:>7.1f}{s['n_in_target']:>10}"
                f"{s['efficiency_overall']:>6.2f}{late:>14.3f}"
                f"{s['cells_found']:>4}/{s['n_cells']:<2}"
                f"{s['deviation_min']:>7.2f}..{s['deviation_max']:<5.2f}"
                f"{s['random_calls_for_same']:>23}{s['gain']:>7.1f}"
            )
        for name in ("ml_regressor", "ml_classifier"):
            if name in study["methods"]:
                s = study["methods"][name]
                lines.append(
                    f"   {name} efficiency per iteration: {fmt_eff(s['efficiency_per_iteration'])}"
                )
                lines.append(f"   {name} cell counts: {s['cell_counts']}")
        lines.append(f"   mcmc mean acceptance: {study['methods']['mcmc']['acceptance_mean']:.2f}")
        for name in ("ml_regressor", "ml_classifier"):
            if name not in study["methods"]:
                continue
            ml = study["methods"][name]
            eff = ml["efficiency_per_iteration"]
            goals = {
                "efficiency >= 0.90 from iteration 5": min(eff[5:]) >= 0.9,
                "all 13 cells found": ml["cells_found"] == 13,
                "every cell within +-50% of the mean": ml["max_abs_deviation"] <= 0.5,
                ">= 20x fewer calls than random": ml["gain"] >= 20,
                "single scan < 60 s": ml["seconds"] < 60,
            }
            lines.append(
                f"   goals ({name}): "
                + "; ".join(f"{k}: {'PASS' if v else 'FAIL'}" for k, v in goals.items())
            )
        print("\n".join(lines[start:]), flush=True)


def bench_smote(lines: list[str]) -> None:
    t0 = time.perf_counter()
    study = smote_study()
    start = len(lines)
    lines.append("")
    lines.append(
        f"== 2. SMOTE study: 3 balls in 4D, {study['volume_fraction']:.3%} of the box, "
        f"{study['n_calls']} calls, seeds 0-4 ({time.perf_counter() - t0:.1f} s) =="
    )
    lines.append(f"options: {SMOTE_OPTIONS}")
    lines.append(
        f"{'variant':<15}{'seed':>5}{'calls to ' + str(study['n_wanted']):>14}{'in-target':>10}{'balls':>6}  efficiency it 0..5"
    )
    for variant, rows in study["runs"].items():
        for row in rows:
            lines.append(
                f"{variant:<15}{row['seed']:>5}{row['calls_to_n_wanted'] or '-':>14}"
                f"{row['n_in_target']:>10}{row['balls_found']:>6}  {fmt_eff(row['efficiency_per_iteration'][:6])}"
            )
    summ = study["summary"]
    for variant in ("without_smote", "with_smote"):
        s = summ[variant]
        lines.append(
            f"mean {variant:<14}: calls to {study['n_wanted']} = {s['mean_calls_to_n_wanted']:.0f}, "
            f"in-target = {s['mean_n_in_target']:.0f}, efficiency it 1-3 = {s['mean_efficiency_iterations_1_3']:.3f}"
        )
    lines.append(
        f"SMOTE needs fewer calls in {summ['seeds_where_smote_needs_fewer_calls']}/{summ['n_seeds']} seeds"
    )
    print("\n".join(lines[start:]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    lines = [
        "bench_scan.py: ML-guided scan (MLscanner) vs random sampling and MCMC",
        f"machine: shared 2-core CPU ({platform.processor() or platform.machine()}), "
        f"torch {torch.__version__} with 1 thread, numpy {np.__version__}; other jobs were running",
        "",
    ]
    print("\n".join(lines), flush=True)
    t0 = time.perf_counter()
    bench_3d(args.seeds, lines)
    bench_smote(lines)
    lines.append("")
    lines.append(f"total wall time: {time.perf_counter() - t0:.1f} s")
    print(lines[-1])
    if args.out is not None:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
