"""Specs of the tagging stage: one deep tagger and seed, the BDT, the evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from phenoflow.ml.models import tagger_names
from phenoflow.seeds import job_seed
from phenoflow.spec import Spec, SpecError, section

if TYPE_CHECKING:
    from phenoflow.ml.train import TrainConfig


@dataclass(frozen=True)
class TrainTaggerSpec(Spec):
    """One deep tagger trained with one seed (rule ``train_tagger``).

    ``key`` is ``<model>`` or ``<model>_<subjet algorithm>``; ``seed`` the
    training seed listed under ``tagging.seeds``.
    """

    task: str
    key: str
    seed: int
    train: dict[str, Any]
    model_options: dict[str, Any]
    subjet_algorithm: str

    HASH_EXCLUDE = ("task",)

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], task: str, key: str, seed: Any
    ) -> TrainTaggerSpec:
        t = config["tagging"]
        name = key.partition("_")[0]
        if name not in tagger_names():
            raise SpecError(f"unknown tagger {key!r}; models: {', '.join(tagger_names())}")
        return cls(task, key, int(seed), dict(t["train"]), dict(t[name]), t["subjet_algorithm"])

    def train_config(self) -> TrainConfig:
        from phenoflow.ml.train import TrainConfig

        return TrainConfig(seed=self.seed, **self.train)


@dataclass(frozen=True)
class TrainBDTSpec(Spec):
    """The (soft-drop mass, tau32) boosted-decision-tree baseline (rule ``train_bdt``)."""

    task: str
    seed: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any], task: str) -> TrainBDTSpec:
        section(config, "datasets", task)
        return cls(task, job_seed(config, "tagging", task, "bdt"))


@dataclass(frozen=True)
class EvaluateTaggersSpec(Spec):
    """Every tagger on the test split (rule ``evaluate_taggers``)."""

    task: str
    models: tuple[str, ...]
    seeds: tuple[int, ...]
    subjet_algorithm: str
    model_options: dict[str, Any]
    speed_reference: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], task: str) -> EvaluateTaggersSpec:
        t = config["tagging"]
        return cls(
            task=task,
            models=tuple(t["models"]),
            seeds=tuple(t["seeds"]),
            subjet_algorithm=t["subjet_algorithm"],
            model_options={m: t[m] for m in tagger_names()},
            speed_reference=dict(t.get("speed_reference", {})),
        )

    def model_files(self, task_dir: str) -> list[str]:
        """The trained models the evaluation reads, under ``task_dir`` (``results/tagging/<task>``)."""
        return [f"{task_dir}/models/{k}_seed{s}.pt" for k in self.models for s in self.seeds]

    def history_files(self, task_dir: str) -> list[str]:
        return [f"{task_dir}/{k}/seed{s}.json" for k in self.models for s in self.seeds]
