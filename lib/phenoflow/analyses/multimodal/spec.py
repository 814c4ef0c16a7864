"""Specs of the multi-modal stage: a task's dataset, one model's training, evaluation, summary.

Model keys (the ``{key}`` wildcard):

=============================  ===============================================================
``kinematics``                 MLP on the b-jet kinematics
``image_plain``                CNN on the plain (eta', phi') radiation image
``image_riemann``              CNN on the Riemann (psi, arcsin z) radiation image
``concat``                     both branches, latent vectors concatenated, no attention
``attention``                  both branches, softmax attention over the latent entries
``attention_l2<half>``         attention + ``multimodal.l2`` * sum W^2 over the columns of
                               W reading ``<half>`` (image, kinematics or all)
``attention_l2<half>_<lam>``   the same with lambda = ``<lam>`` (the lambda scan), e.g.
                               ``attention_l2image_1e-03``
=============================  ===============================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from phenoflow.seeds import job_seed
from phenoflow.spec import Spec, SpecError, section

if TYPE_CHECKING:
    from phenoflow.ml.train import TrainConfig

L2_HALVES = ("image", "kinematics", "all")
BASE_MODELS = (
    "kinematics",
    "image_plain",
    "image_riemann",
    "concat",
    "attention",
    *(f"attention_l2{h}" for h in L2_HALVES),
)
KEY_PATTERN = r"kinematics|image_plain|image_riemann|concat|attention(_l2(image|kinematics|all)(_[0-9.e+-]+)?)?"


def lambda_label(lam: float) -> str:
    """The key suffix of a scanned lambda: ``1e-03`` for 0.001."""
    return f"{lam:.0e}"


@dataclass(frozen=True)
class ModelKey:
    """What a model key means (see the module docstring)."""

    key: str
    kind: str  # kinematics, image, concat or attention (make_multimodal's kind)
    image: str | None  # plain, riemann, or None for kinematics only
    l2: float
    l2_on: str

    @classmethod
    def parse(cls, key: str, l2: float, fusion_image: str) -> ModelKey:
        m = re.fullmatch(r"attention_l2(image|kinematics|all)(?:_([0-9.e+-]+))?", key)
        if m:
            lam = float(m.group(2)) if m.group(2) else l2
            return cls(key, "attention", fusion_image, lam, m.group(1))
        if key == "kinematics":
            return cls(key, "kinematics", None, 0.0, "image")
        if key in ("image_plain", "image_riemann"):
            return cls(key, "image", key.removeprefix("image_"), 0.0, "image")
        if key in ("concat", "attention"):
            return cls(key, key, fusion_image, 0.0, "image")
        raise SpecError(f"unknown multimodal model {key!r}; models: {', '.join(BASE_MODELS)}")

    @property
    def input_keys(self) -> tuple[str, ...]:
        """The dataset arrays the model reads (as the trainer's input keys)."""
        return {"kinematics": ("kinematics",), "image": ("image",)}.get(
            self.kind, ("kinematics", "image")
        )


def task_keys(config: Mapping[str, Any], task: str) -> list[str]:
    """The model keys trained on ``task``: ``multimodal.models`` plus its lambda scan."""
    mm = config["multimodal"]
    keys = list(mm["models"])
    if task in mm["l2_scan"]["tasks"]:
        for half in L2_HALVES:
            keys += [f"attention_l2{half}_{lambda_label(lam)}" for lam in mm["l2_scan"]["lambdas"]]
    return keys


@dataclass(frozen=True)
class MultimodalDatasetSpec(Spec):
    """A task's selected events, kinematics and images (rule ``multimodal_dataset``)."""

    task: str
    signal: tuple[str, ...]
    background: tuple[str, ...]
    reweight: bool
    selection: dict[str, Any]
    image: dict[str, Any]
    split: tuple[float, ...]
    reweight_bins: dict[str, int]
    seed: int

    HASH_EXCLUDE = ("task",)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], task: str) -> MultimodalDatasetSpec:
        mm = config["multimodal"]
        t = section(config, "multimodal", "tasks", task)
        return cls(
            task=task,
            signal=tuple(t["signal"]),
            background=tuple(t["background"]),
            reweight=bool(t.get("reweight", False)),
            selection=dict(mm["selection"]),
            image=dict(mm["image"]),
            split=tuple(mm["split"]),
            reweight_bins=dict(mm["reweight_bins"]),
            seed=job_seed(config, "multimodal", "split"),
        )

    @property
    def processes(self) -> tuple[str, ...]:
        return (*self.signal, *self.background)


@dataclass(frozen=True)
class TrainMultimodalSpec(Spec):
    """One model trained with every seed of ``multimodal.seeds`` (rule ``train_multimodal``)."""

    task: str
    key: str
    seeds: tuple[int, ...]
    l2: float
    fusion_image: str
    model: dict[str, Any]
    train: dict[str, Any]

    HASH_EXCLUDE = ("task",)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], task: str, key: str) -> TrainMultimodalSpec:
        mm = config["multimodal"]
        section(config, "multimodal", "tasks", task)
        if key not in task_keys(config, task):
            raise SpecError(
                f"model {key!r} is not trained on task {task!r}; "
                f"it trains: {', '.join(task_keys(config, task))}"
            )
        return cls(
            task, key, tuple(mm["seeds"]), mm["l2"], mm["fusion_image"], dict(mm["model"]),
            dict(mm["train"]),
        )  # fmt: skip

    def model_key(self) -> ModelKey:
        return ModelKey.parse(self.key, self.l2, self.fusion_image)

    def train_config(self, seed: int) -> TrainConfig:
        from phenoflow.ml.train import TrainConfig

        return TrainConfig(seed=seed, amp=False, **self.train)


@dataclass(frozen=True)
class EvaluateMultimodalSpec(Spec):
    """Every model of a task on its test split (rule ``evaluate_multimodal``)."""

    task: str
    keys: tuple[str, ...]
    seeds: tuple[int, ...]
    l2: float
    fusion_image: str
    model: dict[str, Any]
    pt_bins: tuple[float, ...]
    reweight: bool

    HASH_EXCLUDE = ("task",)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], task: str) -> EvaluateMultimodalSpec:
        mm = config["multimodal"]
        t = section(config, "multimodal", "tasks", task)
        return cls(
            task=task,
            keys=tuple(task_keys(config, task)),
            seeds=tuple(mm["seeds"]),
            l2=mm["l2"],
            fusion_image=mm["fusion_image"],
            model=dict(mm["model"]),
            pt_bins=tuple(mm["pt_bins"]),
            reweight=bool(t.get("reweight", False)),
        )

    def model_files(self, task_dir: str) -> list[str]:
        return [f"{task_dir}/models/{k}.pt" for k in self.keys]


@dataclass(frozen=True)
class MultimodalSummarySpec(Spec):
    """The stage's metrics, table and figures over every task (rule ``summarize_multimodal``)."""

    tasks: tuple[str, ...]
    l2: float
    l2_scan: dict[str, Any]

    @classmethod
    def from_config(cls, config: Mapping[str, Any], tasks: Any = None) -> MultimodalSummarySpec:
        mm = config["multimodal"]
        chosen = tuple(mm["tasks"]) if tasks is None else tuple(tasks)
        return cls(chosen, mm["l2"], dict(mm["l2_scan"]))
