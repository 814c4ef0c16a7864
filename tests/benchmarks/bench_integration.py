"""Benchmark of the integrators; prints the tables of the goals.

1. Goals: the 2D fine-tuning integrand (lestrat <= 0.5% at <= 2e6 calls, within 2 sigma;
   VEGAS+ at 2e6 for comparison) and the 7D cancellation integrand (lestrat <= 5% at
   <= 1e7 calls, within 2 sigma; VEGAS+ at 2e6 locks onto one peak), with a budget ladder.
2. Every method on every test integrand at a moderate budget.
3. Honest errors: pulls (mean - exact) / sdev of lestrat over 20 seeds per integrand
   (goal: mean within +-0.5, standard deviation within 0.7 ... 1.4).

Usage: python tests/benchmarks/bench_integration.py [--quick] [--seeds N] [--skip-madnis]
Runs single-threaded (torch and BLAS threads = 1); wall times are per core.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lib"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from phenoflow.integrate import Result, integrate  # noqa: E402
from phenoflow.integrate.integrands import Integrand, get_integrand  # noqa: E402

HEADER = (
    f"{'method':<14}{'integrand':<17}{'n_calls':>10}  {'mean +- sdev':<26}{'exact':>12}"
    f"{'rel.err':>10}{'pull':>8}{'wall s':>8}"
)


def row(r: Result, integrand: Integrand) -> str:
    rel = abs(r.mean - integrand.exact) / abs(integrand.exact) if integrand.exact else abs(r.mean)
    est = f"{r.mean:.6g} +- {r.sdev:.2g}"
    return (
        f"{r.method:<14}{integrand.name:<17}{r.n_calls:>10}  {est:<26}{integrand.exact:>12.6g}"
        f"{rel:>10.2e}{r.pull(integrand.exact):>8.2f}{r.wall_s:>8.2f}"
    )


def run(method: str, name: str, n_calls: int, seed: int = 0, **options: object) -> Result:
    integrand = get_integrand(name)
    r = integrate(integrand.f, integrand.bounds, n_calls, method=method, seed=seed, **options)
    print(row(r, integrand), flush=True)
    return r


def goals(quick: bool, madnis: bool) -> None:
    print("\n== 1. goals ==")
    print(HEADER)
    ladder_2d = [2 * 10**5, 2 * 10**6] if quick else [10**5, 3 * 10**5, 10**6, 2 * 10**6]
    for n in ladder_2d:
        run("lestrat", "fine_tuning_2d", n)
    run("vegas", "fine_tuning_2d", 2 * 10**6)
    run("vegas_classic", "fine_tuning_2d", 2 * 10**6)
    run("plain", "fine_tuning_2d", 2 * 10**6)
    if madnis:
        run("madnis", "fine_tuning_2d", 2 * 10**6 if not quick else 2 * 10**5)
    ladder_7d = [10**6, 10**7] if quick else [10**6, 3 * 10**6, 10**7]
    for n in ladder_7d:
        run("lestrat", "cancellation_7d", n)
    run("vegas", "cancellation_7d", 2 * 10**6)
    run("vegas", "cancellation_7d", 10**7)
    if madnis and not quick:
        run("madnis", "cancellation_7d", 10**6)


def every_method(madnis: bool) -> None:
    print("\n== 2. every method, moderate budget ==")
    print(HEADER)
    methods = ["lestrat", "vegas", "vegas_classic", "plain"] + (["madnis"] if madnis else [])
    for name in ("gaussian_3d", "polynomial_2d", "sin_2d", "narrow_peak_2d", "zero_2d"):
        for method in methods:
            run(method, name, 10**5)


def pulls(n_seeds: int, quick: bool) -> None:
    print(f"\n== 3. lestrat pulls over {n_seeds} seeds ==")
    print(
        f"{'integrand':<17}{'n_calls':>10}{'pull mean':>11}{'pull std':>10}{'max|pull|':>11}"
        f"{'median rel.err':>16}{'s/run':>8}"
    )
    cases = [
        ("fine_tuning_2d", 2 * 10**5),
        ("fine_tuning_2d", 10**6),
        ("cancellation_7d", 10**6),
        ("gaussian_3d", 10**5),
        ("polynomial_2d", 10**5),
        ("sin_2d", 10**5),
        ("narrow_peak_2d", 10**5),
    ]
    if quick:
        cases = cases[:1] + cases[2:4]
    for name, n in cases:
        integrand = get_integrand(name)
        p, rel, t0 = [], [], time.perf_counter()
        for seed in range(n_seeds):
            r = integrate(integrand.f, integrand.bounds, n, seed=seed)
            p.append(r.pull(integrand.exact))
            rel.append(abs(r.mean - integrand.exact) / abs(integrand.exact))
        arr = np.array(p)
        print(
            f"{name:<17}{n:>10}{arr.mean():>11.2f}{arr.std():>10.2f}{np.abs(arr).max():>11.2f}"
            f"{np.median(rel):>16.2e}{(time.perf_counter() - t0) / n_seeds:>8.2f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller budgets and fewer cases")
    parser.add_argument("--seeds", type=int, default=20, help="seeds for the pull study")
    parser.add_argument("--skip-madnis", action="store_true", help="leave out MadNIS")
    args = parser.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    goals(args.quick, not args.skip_madnis)
    every_method(not args.skip_madnis)
    pulls(args.seeds, args.quick)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
