"""Specs of the event-variable stage: training and evaluating one topology's EVN."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from phenoflow.spec import Spec, listed

if TYPE_CHECKING:
    from phenoflow.ml.event_variable import EVNConfig


@dataclass(frozen=True)
class TrainEventVariableSpec(Spec):
    """Training of one EVN (rule ``train_event_variable``).

    Holds only what training depends on, so that changing the test or mass-fit
    settings does not retrain.  ``seed`` is the config's base seed (the
    training derives its own seeds from it and the topology).
    """

    topology: str
    seed: int
    n_train: int
    d_v: int
    epochs: int
    batch_size: int
    learning_rate: float
    patience: int
    device: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any], topology: str) -> TrainEventVariableSpec:
        ev = config["eventvars"]
        return cls(
            topology=listed(config, topology, "eventvars", "topologies"),
            seed=config["seed"],
            n_train=ev["n_train"],
            d_v=ev["d_v"],
            epochs=ev["epochs"],
            batch_size=ev["batch_size"],
            learning_rate=ev["learning_rate"],
            patience=ev["patience"],
            device=ev["device"],
        )

    def evn_config(self) -> EVNConfig:
        from phenoflow.ml.event_variable import EVNConfig

        return EVNConfig(
            d_v=self.d_v,
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            patience=self.patience,
            seed=self.seed,
            device=self.device,
        )


@dataclass(frozen=True)
class EvaluateEventVariableSpec(Spec):
    """Test-set correlations, calibration and mass fit of one EVN (rule ``evaluate_event_variable``)."""

    topology: str
    seed: int
    n_test: int
    mass_fit: dict[str, Any]

    @classmethod
    def from_config(cls, config: Mapping[str, Any], topology: str) -> EvaluateEventVariableSpec:
        ev = config["eventvars"]
        return cls(
            listed(config, topology, "eventvars", "topologies"),
            config["seed"],
            ev["n_test"],
            ev["mass_fit"],
        )
