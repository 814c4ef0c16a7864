"""``results/multimodal/``: metrics.json, table.md and the figures, from every task's evaluation."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from phenoflow.analyses.multimodal.spec import (
    BASE_MODELS,
    L2_HALVES,
    MultimodalSummarySpec,
    lambda_label,
)
from phenoflow.io.json import write_json
from phenoflow.summary import metric

IMAGE_MODELS = ("image_plain", "image_riemann")
SINGLE = ("kinematics", "image_plain", "image_riemann")


def _pm(a: Mapping[str, Any]) -> str:
    std = a.get("std")
    return f"{a['mean']:.4f}" + ("" if std is None or math.isnan(std) else f" ± {std:.4f}")


def lambda_scans(spec: MultimodalSummarySpec, evaluations: Mapping[str, Any]) -> dict[str, Any]:
    """``{task: {half: [{"lambda", "mean", "std"}, ...]}}`` for the scanned tasks (lambda = 0:
    the ``attention`` model; ``multimodal.l2``: the ``attention_l2<half>`` model)."""
    out: dict[str, Any] = {}
    for task in spec.l2_scan["tasks"]:
        models = evaluations.get(task, {}).get("models", {})
        halves: dict[str, list[dict[str, Any]]] = {}
        for half in L2_HALVES:
            keys = {0.0: "attention", spec.l2: f"attention_l2{half}"}
            keys |= {
                lam: f"attention_l2{half}_{lambda_label(lam)}" for lam in spec.l2_scan["lambdas"]
            }
            pts = [
                {"lambda": lam, "mean": models[k]["auc"]["mean"], "std": models[k]["auc"]["std"]}
                for lam, k in sorted(keys.items())
                if k in models
            ]
            if pts:
                halves[half] = pts
        if halves:
            out[task] = halves
    return out


def _pt_spread(binned: Mapping[str, Any]) -> float:
    vals = [v for v in binned["mean"] if v is not None]
    return float(np.std(vals)) if len(vals) > 1 else float("nan")


def multimodal_metrics(evaluations: Mapping[str, Any]) -> dict[str, Any]:
    """The named figures of ``results/multimodal/metrics.json``."""
    m: dict[str, Any] = {}
    for task, ev in evaluations.items():
        n = ev["n_test"]
        models = ev["models"]
        for key, r in models.items():
            a = r["auc"]
            m[f"auc_{task}_{key}"] = metric(
                a["mean"], "", f"test AUC of {key} on {task}, mean over {a['n']} seeds "
                f"({n['signal']} signal / {n['background']} background test events)", uncertainty=a["std"],
            )  # fmt: skip
            if "attention" in r:
                for cls in ("signal", "background"):
                    m[f"attention_image_share_{task}_{key}_{cls}"] = metric(
                        r["attention"]["shares"][cls][0], "",
                        f"image share of sum |z * a| of {key} on {task} {cls} test events",
                    )  # fmt: skip
        for key in IMAGE_MODELS:
            if key in models:
                d = models[key]["dcor_score_pt_bb_background"]
                m[f"dcor_pt_bb_{task}_{key}"] = metric(
                    d["mean"], "", f"distance correlation of the {key} score with pT_bb on {task} background",
                    uncertainty=d["std"],
                )  # fmt: skip
                m[f"auc_spread_over_pt_bb_{task}_{key}"] = metric(
                    _pt_spread(models[key]["auc_vs_pt_bb"]), "",
                    f"standard deviation of the {key} AUC over the pT_bb bins on {task}",
                )  # fmt: skip
        best_single = (
            max((models[k]["auc"]["mean"], k) for k in SINGLE if k in models) if models else None
        )
        fused = [
            (r["auc"]["mean"], k)
            for k, r in models.items()
            if k.startswith("attention_l2") and k.count("_") == 1
        ]
        if best_single and fused:
            best = max(fused)
            m[f"gain_{task}"] = metric(
                best[0] - best_single[0], "",
                f"AUC of {best[1]} minus the best single modality ({best_single[1]}) on {task}",
            )  # fmt: skip
    return {"title": "Multi-modal classification (kinematics + radiation)", "metrics": m}


def render_table(evaluations: Mapping[str, Any]) -> str:
    """Markdown: AUC per model and task, attention shares, plain vs Riemann images."""
    tasks = list(evaluations)
    keys = list(dict.fromkeys(k for ev in evaluations.values() for k in ev["models"]))
    lines = ["# Multi-modal classification: test AUC (mean ± spread over seeds)", ""]
    lines += ["| model | " + " | ".join(tasks) + " |", "|---" * (len(tasks) + 1) + "|"]
    for k in keys:
        cells = [
            _pm(evaluations[t]["models"][k]["auc"]) if k in evaluations[t]["models"] else "–"
            for t in tasks
        ]
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    lines += ["", "## Image share of the attention values (signal / background)", ""]
    lines += ["| task | model | image share (sig) | image share (bkg) | score share (sig) | score share (bkg) |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for t in tasks:
        for k, r in evaluations[t]["models"].items():
            if "attention" in r:
                s, sc = r["attention"]["shares"], r["attention"]["score_shares"]
                lines.append(
                    f"| {t} | {k} | {s['signal'][0]:.3f} | {s['background'][0]:.3f} | "
                    f"{sc['signal'][0]:.3f} | {sc['background'][0]:.3f} |"
                )
    lines += ["", "## Plain against Riemann images (image-only CNN)", ""]
    lines += ["| task | model | AUC | spread of AUC over pT_bb bins | dCor(score, pT_bb), background |",
              "|---|---|---|---|---|"]  # fmt: skip
    for t in tasks:
        for k in IMAGE_MODELS:
            if k in evaluations[t]["models"]:
                r = evaluations[t]["models"][k]
                lines.append(
                    f"| {t} | {k} | {_pm(r['auc'])} | {_pt_spread(r['auc_vs_pt_bb']):.4f} | "
                    f"{_pm(r['dcor_score_pt_bb_background'])} |"
                )
    return "\n".join(lines) + "\n"


def write_report(
    spec: MultimodalSummarySpec,
    evaluations: Mapping[str, Any],
    images: Mapping[str, Mapping[str, np.ndarray]],
    image_config: Mapping[str, Any],
    outputs: Mapping[str, str | os.PathLike[str]],
) -> dict[str, Any]:
    """Write metrics.json, table.md and the figures named in ``outputs``."""
    from phenoflow.plotting import multimodal as plots

    metrics = multimodal_metrics(evaluations)
    write_json(metrics, outputs["metrics"])
    table = Path(outputs["table"])
    table.write_text(render_table(evaluations))
    plots.plot_roc(evaluations, BASE_MODELS, outputs["roc"])
    plots.plot_auc_vs_lambda(lambda_scans(spec, evaluations), outputs["auc_vs_lambda"])
    shares = {
        t: {
            k: r["attention"]["shares"]
            for k, r in ev["models"].items()
            if "attention" in r and k.count("_") <= 1
        }
        for t, ev in evaluations.items()
    }
    plots.plot_attention_shares(shares, outputs["attention"])
    w = float(image_config["eta_half_width"])
    extents = {
        "plain": [-w, w, -math.pi, math.pi],
        "riemann": [-math.pi, math.pi, -math.pi / 2, math.pi / 2],
    }
    plots.plot_mean_images(images, extents, outputs["mean_images"])
    binned = {
        t: {k: ev["models"][k]["auc_vs_pt_bb"] for k in IMAGE_MODELS if k in ev["models"]}
        for t, ev in evaluations.items()
    }
    edges = next(iter(evaluations.values()))["pt_bins"] if evaluations else [0.0, 1.0]
    plots.plot_auc_vs_pt(binned, edges, outputs["auc_vs_pt_bb"])
    return metrics
