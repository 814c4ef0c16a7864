"""Specs of the events stage: generation shards, imported ROOT shards, validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from phenoflow.spec import Spec, SpecError, section

if TYPE_CHECKING:
    from phenoflow.generation.pythia import ShardSpec

IMPORT_COLLECTIONS = ("particles", "partons", "weight", "event_id")


@dataclass(frozen=True)
class GenerateSpec(Spec):
    """One Pythia 8 shard (rule ``generate_events``); ``seed`` is the config's base seed."""

    process: str
    shard: int
    seed: int
    common_settings: tuple[str, ...]
    settings: tuple[str, ...]
    chunk_size: int
    events_per_shard: int

    HASH_EXCLUDE = ("process", "shard")

    @classmethod
    def from_config(cls, config: Mapping[str, Any], process: str, shard: Any) -> GenerateSpec:
        proc = section(config, "processes", process)
        return cls(
            process=process,
            shard=int(shard),
            seed=config["seed"],
            common_settings=tuple(config["generation"]["common_settings"]),
            settings=tuple(proc["settings"]),
            chunk_size=config["generation"]["chunk_size"],
            events_per_shard=proc["events_per_shard"],
        )

    def shard_spec(self) -> ShardSpec:
        """The generator's own description of the shard (Pythia seed derived from ``seed``)."""
        from phenoflow.generation.pythia import ShardSpec

        return ShardSpec(
            process=self.process,
            shard=self.shard,
            n_events=self.events_per_shard,
            settings=self.settings,
            base_seed=self.seed,
            chunk_size=self.chunk_size,
            config_hash=self.config_hash,
            common_settings=self.common_settings,
        )


@dataclass(frozen=True)
class ImportSpec(Spec):
    """One external ROOT file turned into an event shard (rule ``import_root``).

    ``source`` is the ``import_root.<process>`` config entry; its hash is the
    shard's ``config_hash``.
    """

    process: str
    shard: int
    source: dict[str, Any]
    chunk_size: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any], process: str, shard: Any) -> ImportSpec:
        src = dict(section(config, "import_root", process))
        shard = int(shard)
        if shard >= len(src["files"]):
            raise SpecError(
                f"config key 'import_root.{process}.files': no file for shard {shard} "
                f"({len(src['files'])} files listed)"
            )
        return cls(process, shard, src, config["generation"]["chunk_size"])

    def hashed(self) -> Any:
        return self.source

    @property
    def file(self) -> str:
        return str(self.source["files"][self.shard])

    @property
    def tree(self) -> str:
        return str(self.source.get("tree", "events"))

    @property
    def mapping(self) -> dict[str, Any]:
        return {k: self.source[k] for k in IMPORT_COLLECTIONS if k in self.source}

    def metadata(self) -> dict[str, Any]:
        """The Parquet file metadata of the imported shard."""
        return {
            "process": self.process,
            "shard": self.shard,
            "source": self.file,
            "generator": "external",
            "sigma_pb": self.source.get("sigma_pb"),
            "sigma_err_pb": self.source.get("sigma_err_pb"),
            "config_hash": self.config_hash,
        }


@dataclass(frozen=True)
class ValidateSpec(Spec):
    """Validation histograms of one process (rule ``validate_events``)."""

    process: str
    bins: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any], process: str) -> ValidateSpec:
        return cls(process, config["validation"]["bins"])
