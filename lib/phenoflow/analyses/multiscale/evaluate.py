"""Every multi-scale model, the boosted trees and the cut-based analysis on the test events of
the target mass point: AUC, rejection at 30 % and 50 % signal efficiency (seed spread and
bootstrap intervals), background yields, the cross-attention map."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from phenoflow.analyses.multiscale.spec import EvaluateMultiscaleSpec
from phenoflow.analyses.multiscale.train import input_keys, load_models, subset
from phenoflow.io.splits import load_split
from phenoflow.ml.metrics import auc, rejection_at, roc_curve, summarize_seeds
from phenoflow.ml.train import predict

log = logging.getLogger(__name__)

WORKING_POINTS = (0.3, 0.5)
CLASSES = ("background", "signal")


def test_events(
    dataset: str | os.PathLike[str], card: Mapping[str, Any], spec: EvaluateMultiscaleSpec
) -> dict[str, np.ndarray]:
    """Test events of the target mass point and every background, all at m_H = target mass."""
    test = load_split(dataset, "test")
    target = int(card["processes"][spec.target]["index"])
    out = subset(test, (test["labels"] == 0) | (test["process"] == target))
    out["mass"] = np.full(len(out["labels"]), spec.signal[spec.target], dtype=np.float32)
    return out


def cut_based(
    test: Mapping[str, np.ndarray], features: Sequence[str], mass: float, cuts: Mapping[str, Any]
) -> np.ndarray:
    """1 where both fat jets' soft-drop masses lie in ``cuts.m_j`` and m_JJ within
    ``cuts.m_jj_window`` (a fraction) of m_H, else 0."""
    kin = test["kinematics_raw"]
    col = {name: kin[:, i] for i, name in enumerate(features)}
    lo, hi = cuts["m_j"]
    w = cuts["m_jj_window"]
    ok = (
        (col["sd_mass_j1"] > lo)
        & (col["sd_mass_j1"] < hi)
        & (col["sd_mass_j2"] > lo)
        & (col["sd_mass_j2"] < hi)
    )
    ok &= np.abs(col["m_jj"] - mass) < w * mass
    return ok.astype(np.float64)


def _rejections(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    return {f"r{int(100 * e)}": rejection_at(labels, scores, e) for e in WORKING_POINTS}


def bootstrap(labels: np.ndarray, scores: np.ndarray, n: int, seed: int) -> dict[str, list[float]]:
    """16th and 84th percentiles of R30 and R50 over ``n`` bootstrap resamples of the events."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[float]] = {f"r{int(100 * e)}": [] for e in WORKING_POINTS}
    for _ in range(n):
        idx = rng.integers(0, len(labels), len(labels))
        if len(np.unique(labels[idx])) < 2:
            continue
        for k, v in _rejections(labels[idx], scores[idx]).items():
            rows[k].append(v)
    # "nearest": an infinite rejection (no background left) stays infinite, never NaN
    pct = {k: np.percentile(v, [16, 84], method="nearest") for k, v in rows.items() if v}
    return {k: [float(p[0]), float(p[1])] for k, p in pct.items()}


def per_background(
    test: Mapping[str, np.ndarray], scores: np.ndarray, card: Mapping[str, Any], eps_s: float = 0.5
) -> dict[str, Any]:
    """Per background process: efficiency at the score cut with signal efficiency ``eps_s``,
    rejection, and the expected events per fb^-1 (fiducial cross section x efficiency)."""
    labels = test["labels"]
    cut = float(np.quantile(scores[labels == 1], 1.0 - eps_s))
    out = {}
    for name, proc in card["processes"].items():
        if proc["label"] != 0:
            continue
        sel = test["process"] == proc["index"]
        if not sel.any():
            continue
        eff = float(np.mean(scores[sel] >= cut))
        fid = proc.get("fiducial_sigma_pb")
        out[name] = {
            "efficiency": eff,
            "rejection": math.inf if eff == 0 else 1.0 / eff,
            "events_per_fb": None if fid is None else fid * 1000.0 * eff,
            "n_test": int(sel.sum()),
        }
    return out


def _roc(labels: np.ndarray, scores: np.ndarray, n: int = 120) -> dict[str, list[float]]:
    es, eb = roc_curve(labels, scores)
    pick = np.unique(np.linspace(0, len(es) - 1, n).astype(int))
    return {"eff_s": es[pick].tolist(), "eff_b": eb[pick].tolist()}


def score_key(
    key: str, models: Mapping[int, nn.Module], test: Mapping[str, np.ndarray]
) -> dict[int, np.ndarray]:
    return {
        s: predict(m, test, device="cpu", input_keys=input_keys(m))
        for s, m in sorted(models.items())
    }


