"""The integration stage (LeStrat-Net, arXiv:2412.13982, against VEGAS) as the workflow runs it.

* :func:`run_ladder`: every method at every budget of a ladder on one integrand.
* :func:`run_pulls`: (mean - exact) / sdev over many seeds, per method.
* :func:`drell_yan_check`: the LO Drell-Yan integrand: our total against Pythia's
  sigma_gen, unweighted events (and a zoomed tail) against direct quadrature of
  the e+e- mass and cos theta* distributions and A_FB(m), and the unweighting
  efficiency of VEGAS+ at equal calls.
* :func:`integration_metrics`: the table of ``results/integration/metrics.json``.

Integrands: ``fine_tuning_2d`` and ``cancellation_7d``
(:mod:`phenoflow.integrate.integrands`) and ``drell_yan`` (pp -> gamma*/Z -> e+e-
at 13 TeV with lepton cuts, on the unit cube; its "exact" value is the
deterministic quadrature of the same cross section, precise to ~1e-6).
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from phenoflow.integrate import Events, integrate
from phenoflow.summary import metric

log = logging.getLogger(__name__)

INTEGRANDS = ("fine_tuning_2d", "cancellation_7d", "drell_yan")


@dataclass(frozen=True)
class Problem:
    """An integrand with a known answer: f (n, d) -> (n,), the box, the exact value."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    bounds: np.ndarray
    exact: float
    unit: str = ""


def drell_yan_model(spec: Mapping[str, Any]) -> Any:
    """The :class:`~phenoflow.physics.drell_yan.DrellYan` of the ``integration.drell_yan`` spec."""
    from phenoflow.physics.drell_yan import Cuts, DrellYan

    cuts = Cuts(
        m_min=spec["m_min"], m_max=spec["m_max"], pt_min=spec["pt_min"], eta_max=spec["eta_max"]
    )
    return DrellYan(cuts=cuts)


def get_problem(name: str, dy_spec: Mapping[str, Any] | None = None) -> Problem:
    """The integrand ``name`` (one of :data:`INTEGRANDS`) with its exact value."""
    if name == "drell_yan":
        if dy_spec is None:
            raise ValueError("the drell_yan integrand needs the integration.drell_yan settings")
        dy = drell_yan_model(dy_spec)
        return Problem(name, dy.integrand, np.asarray(dy.bounds, float), dy.sigma_total(), "pb")
    from phenoflow.integrate.integrands import get_integrand

    if name not in INTEGRANDS:
        raise ValueError(f"unknown integrand {name!r}; expected one of {list(INTEGRANDS)}")
    it = get_integrand(name)
    return Problem(name, it.f, np.asarray(it.bounds, float), float(it.exact))


def _row(problem: Problem, method: str, budget: int, seed: int, options: Mapping[str, Any]) -> dict:
    opts = dict(options.get(method, {}))
    r = integrate(problem.f, problem.bounds, budget, method=method, seed=seed, **opts)
    rel = abs(r.mean - problem.exact) / abs(problem.exact) if problem.exact else math.nan
    return {
        "method": method,
        "n_calls_budget": budget,
        "n_calls": r.n_calls,
        "mean": r.mean,
        "sdev": r.sdev,
        "exact": problem.exact,
        "rel_error": rel,
        "rel_sdev": r.sdev / abs(problem.exact) if problem.exact else math.nan,
        "pull": (r.mean - problem.exact) / r.sdev if r.sdev > 0 else math.nan,
        "wall_s": r.wall_s,
        "n_classes": r.n_classes,
        "Q": r.Q,
    }


