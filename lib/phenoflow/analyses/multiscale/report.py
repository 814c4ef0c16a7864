"""``results/multiscale/``: metrics.json and table.md from the evaluation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from phenoflow.summary import metric


def _pm(a: Mapping[str, Any], fmt: str = ".4f") -> str:
    std = a.get("std")
    tail = "" if std is None or (isinstance(std, float) and math.isnan(std)) else f" ± {std:{fmt}}"
    return f"{a['mean']:{fmt}}{tail}"


def multiscale_metrics(ev: Mapping[str, Any]) -> dict[str, Any]:
    """The named figures of ``results/multiscale/metrics.json``."""
    m: dict[str, Any] = {}
    n = ev["n_test"]
    where = f"m_H = {ev['mass']:.0f} GeV, {n['signal']} signal / {n['background']} background test events"
    for key, r in ev["models"].items():
        seeds = r["auc"]["n"]
        m[f"auc_{key}"] = metric(
            r["auc"]["mean"],
            "",
            f"test AUC of {key} ({seeds} seeds; {where})",
            uncertainty=r["auc"]["std"],
        )
        for wp in ("r30", "r50"):
            boot = r["bootstrap_16_84"].get(wp)
            m[f"{wp}_{key}"] = metric(
                r[wp]["mean"], "", f"background rejection at {wp[1:]} % signal efficiency, {key}, mean over "
                f"{seeds} seeds (bootstrap 16-84 % of the first seed: {boot})", uncertainty=r[wp]["std"],
            )  # fmt: skip
        if r.get("n_parameters"):
            m[f"parameters_{key}"] = metric(r["n_parameters"], "", f"trainable parameters of {key}")
        for bkg, b in r["backgrounds_at_eps_s_0.5"].items():
            if b["events_per_fb"] is not None:
                m[f"yield_{key}_{bkg}"] = metric(
                    b["events_per_fb"], "events/fb^-1", f"{bkg} events per fb^-1 left by {key} at 50 % signal efficiency"
                )  # fmt: skip
    c = ev["cut_based"]
    m["cut_based_eff_s"] = metric(
        c["eff_s"], "", f"signal efficiency of the mass-window analysis ({where})"
    )
    m["cut_based_rejection"] = metric(
        c["rejection"], "", "background rejection of the mass-window analysis"
    )
    for key, r in c["models_at_same_eff_s"].items():
        if r is not None:
            m[f"rejection_at_cut_eff_{key}"] = metric(
                r, "", f"rejection of {key} at the cut-based signal efficiency"
            )
    models = ev["models"]
    for other in ("kinematics_mlp", "bdt", "concat", "part"):
        if "multiscale" in models and other in models:
            ratio = models["multiscale"]["r50"]["mean"] / models[other]["r50"]["mean"]
            m[f"r50_ratio_multiscale_over_{other}"] = metric(
                ratio, "", f"R50 of multiscale / R50 of {other}"
            )
    return {"title": "Multi-scale cross-attention (two fat jets, H -> hh -> 4b)", "metrics": m}


def render_table(ev: Mapping[str, Any]) -> str:
    lines = [
        f"# Multi-scale classification at m_H = {ev['mass']:.0f} GeV",
        "",
        f"Test events: {ev['n_test']['signal']} signal, {ev['n_test']['background']} background; "
        "mean ± spread over seeds; R30/R50 = 1/eps_B at eps_S = 0.3/0.5; "
        "bootstrap: 16-84 % interval of the first seed's R50.",
        "",
        "| model | parameters | AUC | R30 | R50 | R50 bootstrap |",
        "|---|---|---|---|---|---|",
    ]
    for key, r in ev["models"].items():
        boot = r["bootstrap_16_84"].get("r50")
        b = f"{boot[0]:.1f}–{boot[1]:.1f}" if boot else "–"
        lines.append(
            f"| {key} | {r.get('n_parameters') or '–'} | {_pm(r['auc'])} | {_pm(r['r30'], '.1f')} | "
            f"{_pm(r['r50'], '.1f')} | {b} |"
        )
    c = ev["cut_based"]
    lines += [
        "",
        f"Cut-based (mass windows): eps_S = {c['eff_s']:.3f}, eps_B = {c['eff_b']:.4f}, "
        f"rejection {c['rejection']:.1f}; the models at the same eps_S: "
        + ", ".join(f"{k} {v:.1f}" for k, v in c["models_at_same_eff_s"].items() if v is not None),
    ]
    return "\n".join(lines) + "\n"
