"""Every model of a multi-modal task on the test split: AUC over seeds, ROC, attention shares,
the image-only AUC in pT_bb bins and the score's dependence on pT_bb."""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from phenoflow.analyses.multimodal.dataset import load_split
from phenoflow.analyses.multimodal.spec import EvaluateMultimodalSpec, ModelKey
from phenoflow.analyses.multimodal.train import load_models, model_inputs, shapes
from phenoflow.ml.metrics import distance_correlation, summarize_seeds, weighted_auc
from phenoflow.ml.train import predict

log = logging.getLogger(__name__)

ROC_POINTS = 100
CLASSES = ("background", "signal")


def roc_points(
    labels: np.ndarray, scores: np.ndarray, weights: np.ndarray, n: int = ROC_POINTS
) -> dict[str, list[float]]:
    """Weighted signal and background efficiencies at ``n`` score thresholds (quantiles)."""
    cuts = np.unique(np.quantile(scores, np.linspace(0.0, 1.0, n)))
    sig, bkg = labels == 1, labels == 0
    ws, wb = weights[sig].sum(), weights[bkg].sum()
    eff_s = [float(weights[sig & (scores >= c)].sum() / ws) for c in cuts]
    eff_b = [float(weights[bkg & (scores >= c)].sum() / wb) for c in cuts]
    return {"eff_s": eff_s, "eff_b": eff_b}


def attention_shares(
    model: nn.Module, data: Mapping[str, np.ndarray], keys: Sequence[str], batch: int = 1024
) -> dict[str, np.ndarray]:
    """Per-event (image, kinematics) shares of |z * a| and of the scores a: ``(n, 2)`` each."""
    out: dict[str, list[np.ndarray]] = {"shares": [], "score_shares": []}
    n = len(data["labels"])
    with torch.inference_mode():
        for start in range(0, n, batch):
            inputs = {k: torch.as_tensor(data[k][start : start + batch]) for k in keys}
            att = model.attention(inputs)  # type: ignore[operator]
            for name in out:
                out[name].append(att[name].float().numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def _binned_auc(
    labels: np.ndarray,
    scores: np.ndarray,
    weights: np.ndarray,
    x: np.ndarray,
    edges: Sequence[float],
) -> list[float | None]:
    out: list[float | None] = []
    for lo, hi in itertools.pairwise(edges):
        sel = (x >= lo) & (x < hi)
        # both classes with positive weight (reweighting can zero a class in a bin)
        ok = all(weights[sel & (labels == c)].sum() > 0 for c in (0, 1))
        out.append(weighted_auc(labels[sel], scores[sel], weights[sel]) if ok else None)
    return out


def _mean_over_seeds(rows: Sequence[Sequence[float | None]]) -> dict[str, list[float | None]]:
    arr = np.array([[np.nan if v is None else v for v in r] for r in rows], dtype=float)
    mean = [None if np.all(np.isnan(c)) else float(np.nanmean(c)) for c in arr.T]
    std = [float(np.nanstd(c, ddof=1)) if np.sum(~np.isnan(c)) > 1 else None for c in arr.T]
    return {"mean": mean, "std": std}


def evaluate_key(
    key: ModelKey,
    models: Mapping[int, nn.Module],
    test: Mapping[str, np.ndarray],
    pt_bins: Sequence[float],
) -> dict[str, Any]:
    """AUC per seed (and mean, spread), ROC of the first seed, pT_bb-binned AUC, dCor, shares."""
    data = model_inputs(test, key, weighted=False)
    labels, weights = test["labels"].astype(np.int64), test["weights"].astype(np.float64)
    bkg = labels == 0
    aucs, binned, dcor, shares = [], [], [], []
    roc = None
    for seed, model in sorted(models.items()):
        scores = predict(model, data, device="cpu", input_keys=key.input_keys)
        aucs.append(weighted_auc(labels, scores, weights))
        binned.append(_binned_auc(labels, scores, weights, test["pt_bb"], pt_bins))
        dcor.append(distance_correlation(scores[bkg], test["pt_bb"][bkg], seed=seed))
        roc = roc if roc is not None else roc_points(labels, scores, weights)
        if key.kind == "attention":
            shares.append(_class_shares(attention_shares(model, data, key.input_keys), labels))
    out: dict[str, Any] = {
        "auc": summarize_seeds(aucs),
        "auc_per_seed": aucs,
        "roc": roc,
        "auc_vs_pt_bb": _mean_over_seeds(binned),
        "dcor_score_pt_bb_background": summarize_seeds(dcor),
        "l2": key.l2,
        "l2_on": key.l2_on if key.kind == "attention" else None,
    }
    if shares:
        out["attention"] = {
            name: {cls: np.mean([s[name][cls] for s in shares], axis=0).tolist() for cls in CLASSES}
            for name in ("shares", "score_shares")
        }
    return out


def _class_shares(att: Mapping[str, np.ndarray], labels: np.ndarray) -> dict[str, dict[str, Any]]:
    """Mean (image, kinematics) shares per class."""
    return {
        name: {cls: values[labels == i].mean(axis=0) for i, cls in enumerate(CLASSES)}
        for name, values in att.items()
    }


def mean_images(split: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Mean pT per pixel (GeV, undoing the log) per class and image kind."""
    out = {}
    for kind in ("plain", "riemann"):
        pt = np.expm1(split[f"image_{kind}"].astype(np.float64))
        for i, cls in enumerate(CLASSES):
            sel = split["labels"] == i
            out[f"{kind}_{cls}"] = pt[sel].mean(axis=0) if sel.any() else np.zeros(pt.shape[1:])
    return out


def evaluate_task(
    spec: EvaluateMultimodalSpec,
    dataset: str | os.PathLike[str],
    model_files: Mapping[str, str | os.PathLike[str]],
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(evaluation of every model key, mean images) of one task."""
    test = load_split(dataset, "test")
    n_kin, size = shapes(test)
    results = {}
    torch.set_grad_enabled(False)
    for name in spec.keys:
        key = ModelKey.parse(name, spec.l2, spec.fusion_image)
        models = load_models(model_files[name], key, n_kin, size, spec.model)
        results[name] = evaluate_key(key, models, test, spec.pt_bins)
        log.info(
            "%s %s: AUC %.4f +- %.4f",
            spec.task,
            name,
            *(results[name]["auc"][k] for k in ("mean", "std")),
        )
    counts = {cls: int((test["labels"] == i).sum()) for i, cls in enumerate(CLASSES)}
    evaluation = {
        "task": spec.task,
        "n_test": counts,
        "reweighted": spec.reweight,
        "pt_bins": list(spec.pt_bins),
        "models": results,
    }
    return evaluation, mean_images(load_split(dataset, "train"))


def model_file_map(spec: EvaluateMultimodalSpec, files: Sequence[str]) -> dict[str, str]:
    """Model key -> file, from the rule's input list (in ``spec.keys`` order)."""
    by_stem = {Path(f).stem: str(f) for f in files}
    missing = [k for k in spec.keys if k not in by_stem]
    if missing:
        raise FileNotFoundError(f"no model file for {', '.join(missing)} among {sorted(by_stem)}")
    return {k: by_stem[k] for k in spec.keys}
