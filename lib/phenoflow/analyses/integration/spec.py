"""Specs of the integration stage: ladders, pulls, the strata figure, the Drell-Yan check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from phenoflow.seeds import job_seed
from phenoflow.spec import Spec, listed


def _drell_yan(config: Mapping[str, Any], integrand: str) -> dict[str, Any] | None:
    return dict(config["integration"]["drell_yan"]) if integrand == "drell_yan" else None


@dataclass(frozen=True)
class LadderSpec(Spec):
    """Every method at every call budget on one integrand (rule ``integrate_ladder``)."""

    integrand: str
    methods: tuple[str, ...]
    ladder: tuple[int, ...]
    options: dict[str, Any]
    drell_yan: dict[str, Any] | None
    seed: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any], integrand: str) -> LadderSpec:
        it = config["integration"]
        return cls(
            integrand=listed(config, integrand, "integration", "integrands"),
            methods=tuple(it["methods"]),
            ladder=tuple(it["ladder"][integrand]),
            options=dict(it["options"]),
            drell_yan=_drell_yan(config, integrand),
            seed=job_seed(config, "integration", integrand),
        )


@dataclass(frozen=True)
class PullsSpec(Spec):
    """(estimate - exact) / sdev over many seeds (rule ``integrate_pulls``)."""

    integrand: str
    methods: tuple[str, ...]
    n_calls: int
    seeds: tuple[int, ...]
    options: dict[str, Any]
    drell_yan: dict[str, Any] | None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], integrand: str) -> PullsSpec:
        it = config["integration"]
        p = it["pulls"]
        base = job_seed(
            config, "integration", "pulls", listed(config, integrand, "integration", "integrands")
        )
        return cls(
            integrand=integrand,
            methods=tuple(p["methods"]),
            n_calls=p["n_calls"][integrand],
            seeds=tuple(base + i for i in range(p["n_seeds"])),
            options=dict(it["options"]),
            drell_yan=_drell_yan(config, integrand),
        )


@dataclass(frozen=True)
class StrataSpec(Spec):
    """The lestrat classes drawn over the 2D fine-tuning integrand (rule ``draw_strata``)."""

    n_calls: int
    seed: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StrataSpec:
        return cls(config["integration"]["strata_calls"], job_seed(config, "integration", "strata"))


@dataclass(frozen=True)
class DrellYanCheckSpec(Spec):
    """Drell-Yan against Pythia, unweighted events, VEGAS+ (rule ``check_drell_yan``)."""

    m_min: float
    m_max: float
    pt_min: float
    eta_max: float
    n_calls: int
    pythia_windows: tuple[tuple[float, float], ...]
    pythia_events: int
    unweighted_events: int
    zoom: dict[str, float]
    afb_edges: tuple[float, ...]
    cos_windows: tuple[tuple[float, float], ...]
    seed: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DrellYanCheckSpec:
        dy = config["integration"]["drell_yan"]
        return cls.from_params({**dy, "seed": job_seed(config, "integration", "drell_yan")})

    def settings(self) -> dict[str, Any]:
        """The ``integration.drell_yan`` section (everything but the seed)."""
        return {k: v for k, v in self.to_params().items() if k != "seed"}