def run_ladder(
    problem: Problem,
    methods: Sequence[str],
    ladder: Sequence[int],
    seed: int,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """Every method at every budget: estimate, error, pull and wall time per row."""
    rows = []
    for budget in ladder:
        for method in methods:
            row = _row(problem, method, int(budget), seed, options)
            log.info(
                "%s %s %d calls: %.6g +- %.3g (exact %.6g, %.2f sigma, %.1f s)",
                problem.name, method, row["n_calls"], row["mean"], row["sdev"], problem.exact,
                row["pull"], row["wall_s"],
            )  # fmt: skip
            rows.append(row)
    return {"integrand": problem.name, "exact": problem.exact, "unit": problem.unit, "rows": rows}


def run_pulls(
    problem: Problem,
    methods: Sequence[str],
    n_calls: int,
    seeds: Sequence[int],
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """Pulls (mean - exact) / sdev over ``seeds`` for each method at ``n_calls``."""
    out: dict[str, Any] = {"integrand": problem.name, "exact": problem.exact, "n_calls": n_calls}
    for method in methods:
        rows = [_row(problem, method, n_calls, int(s), options) for s in seeds]
        pulls = np.array([r["pull"] for r in rows])
        out[method] = {
            "pulls": pulls.tolist(),
            "means": [r["mean"] for r in rows],
            "sdevs": [r["sdev"] for r in rows],
            "pull_mean": float(np.mean(pulls)),
            "pull_std": float(np.std(pulls, ddof=1)),
            "rel_error_rms": float(np.sqrt(np.mean([r["rel_error"] ** 2 for r in rows]))),
            "wall_s_mean": float(np.mean([r["wall_s"] for r in rows])),
        }
        log.info(
            "%s %s pulls over %d seeds: mean %.2f, std %.2f",
            problem.name, method, len(seeds), out[method]["pull_mean"], out[method]["pull_std"],
        )  # fmt: skip
    return out


def vegas_unweighting(
    f: Callable[[np.ndarray], np.ndarray],
    bounds: np.ndarray,
    n_adapt: int,
    n_events_calls: int,
    seed: int,
) -> dict[str, float]:
    """VEGAS+ adapted with ``n_adapt`` calls (10 iterations), then ``n_events_calls`` weighted
    points from its map: unweighting efficiency <w> / max w (accepted events per call)."""
    import vegas

    from phenoflow.integrate.references import vegas_batch

    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    integ = vegas.Integrator(
        [tuple(b) for b in bounds], ran_array_generator=lambda size: rng.random(size)
    )
    integ(vegas_batch(integ, f), nitn=10, neval=n_adapt // 10)
    weights = []
    n = 0
    for x, wgt in integ.random_batch():
        fx = f(np.asarray(x))
        weights.append(np.abs(np.asarray(wgt) * fx))
        n += len(fx)
        if n >= n_events_calls:
            break
    w = np.concatenate(weights)
    return {"efficiency": float(w.mean() / w.max()), "n_calls": int(n)}


def _hist(values: np.ndarray, weights: np.ndarray, edges: np.ndarray, norm: float) -> tuple:
    """Weighted histogram (content, error) scaled by ``norm`` (pb per unit weight)."""
    h = np.histogram(values, edges, weights=weights)[0] * norm
    e = np.sqrt(np.histogram(values, edges, weights=weights**2)[0]) * norm
    return h, e


def _pythia_windows(
    spec: Mapping[str, Any], dy: Any, n_calls: int, seed: int
) -> list[dict[str, Any]]:
    """The total without lepton cuts against Pythia's sigma_gen, window by window."""
    from phenoflow.physics.drell_yan import PYTHIA_SEED_MAX, Cuts, DrellYan, pythia_sigma

    checks = []
    for lo, hi in spec["pythia_windows"]:
        window = DrellYan(cuts=Cuts.window(lo, hi), pdf=dy.pdf)
        ours = integrate(window.integrand, window.bounds, n_calls, "lestrat", seed=seed)
        sig, err = pythia_sigma(lo, hi, int(spec["pythia_events"]), 1 + seed % PYTHIA_SEED_MAX)
        checks.append(
            {
                "window_gev": [lo, hi],
                "lestrat_pb": ours.mean,
                "lestrat_err_pb": ours.sdev,
                "quadrature_pb": window.sigma_total(),
                "pythia_pb": sig,
                "pythia_err_pb": err,
                "rel_diff": ours.mean / sig - 1.0,
                "rel_diff_err": math.hypot(ours.sdev / ours.mean, err / sig),
            }
        )
        log.info("Drell-Yan %g-%g GeV: ours %.5g +- %.2g pb, Pythia %.5g +- %.2g pb", lo, hi,
                 ours.mean, ours.sdev, sig, err)  # fmt: skip
    return checks


@dataclass(frozen=True)
class _DrellYanSamples:
    """Unweighted Drell-Yan events (plain and with a zoomed tail) as physical variables."""

    events: Events
    zoomed: Events
    plain_vars: tuple[np.ndarray, ...]  # (m, y, cos theta*, ...) of ``events``
    zoomed_vars: tuple[np.ndarray, ...]


def _with_cuts(
    spec: Mapping[str, Any], dy: Any, n_calls: int, seed: int
) -> tuple[dict[str, Any], _DrellYanSamples]:
    """With lepton cuts: lestrat against VEGAS+ at equal calls (error, unweighting).

    Also draws the events for the distributions: a plain sample and one with the tail
    ``m_ee > zoom.m_min`` oversampled by ``zoom.factor``.
    """
    exact = dy.sigma_total()
    res = integrate(dy.integrand, dy.bounds, n_calls, "lestrat", seed=seed)
    veg = integrate(dy.integrand, dy.bounds, n_calls, "vegas", seed=seed)
    n_events = int(spec["unweighted_events"])
    events = res.model.generate(n_events, seed=seed)
    vu = vegas_unweighting(dy.integrand, dy.bounds, n_calls, events.n_calls, seed)
    with_cuts = {
        "exact_pb": exact,
        "lestrat": {"mean": res.mean, "sdev": res.sdev, "n_calls": res.n_calls,
                    "pull": (res.mean - exact) / res.sdev, "wall_s": res.wall_s,
                    "unweighting_efficiency": events.efficiency,
                    "overweight_fraction": events.overweight_fraction},
        "vegas": {"mean": veg.mean, "sdev": veg.sdev, "n_calls": veg.n_calls,
                  "pull": (veg.mean - exact) / veg.sdev, "wall_s": veg.wall_s,
                  "unweighting_efficiency": vu["efficiency"]},
    }  # fmt: skip
    z = spec["zoom"]

    def in_tail(u: np.ndarray) -> np.ndarray:
        return dy.to_physical(u)[0] > z["m_min"]

    zoomed = res.model.generate(n_events, seed=seed + 1, zoom=in_tail, zoom_factor=z["factor"])
    samples = _DrellYanSamples(
        events, zoomed, tuple(dy.to_physical(events.x)), tuple(dy.to_physical(zoomed.x))
    )
    return with_cuts, samples


def _afb(
    dy: Any, spec: Mapping[str, Any], smp: _DrellYanSamples
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A_FB(m) from the zoomed events: (edges, A_FB, its error, quadrature)."""
    zoomed = smp.zoomed
    m1, _, c1, _ = smp.zoomed_vars
    afb_edges = np.array(spec["afb_edges"], dtype=float)
    f1, _ = _hist(m1[c1 > 0], zoomed.weights[c1 > 0], afb_edges, zoomed.norm)
    b1, _ = _hist(m1[c1 < 0], zoomed.weights[c1 < 0], afb_edges, zoomed.norm)
    fw, _ = _hist(m1[c1 > 0], zoomed.weights[c1 > 0] ** 2, afb_edges, zoomed.norm**2)
    bw, _ = _hist(m1[c1 < 0], zoomed.weights[c1 < 0] ** 2, afb_edges, zoomed.norm**2)
    afb = (f1 - b1) / (f1 + b1)
    # error of (F - B) / (F + B) with independent F, B: 2 sqrt(B^2 var F + F^2 var B) / (F + B)^2
    afb_err = 2.0 * np.sqrt(b1**2 * fw + f1**2 * bw) / (f1 + b1) ** 2
    return afb_edges, afb, afb_err, dy.afb(afb_edges)


def _cos_windows(dy: Any, spec: Mapping[str, Any], smp: _DrellYanSamples) -> list[dict[str, Any]]:
    """cos theta* histograms in mass windows (from the zoomed sample above zoom.m_min)."""
    m0, _, c0, _ = smp.plain_vars
    m1, _, c1, _ = smp.zoomed_vars
    cos_edges = np.linspace(-1.0, 1.0, 21)
    cos = []
    for lo, hi in spec["cos_windows"]:
        sample, mm, cc = (
            (smp.events, m0, c0) if lo < spec["zoom"]["m_min"] else (smp.zoomed, m1, c1)
        )
        sel = (mm > lo) & (mm < hi)
        h, e = _hist(cc[sel], sample.weights[sel], cos_edges, sample.norm)
        ref = np.array([dy.sigma_bins([lo, hi], a, b)[0] for a, b in itertools.pairwise(cos_edges)])
        cos.append({"window_gev": [lo, hi], "events": h, "errors": e, "quadrature": ref})
    return cos


def _chi2(h: np.ndarray, e: np.ndarray, ref: np.ndarray) -> tuple[float, int]:
    ok = e > 0
    return float(np.sum(((h[ok] - ref[ok]) / e[ok]) ** 2)), int(np.count_nonzero(ok))


def _distributions(
    dy: Any, spec: Mapping[str, Any], smp: _DrellYanSamples
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Distributions from the events against quadrature: (numbers, arrays)."""
    z = spec["zoom"]
    events, zoomed = smp.events, smp.zoomed
    m0, y0, c0, _ = smp.plain_vars
    m1, y1, c1, _ = smp.zoomed_vars
    m_edges = np.geomspace(spec["m_min"], spec["m_max"], 41)
    h0, e0 = _hist(m0, events.weights, m_edges, events.norm)
    h1, e1 = _hist(m1, zoomed.weights, m_edges, zoomed.norm)
    ref_m = dy.sigma_bins(m_edges)
    afb_edges, afb, afb_err, ref_afb = _afb(dy, spec, smp)
    cos = _cos_windows(dy, spec, smp)
    numbers = {
        "mass_chi2_ndf": _chi2(h0, e0, ref_m),
        "mass_zoomed_chi2_ndf": _chi2(h1, e1, ref_m),
        "afb_chi2_ndf": _chi2(afb, afb_err, ref_afb),
        "cos_chi2_ndf": [_chi2(c["events"], c["errors"], c["quadrature"]) for c in cos],
        "zoom": {"m_min": z["m_min"], "factor": z["factor"],
                 "tail_events_plain": int(np.count_nonzero(m0 > z["m_min"])),
                 "tail_events_zoomed": int(np.count_nonzero(m1 > z["m_min"]))},
        "afb": {"edges": afb_edges.tolist(), "events": afb.tolist(), "errors": afb_err.tolist(),
                "quadrature": ref_afb.tolist()},
    }  # fmt: skip
    arrays = {
        "events": {"m": m0, "y": y0, "cos_theta": c0, "weight": events.weights},
        "zoomed": {"m": m1, "y": y1, "cos_theta": c1, "weight": zoomed.weights},
        "mass": {"edges": m_edges, "plain": (h0, e0), "zoomed": (h1, e1), "quadrature": ref_m},
        "cos": cos,
        "afb": {"edges": afb_edges, "events": afb, "errors": afb_err, "quadrature": ref_afb},
    }
    return numbers, arrays


def drell_yan_check(spec: Mapping[str, Any], seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Drell-Yan: Pythia cross-check, unweighted events against quadrature, VEGAS+ side by side.

    Returns (JSON-serialisable check, arrays for the events file and the figures).
    """
    t0 = time.perf_counter()
    dy = drell_yan_model(spec)
    n_calls = int(spec["n_calls"])
    out: dict[str, Any] = {"cuts": {k: spec[k] for k in ("m_min", "m_max", "pt_min", "eta_max")}}
    out["pythia"] = _pythia_windows(spec, dy, n_calls, seed)
    out["with_cuts"], samples = _with_cuts(spec, dy, n_calls, seed)
    out["distributions"], arrays = _distributions(dy, spec, samples)
    out["wall_s"] = time.perf_counter() - t0
    return out, arrays


def integration_metrics(
    ladders: Sequence[Mapping[str, Any]],
    pulls: Sequence[Mapping[str, Any]],
    dy: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """``results/integration/metrics.json``: largest-budget estimates, pulls, Drell-Yan checks."""
    m: dict[str, Any] = {}
    for lad in ladders:
        name = lad["integrand"]
        top = max(r["n_calls_budget"] for r in lad["rows"])
        for r in lad["rows"]:
            if r["n_calls_budget"] != top:
                continue
            key = f"{name}_{r['method']}"
            m[f"{key}_estimate"] = metric(
                r["mean"], lad["unit"],
                f"{r['n_calls']} calls; exact {lad['exact']:.6g}; {r['pull']:.2f} sigma off",
                r["sdev"],
            )  # fmt: skip
            m[f"{key}_rel_error"] = metric(
                r["rel_error"], "", f"|estimate - exact| / |exact| at {r['n_calls']} calls"
            )
            m[f"{key}_wall_s"] = metric(r["wall_s"], "s", f"wall time at {r['n_calls']} calls")
    for p in pulls:
        for method, v in p.items():
            if isinstance(v, dict):
                n = len(v["pulls"])
                m[f"{p['integrand']}_{method}_pull_mean"] = metric(
                    v["pull_mean"],
                    "",
                    f"mean pull over {n} seeds at {p['n_calls']} calls",
                )
                m[f"{p['integrand']}_{method}_pull_std"] = metric(
                    v["pull_std"], "", f"std of pulls over {n} seeds"
                )
    if dy:
        for c in dy["pythia"]:
            lo, hi = c["window_gev"]
            m[f"drell_yan_vs_pythia_{lo:g}_{hi:g}"] = metric(
                c["rel_diff"], "", f"lestrat / Pythia sigma_gen - 1, {lo:g}-{hi:g} GeV, no lepton cuts",
                c["rel_diff_err"],
            )  # fmt: skip
        wc = dy["with_cuts"]
        for method in ("lestrat", "vegas"):
            m[f"drell_yan_{method}_rel_sdev"] = metric(
                wc[method]["sdev"] / wc["exact_pb"],
                "",
                f"relative error at {wc[method]['n_calls']} calls, with cuts",
            )
            m[f"drell_yan_{method}_unweighting_efficiency"] = metric(
                wc[method]["unweighting_efficiency"],
                "",
                "accepted unit-weight events per integrand call",
            )
        d = dy["distributions"]
        for key in ("mass_chi2_ndf", "mass_zoomed_chi2_ndf", "afb_chi2_ndf"):
            chi, ndf = d[key]
            m[f"drell_yan_{key}"] = metric(
                chi / max(ndf, 1), "", f"chi2/ndf ({ndf} bins) of the events against quadrature"
            )
    return {"title": "ML-stratified integration (LeStrat) vs VEGAS", "metrics": m}


def write_events(columns: Mapping[str, np.ndarray], path: Any) -> None:
    """Unweighted events (m [GeV], y, cos theta*, weight) to a reproducible Parquet file."""
    import pyarrow as pa

    from phenoflow.analyses.scan.run import write_points

    write_points(pa.table({k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}), path)


def strata_figure(n_calls: int, seed: int, path: Any) -> None:
    """Run lestrat on the 2D fine-tuning integrand and draw its classes over the function."""
    from phenoflow.plotting.integration import plot_strata

    problem = get_problem("fine_tuning_2d")
    res = integrate(problem.f, problem.bounds, n_calls, "lestrat", seed=seed)
    n = 400
    lo, hi = problem.bounds[:, 0], problem.bounds[:, 1]
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    labels = res.model.classifier.predict(grid).reshape(n, n)
    names = list(res.model.classes.labels)
    plot_strata(gx, gy, problem.f(grid).reshape(n, n), labels, names, res, problem.exact, path)


def ladder_table(
    ladders: Sequence[Mapping[str, Any]],
    pulls: Sequence[Mapping[str, Any]],
    dy: Mapping[str, Any] | None,
) -> str:
    """Markdown: every (integrand, method, budget) row, the pulls and the Drell-Yan checks."""
    lines = ["# Integration: LeStrat vs VEGAS", ""]
    lines += ["| integrand | method | calls | estimate ± error | exact | rel. error | pull | wall s |",
              "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for lad in ladders:
        for r in lad["rows"]:
            lines.append(
                f"| {lad['integrand']} | {r['method']} | {r['n_calls']:,} | {r['mean']:.6g} ± {r['sdev']:.2g} | "
                f"{lad['exact']:.6g} | {r['rel_error']:.2%} | {r['pull']:.2f} | {r['wall_s']:.1f} |"
            )
    lines += [
        "",
        "| integrand | method | calls | seeds | pull mean | pull std |",
        "|---|---|---|---|---|---|",
    ]
    for p in pulls:
        for method, v in p.items():
            if isinstance(v, dict):
                lines.append(
                    f"| {p['integrand']} | {method} | {p['n_calls']:,} | {len(v['pulls'])} | "
                    f"{v['pull_mean']:.2f} | {v['pull_std']:.2f} |"
                )
    if dy:
        lines += ["", "| window (GeV, no lepton cuts) | LeStrat (pb) | Pythia σ_gen (pb) | difference |",
                  "|---|---|---|---|"]  # fmt: skip
        for c in dy["pythia"]:
            lines.append(
                f"| {c['window_gev'][0]:g}–{c['window_gev'][1]:g} | {c['lestrat_pb']:.6g} ± {c['lestrat_err_pb']:.2g} | "
                f"{c['pythia_pb']:.6g} ± {c['pythia_err_pb']:.2g} | {c['rel_diff']:+.3%} ± {c['rel_diff_err']:.3%} |"
            )
        wc = dy["with_cuts"]
        lines += ["", f"With lepton cuts (exact {wc['exact_pb']:.6g} pb):", "",
                  "| method | calls | estimate ± error (pb) | unweighting efficiency |", "|---|---|---|---|"]  # fmt: skip
        for method in ("lestrat", "vegas"):
            w = wc[method]
            lines.append(
                f"| {method} | {w['n_calls']:,} | {w['mean']:.6g} ± {w['sdev']:.2g} | {w['unweighting_efficiency']:.3f} |"
            )
    return "\n".join(lines) + "\n"
