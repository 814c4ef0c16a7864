"""Specs of the scan stage: test-function scans, the SMOTE study, the Z' scan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from phenoflow.seeds import job_seed
from phenoflow.spec import Spec


@dataclass(frozen=True)
class ScanFunctionSpec(Spec):
    """One test function scanned by every method (rule ``scan_function``)."""

    objective: str
    n_calls: int
    classifier: bool
    options: dict[str, Any]
    seed: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any], objective: str) -> ScanFunctionSpec:
        sc = config["scan"]
        return cls(
            objective=objective,
            n_calls=sc["n_calls"],
            classifier=sc["classifier"],
            options=dict(sc["options"]),
            seed=job_seed(config, "scan", objective),
        )


@dataclass(frozen=True)
class SmoteStudySpec(Spec):
    """The ML scanner with and without SMOTE on a rare target (rule ``scan_smote_study``)."""

    seeds: tuple[int, ...]
    n_calls: int
    n_wanted: int
    dim: int
    volume_fraction: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmoteStudySpec:
        s = config["scan"]["smote"]
        return cls(tuple(s["seeds"]), s["n_calls"], s["n_wanted"], s["dim"], s["volume_fraction"])


@dataclass(frozen=True)
class ZprimeScanSpec(Spec):
    """The allowed Z' region from pseudo-data (rule ``scan_zprime``)."""

    truth: dict[str, float]
    bounds: dict[str, list[float]]
    m_edges: dict[str, float]
    luminosity_fb: float
    systematic: float
    cl: float
    n_calls: int
    options: dict[str, Any]
    seed: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ZprimeScanSpec:
        z = config["scan"]["zprime"]
        return cls(**z, seed=job_seed(config, "scan", "zprime"))

    def settings(self) -> dict[str, Any]:
        """The ``scan.zprime`` section (everything but the seed)."""
        return {k: v for k, v in self.to_params().items() if k != "seed"}
