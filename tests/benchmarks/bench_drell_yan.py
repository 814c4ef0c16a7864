"""Benchmark of the LO Drell-Yan calculator; prints its figures and goals.

1. Building the PDF table from Pythia (goal: a few seconds at most) and its
   interpolation rate.
2. sigma(pp -> gamma*/Z -> e+e-) at 13 TeV in mass windows without lepton
   cuts, ours (quadrature) against Pythia's sigma_gen for WeakSingleBoson:ffbar2gmZ
   with the same window (goal: within 1 %, and within Pythia's statistical
   error where that is smaller).
3. Integrand evaluations per second on the unit cube (goal: ~1e6 / s), and a
   plain Monte-Carlo and a VEGAS integral of it against the quadrature, with
   the default cuts (pT > 10 GeV, |eta| < 2.5, 60 GeV - 3 TeV).
4. Time of the deterministic references: sigma_total, afb in mass bins, dsigma/dcos.

Usage: python tests/benchmarks/bench_drell_yan.py [--events N] [--skip-vegas]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lib"))

import numpy as np  # noqa: E402

from phenoflow.physics.drell_yan import Cuts, DrellYan, pythia_sigma  # noqa: E402
from phenoflow.physics.pdf import PDFTable  # noqa: E402

WINDOWS = ((60.0, 120.0), (120.0, 500.0), (500.0, 3000.0), (60.0, 3000.0))


def pdf_table() -> PDFTable:
    t0 = time.perf_counter()
    pdf = PDFTable.from_pythia()
    build = time.perf_counter() - t0
    rng = np.random.default_rng(1)
    n = 1_000_000
    x = np.exp(rng.uniform(math.log(1e-6), 0.0, n))
    q2 = np.exp(rng.uniform(math.log(100.0), math.log(1e8), n))
    rate = _best_rate(lambda: pdf.xf_all(x, q2, check=False), n)
    g = pdf.grid
    print(
        f"[pdf] PDF:pSet {pdf.pdf_set}, grid {g.n_x} x {g.n_q} (logit x, ln Q^2): built in "
        f"{build:.2f} s; xf_all (10 flavours) {rate / 1e6:.2f} M points/s"
    )
    return pdf


def versus_pythia(pdf: PDFTable, n_events: int) -> None:
    print(f"[pythia] sigma without lepton cuts, 13 TeV; Pythia: {n_events} events, process level")
    print("[pythia]   window [GeV]    ours [pb]        Pythia [pb]            diff      pull")
    for i, (lo, hi) in enumerate(WINDOWS):
        ours = DrellYan(pdf=pdf, cuts=Cuts.window(lo, hi)).sigma_total()
        t0 = time.perf_counter()
        theirs, err = pythia_sigma(lo, hi, n_events, seed=1000 + i)
        took = time.perf_counter() - t0
        print(
            f"[pythia]   {lo:6.0f}-{hi:<6.0f}  {ours:12.6g}  {theirs:12.6g} +- {err:9.3g}  "
            f"{100 * (ours / theirs - 1):+7.3f} %  {(ours - theirs) / err:+6.2f}  ({took:.1f} s)"
        )


def integrand_rate(dy: DrellYan, skip_vegas: bool) -> None:
    n = 1_000_000
    u = np.random.default_rng(2).random((n, 3))
    rate = _best_rate(lambda: dy.integrand(u), n)
    values = dy.integrand(u)
    exact = dy.sigma_total()
    mean, err = values.mean(), values.std() / math.sqrt(n)
    print(
        f"[integrand] default cuts: {rate / 1e6:.2f} M evaluations/s (best of 3 x {n}); "
        f"zero (cut) fraction {np.mean(values == 0):.3f}, max / mean {values.max() / mean:.2f}"
    )
    print(
        f"[integrand] plain MC {mean:.5g} +- {err:.2g} pb vs quadrature {exact:.7g} pb "
        f"(pull {(mean - exact) / err:+.2f})"
    )
    if skip_vegas:
        return
    import vegas

    integrator = vegas.Integrator([[0.0, 1.0]] * 3)
    f = vegas.lbatchintegrand(dy.integrand)
    integrator(f, nitn=5, neval=200_000)  # adapt
    result = integrator(f, nitn=5, neval=200_000)
    print(
        f"[integrand] VEGAS {result} pb (Q = {result.Q:.2f}) vs quadrature {exact:.7g} pb "
        f"(pull {(result.mean - exact) / result.sdev:+.2f})"
    )


def references(dy: DrellYan) -> None:
    t0 = time.perf_counter()
    total = dy.sigma_total()
    t1 = time.perf_counter()
    edges = np.array([60.0, 70.0, 80.0, 86.0, 89.0, 91.0, 93.0, 96.0, 100.0, 120.0])
    edges = np.concatenate([edges, [150.0, 200.0, 300.0, 500.0, 1000.0, 3000.0]])
    afb = dy.afb(edges)
    t2 = time.perf_counter()
    cos = np.linspace(-0.95, 0.95, 39)
    dy.dsigma_dcos(cos)
    t3 = time.perf_counter()
    print(f"[reference] sigma_total (default cuts) = {total:.7g} pb in {t1 - t0:.2f} s")
    print(f"[reference] afb in {edges.size - 1} mass bins in {t2 - t1:.2f} s:")
    for lo, hi, a in zip(edges[:-1], edges[1:], afb, strict=True):
        print(f"[reference]   {lo:6.0f}-{hi:<6.0f} GeV  A_FB = {a:+.4f}")
    print(f"[reference] dsigma/dcos at {cos.size} points in {t3 - t2:.2f} s")


def _best_rate(fn, n: int, repeats: int = 3) -> float:
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--events", type=int, default=1_000_000, help="Pythia events per window (default 1e6)"
    )
    ap.add_argument("--skip-vegas", action="store_true", help="skip the VEGAS integral")
    args = ap.parse_args()
    print(json.dumps({"python": sys.version.split()[0], "cpus": os.cpu_count()}))
    pdf = pdf_table()
    versus_pythia(pdf, args.events)
    dy = DrellYan(pdf=pdf)
    integrand_rate(dy, args.skip_vegas)
    references(dy)


if __name__ == "__main__":
    main()
