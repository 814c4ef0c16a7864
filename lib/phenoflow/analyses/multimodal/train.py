"""Train one multi-modal model key on a task's dataset, once per seed (resumable)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from phenoflow.analyses.multimodal.dataset import load_split
from phenoflow.analyses.multimodal.spec import ModelKey, TrainMultimodalSpec
from phenoflow.ml.train import train_classifier

log = logging.getLogger(__name__)


def model_inputs(
    split: Mapping[str, np.ndarray], key: ModelKey, weighted: bool = True
) -> dict[str, np.ndarray]:
    """The arrays ``key`` reads (``kinematics``, ``image``), with ``labels`` and ``weights``."""
    out = {"labels": split["labels"].astype(np.int64)}
    if "kinematics" in key.input_keys:
        out["kinematics"] = split["kinematics"]
    if "image" in key.input_keys:
        out["image"] = split[f"image_{key.image}"]
    if weighted and "weights" in split and not np.all(split["weights"] == 1.0):
        out["weights"] = split["weights"]
    return out


def build_model(
    key: ModelKey, n_kinematic: int, image_size: int, options: Mapping[str, Any]
) -> nn.Module:
    """The network of ``key`` (``phenoflow.ml.models.multimodal.make_multimodal``)."""
    from phenoflow.ml.models.multimodal import make_multimodal

    return make_multimodal(
        key.kind, n_kinematic, image_size, **dict(options), l2=key.l2, l2_on=key.l2_on
    )


def shapes(split: Mapping[str, np.ndarray]) -> tuple[int, int]:
    """(number of kinematic features, image size) of a dataset split."""
    return int(split["kinematics"].shape[1]), int(split["image_plain"].shape[-1])


def train_key(
    spec: TrainMultimodalSpec,
    dataset: str | os.PathLike[str],
    checkpoints: str | os.PathLike[str],
    job_key: Mapping[str, str] | None,
) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    """Train ``spec.key`` once per seed: ({seed: state_dict}, {seed: history}).

    A seed's checkpoint ``<checkpoints>/<key>_seed<seed>.ckpt`` is resumed only by the
    same job: ``job_key`` (``phenoflow.resume.resume_key``: settings, dataset content,
    code) and the seed, which the trainer checks, must match.
    """
    key = spec.model_key()
    train, val = load_split(dataset, "train"), load_split(dataset, "val")
    for name, split in (("train", train), ("val", val)):
        if len(split["labels"]) == 0 or len(np.unique(split["labels"])) < 2:
            raise ValueError(
                f"{dataset}/{name}: needs events of both classes "
                f"(has {len(split['labels'])} events); generate more events for task {spec.task!r}"
            )
    n_kin, size = shapes(train)
    states, histories = {}, {}
    for seed in spec.seeds:
        torch.manual_seed(seed)
        model = build_model(key, n_kin, size, spec.model)
        ckpt = Path(checkpoints) / f"{spec.key}_seed{seed}.ckpt"
        history = train_classifier(
            model,
            model_inputs(train, key),
            model_inputs(val, key),
            spec.train_config(seed),
            checkpoint=ckpt,
            input_keys=key.input_keys,
            resume_key=job_key,
        )
        log.info(
            "%s seed %d: best epoch %s, val loss %.4f, %d parameters",
            spec.key, seed, history["best_epoch"], history["best_val_loss"], history["n_parameters"],
        )  # fmt: skip
        states[str(seed)] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        histories[str(seed)] = history
    return states, {"key": spec.key, "seeds": histories}


def load_models(
    path: str | os.PathLike[str],
    key: ModelKey,
    n_kinematic: int,
    image_size: int,
    options: Mapping[str, Any],
) -> dict[int, nn.Module]:
    """The trained networks of a model file, one per seed, in eval mode."""
    states = torch.load(path, map_location="cpu", weights_only=True)
    out = {}
    for seed, state in states.items():
        model = build_model(key, n_kinematic, image_size, options)
        model.load_state_dict(state)
        out[int(seed)] = model.eval()
    return out
