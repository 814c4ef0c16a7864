"""Specs of the jets stage: clustering a shard, the jets summary, the datasets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from phenoflow.spec import Spec, section

if TYPE_CHECKING:
    from phenoflow.jets.pipeline import JetsConfig

DATASET_CUTS = ("r", "pt_min", "pt_max", "eta_max")


def jets_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``jets`` section without its process list (what a jet shard depends on)."""
    return {k: v for k, v in config["jets"].items() if k != "processes"}


@dataclass(frozen=True)
class ClusterSpec(Spec):
    """Fat jets of one event shard (rule ``cluster_jets``); ``kind`` is the truth label."""

    process: str
    shard: int
    kind: str
    jets: dict[str, Any]

    @classmethod
    def from_config(cls, config: Mapping[str, Any], process: str, shard: Any) -> ClusterSpec:
        kind = section(config, "jets", "processes", process)
        return cls(process, int(shard), kind, jets_settings(config))

    def hashed(self) -> Any:
        return self.jets

    def jets_config(self) -> JetsConfig:
        from phenoflow.jets.pipeline import JetsConfig

        return JetsConfig.from_config(self.jets)


@dataclass(frozen=True)
class JetsSummarySpec(Spec):
    """Figures and metrics of all jets (rule ``summarize_jets``)."""

    processes: dict[str, str]
    half_width: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> JetsSummarySpec:
        jets = config["jets"]
        return cls(dict(jets["processes"]), jets["image"]["half_width"])


@dataclass(frozen=True)
class DatasetSpec(Spec):
    """Train/val/test arrays of one task (rule ``make_dataset``).

    ``seed`` is the config's base seed: the split is a hash of it and the event.
    """

    task: str
    signal: tuple[str, ...]
    background: tuple[str, ...]
    split: tuple[float, ...]
    seed: int
    cuts: dict[str, float]

    @classmethod
    def from_config(cls, config: Mapping[str, Any], task: str) -> DatasetSpec:
        ds = section(config, "datasets", task)
        return cls(
            task=task,
            signal=tuple(ds["signal"]),
            background=tuple(ds["background"]),
            split=tuple(ds["split"]),
            seed=config["seed"],
            cuts={k: config["jets"][k] for k in DATASET_CUTS},
        )

    @property
    def processes(self) -> tuple[str, ...]:
        return self.signal + self.background

    def labels(self) -> dict[str, int]:
        """Process -> class label (signal 1, background 0)."""
        return {**dict.fromkeys(self.background, 0), **dict.fromkeys(self.signal, 1)}
