"""Inference-speed references: architectures timed beside the trained taggers, untrained.

The cost of a forward pass does not depend on the weights, so a network that is
too expensive to train in the default budget (the published 2.1 M-parameter
ParT on a 2-core CPU) can still be timed on the same test jets, with the same
batches and threads, in the same job as the trained taggers.  Its rows carry
``speed_only: True`` and no accuracy figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from phenoflow.analyses.tagging.run import DEEP_MODELS, build_model, inference_speed, n_parameters
from phenoflow.ml.device import pick_device


def check_speed_reference(specs: Mapping[str, Mapping[str, Any]]) -> None:
    """Clear errors for a bad ``tagging.speed_reference`` entry."""
    for name, spec in specs.items():
        if not isinstance(spec, Mapping) or "model" not in spec:
            raise ValueError(
                f"tagging.speed_reference.{name}: needs a 'model' ({', '.join(DEEP_MODELS)})"
            )
        if spec["model"] not in DEEP_MODELS:
            raise ValueError(
                f"tagging.speed_reference.{name}.model: unknown model {spec['model']!r}; "
                f"expected one of {', '.join(DEEP_MODELS)}"
            )
        unknown = set(spec) - {"model", "options"}
        if unknown:
            raise ValueError(f"tagging.speed_reference.{name}: unknown key(s) {sorted(unknown)}")


def speed_references(
    specs: Mapping[str, Mapping[str, Any]],
    test: Mapping[str, np.ndarray],
    devices: Sequence[str] = ("cpu", "cuda"),
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Table rows (speed only) for each ``name: {model, options}`` in ``specs``."""
    check_speed_reference(specs)
    rows: dict[str, dict[str, Any]] = {}
    for name, spec in specs.items():
        torch.manual_seed(seed)
        model = build_model(spec["model"], spec.get("options") or {})
        row: dict[str, Any] = {
            "speed_only": True,
            "model": spec["model"],
            "n_parameters": n_parameters(model),
            "speed": {},
        }
        for dev in devices:
            if dev == "cuda" and not torch.cuda.is_available():
                continue
            row["speed"][dev] = inference_speed(model, test, pick_device(dev))
        rows[name] = row
    return rows


def speedups(table: Mapping[str, Mapping[str, Any]], device: str = "cpu") -> dict[str, float]:
    """Throughput ratios at batch 1024: every mixer row over every part row (trained or not)."""

    def rate(row: Mapping[str, Any]) -> float | None:
        s = row.get("speed", {}).get(device, {}).get("batch_1024")
        return None if s is None else float(s["jets_per_s"])

    def model(key: str, row: Mapping[str, Any]) -> str:
        # speed-only rows name their model; trained rows are keyed <model>[_<subjets>]
        return row.get("model") or key.partition("_")[0]

    out = {}
    for fast, frow in table.items():
        if model(fast, frow) != "mixer" or (fast_rate := rate(frow)) is None:
            continue
        for slow, srow in table.items():
            if model(slow, srow) == "part" and (slow_rate := rate(srow)):
                out[f"{fast}/{slow}"] = fast_rate / slow_rate
    return out