def summarise_scores(
    scores: Mapping[int, np.ndarray],
    test: Mapping[str, np.ndarray],
    card: Mapping[str, Any],
    spec: EvaluateMultiscaleSpec,
) -> dict[str, Any]:
    labels = test["labels"]
    per_seed = [{"auc": auc(labels, s), **_rejections(labels, s)} for s in scores.values()]
    first = next(iter(scores.values()))
    out: dict[str, Any] = {
        name: summarize_seeds([r[name] for r in per_seed]) for name in per_seed[0]
    }
    out["per_seed"] = per_seed
    out["bootstrap_16_84"] = bootstrap(labels, first, spec.bootstrap, spec.seed)
    out["roc"] = _roc(labels, first)
    out["backgrounds_at_eps_s_0.5"] = per_background(test, first, card)
    return out


def attention_map(
    model: nn.Module, test: Mapping[str, np.ndarray], n_max: int = 2000
) -> dict[str, list[list[float]]]:
    """Head-averaged cross-attention (kinematic tokens x constituent slots), mean per class."""
    keys = input_keys(model)
    out = {}
    with torch.inference_mode():
        for i, cls in enumerate(CLASSES):
            rows = np.flatnonzero(test["labels"] == i)[:n_max]
            inputs = {k: torch.as_tensor(test[k][rows]) for k in keys}
            w = model.cross_attention(inputs).float().mean(dim=1)  # type: ignore[operator]
            out[cls] = w.mean(dim=0).numpy().tolist()
    return out


def evaluate_all(
    spec: EvaluateMultiscaleSpec,
    dataset: str | os.PathLike[str],
    card: Mapping[str, Any],
    files: Mapping[str, str],
) -> dict[str, Any]:
    """The evaluation of every model key and the cut-based analysis."""
    test = test_events(dataset, card, spec)
    train = load_split(dataset, "val")
    results: dict[str, Any] = {}
    first_scores: dict[str, np.ndarray] = {}
    attention = None
    torch.set_grad_enabled(False)
    for key in spec.keys:
        if key == "bdt":
            from sklearn.ensemble import HistGradientBoostingClassifier

            from phenoflow.ml.tree_store import load_trees

            clf = load_trees(files[key], expected=HistGradientBoostingClassifier)
            scores = {0: clf.predict_proba(test["kinematics"])[:, 1]}
            n_params = None
        else:
            models = load_models(files[key], key, train, spec.model, spec.part)
            scores = score_key(key, models, test)
            n_params = sum(p.numel() for p in next(iter(models.values())).parameters())
            if key == "multiscale":
                attention = attention_map(models[min(models)], test)
        results[key] = {**summarise_scores(scores, test, card, spec), "n_parameters": n_params}
        first_scores[key] = next(iter(scores.values()))
        log.info(
            "%s: AUC %.4f, R50 %.1f", key, results[key]["auc"]["mean"], results[key]["r50"]["mean"]
        )
    cuts = cut_based(test, card["kinematic_features"], spec.signal[spec.target], spec.cuts)
    labels = test["labels"]
    eff_s, eff_b = float(cuts[labels == 1].mean()), float(cuts[labels == 0].mean())
    cut_result: dict[str, Any] = {
        "eff_s": eff_s,
        "eff_b": eff_b,
        "rejection": math.inf if eff_b == 0 else 1 / eff_b,
    }
    cut_result["models_at_same_eff_s"] = {
        k: rejection_at(labels, s, eff_s) if eff_s > 0 else None for k, s in first_scores.items()
    }
    return {
        "target": spec.target,
        "mass": spec.signal[spec.target],
        "n_test": {cls: int((labels == i).sum()) for i, cls in enumerate(CLASSES)},
        "models": results,
        "cut_based": cut_result,
        "attention": attention,
        "distributions": distributions(test, card["kinematic_features"]),
    }


def distributions(
    test: Mapping[str, np.ndarray], features: Sequence[str], bins: int = 30
) -> dict[str, Any]:
    """Histograms (density) of the key kinematic inputs for signal and background."""
    out = {}
    for name in ("m_j1", "m_j2", "m_jj", "tau21_j1", "sd_mass_j1", "delta_eta"):
        x = test["kinematics_raw"][:, list(features).index(name)]
        edges = (
            np.quantile(x, [0.0, 1.0])
            if name not in ("m_j1", "m_j2", "sd_mass_j1")
            else np.array([0.0, 300.0])
        )
        e = np.linspace(float(edges[0]), float(edges[1]) + 1e-9, bins + 1)
        out[name] = {
            "edges": e.tolist(),
            **{
                cls: np.histogram(x[test["labels"] == i], bins=e, density=True)[0].tolist()
                for i, cls in enumerate(CLASSES)
            },
        }
    return out
