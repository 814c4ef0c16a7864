"""Train one multi-scale model key (every seed), or the boosted trees, on the dijet dataset."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from phenoflow.analyses.multiscale.spec import TrainMultiscaleSpec
from phenoflow.io.splits import load_split
from phenoflow.ml.train import train_classifier

log = logging.getLogger(__name__)

PARAMETERISED = ("multiscale_param",)


def subset(split: Mapping[str, np.ndarray], keep: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[keep] for k, v in split.items()}


def training_rows(split: Mapping[str, np.ndarray], signal_index: list[int]) -> np.ndarray:
    """Rows of ``split``: every background event and the signal of the listed processes."""
    return (split["labels"] == 0) | np.isin(split["process"], signal_index)


def build_model(
    key: str, split: Mapping[str, np.ndarray], model: Mapping[str, Any], part: Mapping[str, Any]
) -> nn.Module:
    """The network of ``key``, sized to the dataset's arrays."""
    from phenoflow.ml.models.multiscale import build_multiscale, make_two_jet_part

    if key == "part":
        return make_two_jet_part(n_features=int(split["jet1_features"].shape[-1]), **dict(part))
    kind = {"multiscale_both": "multiscale", "multiscale_param": "multiscale"}.get(key, key)
    options = {
        **dict(model),
        "n_features": int(split["jet1_features"].shape[-1]),
        "n_kin_features": int(split["kin_tokens"].shape[-1]),
        "n_kinematics": int(split["kinematics"].shape[-1]),
        "parameterised": key in PARAMETERISED,
    }
    if key == "multiscale_both":
        options["cross"] = "both"
    return build_multiscale(kind, options)


def input_keys(model: nn.Module) -> tuple[str, ...]:
    keys: tuple[str, ...] = model.input_keys  # type: ignore[assignment]
    return keys


def process_indices(
    card_processes: Mapping[str, Mapping[str, Any]], names: tuple[str, ...]
) -> list[int]:
    return [int(card_processes[p]["index"]) for p in names]


def train_key(
    spec: TrainMultiscaleSpec,
    dataset: str | os.PathLike[str],
    card: Mapping[str, Any],
    checkpoints: str | os.PathLike[str],
    job_key: Mapping[str, str] | None,
) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    """Train ``spec.key`` once per seed on its signal processes and every background."""
    signal = process_indices(card["processes"], spec.training_processes)
    train, val = (load_split(dataset, s) for s in ("train", "val"))
    train = subset(train, training_rows(train, signal))
    val = subset(val, training_rows(val, signal))
    for name, split in (("train", train), ("val", val)):
        if len(np.unique(split["labels"])) < 2:
            raise ValueError(f"{dataset}/{name}: needs both classes; generate more events")
    states, histories = {}, {}
    for seed in spec.seeds:
        torch.manual_seed(seed)
        model = build_model(spec.key, train, spec.model, spec.part)
        history = train_classifier(
            model, train, val, spec.train_config(seed),
            checkpoint=Path(checkpoints) / f"{spec.key}_seed{seed}.ckpt",
            input_keys=input_keys(model), resume_key=job_key,
        )  # fmt: skip
        log.info(
            "%s seed %d: best epoch %s, %d parameters",
            spec.key,
            seed,
            history["best_epoch"],
            history["n_parameters"],
        )
        states[str(seed)] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        histories[str(seed)] = history
    return states, {
        "key": spec.key,
        "training_processes": list(spec.training_processes),
        "seeds": histories,
    }


def train_bdt(
    spec: TrainMultiscaleSpec,
    dataset: str | os.PathLike[str],
    card: Mapping[str, Any],
    output: str | os.PathLike[str],
) -> dict[str, Any]:
    """Boosted trees on the high-level kinematics of the target mass point; stored with skops."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from phenoflow.ml.tree_store import save_trees

    signal = process_indices(card["processes"], spec.training_processes)
    train = load_split(dataset, "train")
    train = subset(train, training_rows(train, signal))
    start = time.perf_counter()
    clf = HistGradientBoostingClassifier(
        max_iter=200, early_stopping=True, random_state=spec.seeds[0]
    )
    clf.fit(train["kinematics"], train["labels"])
    save_trees(clf, output)
    return {
        "key": "bdt",
        "wall_s": time.perf_counter() - start,
        "seed": spec.seeds[0],
        "features": list(card["kinematic_features"]),
    }


def load_models(
    path: str | os.PathLike[str],
    key: str,
    split: Mapping[str, np.ndarray],
    model: Mapping[str, Any],
    part: Mapping[str, Any],
) -> dict[int, nn.Module]:
    """The trained networks of a model file, one per seed, in eval mode."""
    states = torch.load(path, map_location="cpu", weights_only=True)
    out = {}
    for seed, state in states.items():
        net = build_model(key, split, model, part)
        net.load_state_dict(state)
        out[int(seed)] = net.eval()
    return out
