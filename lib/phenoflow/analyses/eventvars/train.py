"""Training of the event-variable networks per topology (kept apart from evaluation so that
changing the evaluation code does not retrain)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from phenoflow.generation.toys import sample_topology
from phenoflow.ml.event_variable import (
    EventVariable,
    EVNConfig,
    TrainingProgress,
    train_event_variable,
)
from phenoflow.seeds import derive_seed


def correlations(v: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """(Kendall tau, Spearman r_s) of v against the reference variable."""
    tau = stats.kendalltau(v, reference).statistic
    rho = stats.spearmanr(v, reference).statistic
    return float(tau), float(rho)


def train_topology(
    topology: str,
    n_train: int,
    config: EVNConfig,
    base_seed: int,
    callback: Callable[[TrainingProgress], None] | None = None,
) -> tuple[EventVariable, dict[str, Any]]:
    """Sample ``n_train`` events of ``topology`` from the prior and train an EVN on them.

    The sign of each V component is set so that it correlates positively with
    the topology's reference variable on an independent sample.
    """
    rng = np.random.default_rng(derive_seed(base_seed, "eventvars", "train", topology))
    sample = sample_topology(topology, n_train, rng)
    ev, history = train_event_variable((sample.X, sample.theta), config, callback)
    check = sample_topology(
        topology,
        20_000,
        np.random.default_rng(derive_seed(base_seed, "eventvars", "orient", topology)),
    )
    v = ev.transform(check.X).reshape(len(check.X), -1)
    ev.sign = np.array(
        [1.0 if correlations(v[:, j], check.reference)[0] >= 0 else -1.0 for j in range(v.shape[1])]
    )
    ev.info.update({"topology": topology, "n_train": n_train})
    history["n_train"] = n_train
    return ev, history
