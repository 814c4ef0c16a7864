"""Specs of the multi-scale stage: the two-fat-jet dataset, one model's training, evaluation.

Model keys (the ``{key}`` wildcard, ``multiscale.models``):

====================  ==========================================================================
``multiscale``        three self-attention streams (jet 1, jet 2, kinematic tokens) fused by
                      cross-attention (the kinematic tokens query both jets' constituents)
``multiscale_both``   the same with cross-attention both ways
``concat``            the three streams pooled and concatenated, no cross-attention
``part``              a Particle Transformer over both jets' constituents (single stream)
``kinematics_mlp``    an MLP on the high-level kinematics
``multiscale_param``  ``multiscale`` with m_H as an input, trained on the other mass points only
``bdt``               boosted trees on the high-level kinematics
====================  ==========================================================================

The cut-based analysis (mass windows) always runs in the evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from phenoflow.seeds import job_seed
from phenoflow.spec import Spec, SpecError

if TYPE_CHECKING:
    from phenoflow.ml.train import TrainConfig

MODEL_KEYS = (
    "multiscale",
    "multiscale_both",
    "concat",
    "part",
    "kinematics_mlp",
    "multiscale_param",
    "bdt",
)
KEY_PATTERN = "|".join(MODEL_KEYS)


def _mass_points(config: Mapping[str, Any]) -> dict[str, float]:
    return {p: float(m) for p, m in config["multiscale"]["signal"].items()}


@dataclass(frozen=True)
class MultiscaleDatasetSpec(Spec):
    """The selected two-fat-jet events of every sample (rule ``multiscale_dataset``)."""

    signal: dict[str, float]  # process -> m_H [GeV]
    background: tuple[str, ...]
    selection: dict[str, Any]
    split: tuple[float, ...]
    seed: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MultiscaleDatasetSpec:
        ms = config["multiscale"]
        return cls(
            signal=_mass_points(config),
            background=tuple(ms["background"]),
            selection=dict(ms["selection"]),
            split=tuple(ms["split"]),
            seed=job_seed(config, "multiscale", "split"),
        )

    @property
    def processes(self) -> tuple[str, ...]:
        return (*self.signal, *self.background)


@dataclass(frozen=True)
class TrainMultiscaleSpec(Spec):
    """One model trained with every seed of ``multiscale.seeds`` (rules ``train_multiscale``,
    ``train_multiscale_bdt``)."""

    key: str
    seeds: tuple[int, ...]
    target: str
    signal: dict[str, float]
    model: dict[str, Any]
    part: dict[str, Any]
    train: dict[str, Any]

    @classmethod
    def from_config(cls, config: Mapping[str, Any], key: str) -> TrainMultiscaleSpec:
        ms = config["multiscale"]
        if key not in ms["models"]:
            raise SpecError(f"unknown multiscale model {key!r}; multiscale.models: {ms['models']}")
        seeds = tuple(ms["seeds"])
        if key == "bdt":  # one boosted-tree fit, seeded per job
            seeds = (job_seed(config, "multiscale", "bdt") % 2**31,)
        return cls(
            key, seeds, ms["target"], _mass_points(config), dict(ms["model"]), dict(ms["part_model"]),
            dict(ms["train"]),
        )  # fmt: skip

    @property
    def training_processes(self) -> tuple[str, ...]:
        """The signal processes this key trains on: the target, or the other mass points."""
        if self.key == "multiscale_param":
            return tuple(p for p in self.signal if p != self.target)
        return (self.target,)

    def train_config(self, seed: int) -> TrainConfig:
        from phenoflow.ml.train import TrainConfig

        return TrainConfig(seed=seed, **self.train)


@dataclass(frozen=True)
class EvaluateMultiscaleSpec(Spec):
    """Every model on the test events of the target mass point (rule ``evaluate_multiscale``)."""

    keys: tuple[str, ...]
    seeds: tuple[int, ...]
    target: str
    signal: dict[str, float]
    model: dict[str, Any]
    part: dict[str, Any]
    cuts: dict[str, Any]
    bootstrap: int
    seed: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EvaluateMultiscaleSpec:
        ms = config["multiscale"]
        return cls(
            keys=tuple(ms["models"]),
            seeds=tuple(ms["seeds"]),
            target=ms["target"],
            signal=_mass_points(config),
            model=dict(ms["model"]),
            part=dict(ms["part_model"]),
            cuts=dict(ms["cuts"]),
            bootstrap=ms["bootstrap"],
            seed=job_seed(config, "multiscale", "bootstrap"),
        )

    def model_files(self, base: str) -> list[str]:
        return [f"{base}/models/{k}.{'skops' if k == 'bdt' else 'pt'}" for k in self.keys]
