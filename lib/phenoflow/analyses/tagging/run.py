"""Top tagging with prong structure: train and evaluate the taggers side by side.

Models (``lib/phenoflow/ml/models``): ``mixer`` (MLP-Mixer + subjet cross-
attention, arXiv:2404.14677), ``part`` (Particle Transformer), ``deepsets``
(particle-flow network), and the ``bdt`` baseline on soft-drop mass and tau32.
A model key is ``<name>`` or ``<name>_<subjet algorithm>`` (``mixer_hdbscan``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from phenoflow.ml import metrics
from phenoflow.ml.data import load_tagging_split, substructure_column
from phenoflow.ml.device import pick_device
from phenoflow.ml.models import TAGGER_NAMES, build_tagger
from phenoflow.ml.train import TrainConfig, predict, train_classifier
from phenoflow.ml.tree_store import load_trees, save_trees

log = logging.getLogger(__name__)

DEEP_MODELS = TAGGER_NAMES
BASELINE_FEATURES = ("sd_mass", "tau32")


def parse_key(key: str) -> tuple[str, str | None]:
    """``"mixer_hdbscan"`` -> ("mixer", "hdbscan"); ``"part"`` -> ("part", None)."""
    name, _, algo = key.partition("_")
    if name not in (*DEEP_MODELS, "bdt"):
        raise ValueError(f"unknown tagger {key!r}; models: {', '.join((*DEEP_MODELS, 'bdt'))}")
    return name, (algo or None)


def build_model(name: str, options: Mapping[str, Any]) -> nn.Module:
    """A freshly initialised tagger (call torch.manual_seed first for reproducibility)."""
    if name not in DEEP_MODELS:
        raise ValueError(f"unknown deep model {name!r}; expected one of {DEEP_MODELS}")
    return build_tagger(name, **options)


def n_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


IN_MEMORY_BYTES = 4 * 2**30  # splits smaller than this are read into RAM (faster batches)


def load_splits(dataset: str | Path, algorithm: str) -> dict[str, dict[str, np.ndarray]]:
    """train/val/test tagger inputs; memory-mapped, or in RAM when they are small."""
    out = {}
    for split in ("train", "val", "test"):
        arrays = load_tagging_split(Path(dataset) / split, algorithm)
        if sum(a.nbytes for a in arrays.values()) < IN_MEMORY_BYTES:
            arrays = {k: np.ascontiguousarray(a) for k, a in arrays.items()}
        out[split] = arrays
    return out


def train_deep(
    key: str,
    dataset: str | Path,
    model_options: Mapping[str, Any],
    config: TrainConfig,
    checkpoint: str | Path,
    default_algorithm: str = "ca",
    resume_key: Mapping[str, str] | None = None,
) -> tuple[nn.Module, dict[str, Any]]:
    """Train one deep tagger (seeded by ``config.seed``); resumable through ``checkpoint``.

    ``resume_key`` (``phenoflow.resume.resume_key``) names the job: a checkpoint written
    under another key is ignored and replaced.
    """
    name, algo = parse_key(key)
    data = load_splits(dataset, algo or default_algorithm)
    for split, arrays in data.items():
        if len(arrays["labels"]) == 0:
            raise ValueError(f"{dataset}/{split}: the split holds no jets")
    torch.manual_seed(config.seed)
    model = build_model(name, model_options)
    history = train_classifier(
        model, data["train"], data["val"], config, checkpoint=checkpoint, resume_key=resume_key
    )
    history["n_parameters"] = n_parameters(model)
    history["model"] = key
    return model, history


def train_bdt(dataset: str | Path, seed: int, output: str | Path) -> dict[str, Any]:
    """Gradient-boosted trees on (soft-drop mass, tau32); stored with skops at ``output``."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    data = load_splits(dataset, "ca")
    X = np.stack([substructure_column(data["train"], f) for f in BASELINE_FEATURES], axis=1)
    start = time.perf_counter()
    clf = HistGradientBoostingClassifier(max_iter=200, early_stopping=True, random_state=seed)
    clf.fit(X, data["train"]["labels"])
    wall = time.perf_counter() - start
    save_trees(clf, output)
    return {"model": "bdt", "wall_s": wall, "n_parameters": 0, "features": list(BASELINE_FEATURES)}


def bdt_scores(model_path: str | Path, data: Mapping[str, np.ndarray]) -> np.ndarray:
    """(n,) signal probabilities of the BDT stored at ``model_path`` (see :func:`train_bdt`)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = load_trees(model_path, expected=HistGradientBoostingClassifier)
    X = np.stack([substructure_column(data, f) for f in BASELINE_FEATURES], axis=1)
    return clf.predict_proba(X)[:, 1]


def score_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": metrics.accuracy(labels, scores),
        "auc": metrics.auc(labels, scores),
        "r30": metrics.rejection_at(labels, scores, 0.3),
        "r50": metrics.rejection_at(labels, scores, 0.5),
    }


def inference_speed(
    model: nn.Module,
    data: Mapping[str, np.ndarray],
    device: torch.device,
    batch_sizes: Sequence[int] = (1, 1024),
    min_time: float = 1.0,
) -> dict[str, dict[str, float]]:
    """Jets/s and latency per batch, in eval mode under inference_mode, on ``device``."""
    keys = ("features", "mask", "p4", "subjet_features", "subjet_mask")
    model = model.to(device).eval()
    n = len(data["labels"])
    out = {}
    for bs in batch_sizes:
        idx = np.arange(bs) % n
        batch = {k: torch.as_tensor(np.asarray(data[k])[idx]).to(device) for k in keys if k in data}
        with torch.inference_mode():
            model(batch)  # warm-up
            if device.type == "cuda":
                torch.cuda.synchronize()
            calls, start = 0, time.perf_counter()
            while True:
                model(batch)
                calls += 1
                if device.type == "cuda":
                    torch.cuda.synchronize()
                elapsed = time.perf_counter() - start
                if elapsed >= min_time or calls >= 1000:
                    break
        out[f"batch_{bs}"] = {
            "jets_per_s": calls * bs / elapsed,
            "latency_ms": 1e3 * elapsed / calls,
        }
    return out


def roc_points(labels: np.ndarray, scores: np.ndarray, n: int = 200) -> dict[str, list[float]]:
    """A thinned ROC curve (signal efficiency, 1/background efficiency) for the figure."""
    eps_s, eps_b = metrics.roc_curve(labels, scores)
    grid = np.linspace(0.05, 1.0, n)
    eb = np.interp(grid, eps_s, eps_b)
    return {"eps_s": grid.tolist(), "rejection": (1.0 / np.maximum(eb, 1e-12)).tolist()}


def evaluate_all(
    dataset: str | Path,
    deep: Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]],
    bdt_models: Sequence[str],
    default_algorithm: str,
    model_options: Mapping[str, Mapping[str, Any]],
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    speed_devices: Sequence[str] = ("cpu", "cuda"),
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Evaluate every trained tagger on the test split, side by side.

    ``deep``: key -> [(checkpoint path, ...)] one per seed.  Returns (table, extras):
    table[key] has mean/std over seeds of accuracy, AUC, R30, R50, the parameter
    count, training time per epoch, inference speed per device; extras holds ROC
    curves and attention maps.
    """
    table: dict[str, Any] = {}
    extras: dict[str, Any] = {"roc": {}, "attention": None}
    cache: dict[str, dict[str, np.ndarray]] = {}
    for key, runs in deep.items():
        name, algo = parse_key(key)
        algo = algo or default_algorithm
        test = cache.setdefault(algo, load_tagging_split(Path(dataset) / "test", algo))
        per_seed = []
        model = None
        for ckpt, _seed in runs:
            model = build_model(name, model_options[name])
            state = torch.load(ckpt, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
            scores = predict(model, test, batch_size=512, device=torch.device("cpu"))
            per_seed.append(score_metrics(test["labels"], scores))
            if progress:
                progress(f"{key} seed {_seed}: AUC {per_seed[-1]['auc']:.4f}")
        assert model is not None  # (runs is not empty)
        row: dict[str, Any] = {
            m: metrics.summarize_seeds([r[m] for r in per_seed]) for m in per_seed[0]
        }
        row["n_parameters"] = n_parameters(model)
        hist = histories.get(key, [])
        row["seconds_per_epoch"] = metrics.summarize_seeds(
            [float(np.mean(h["seconds_per_epoch"])) for h in hist]
        )
        row["training_jets_per_s"] = metrics.summarize_seeds(
            [float(np.mean(h["jets_per_s"])) for h in hist]
        )
        row["training_device"] = hist[0]["device"] if hist else None
        row["speed"] = {}
        for dev in speed_devices:
            if dev == "cuda" and not torch.cuda.is_available():
                continue
            row["speed"][dev] = inference_speed(model, test, pick_device(dev))
        table[key] = row
        extras["roc"][key] = roc_points(test["labels"], scores)
        if name == "mixer" and extras["attention"] is None and hasattr(model, "attention_map"):
            extras["attention"] = attention_example(model, test, key)
    for path in bdt_models:
        test = cache.setdefault(
            default_algorithm, load_tagging_split(Path(dataset) / "test", default_algorithm)
        )
        scores = bdt_scores(path, test)
        table["bdt"] = {
            m: metrics.summarize_seeds([v])
            for m, v in score_metrics(test["labels"], scores).items()
        }
        table["bdt"]["n_parameters"] = 0
        extras["roc"]["bdt"] = roc_points(test["labels"], scores)
    return table, extras


def attention_example(
    model: nn.Module, test: Mapping[str, np.ndarray], key: str, n_jets: int = 512
) -> dict[str, Any]:
    """Mean attention of particles (by pT rank) over subjets (by pT rank), for top and QCD jets."""
    model = model.cpu().eval()
    out: dict[str, Any] = {"model": key}
    for label, cls in ((1, "top"), (0, "qcd")):
        idx = np.flatnonzero(test["labels"] == label)[:n_jets]
        if not idx.size:
            continue
        batch = {
            k: torch.as_tensor(np.asarray(test[k])[idx])
            for k in ("features", "mask", "p4", "subjet_features", "subjet_mask")
        }
        attention_map = cast("Callable[..., torch.Tensor]", model.attention_map)
        with torch.inference_mode():
            att = attention_map(batch).numpy()  # (B, N, S)
        mask = np.asarray(test["mask"])[idx][..., None]
        out[cls] = ((att * mask).sum(axis=0) / np.maximum(mask.sum(axis=0), 1)).tolist()
    return out
