"""Specs of the events stage: generation shards, imported ROOT shards, validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from phenoflow.seeds import job_seed
from phenoflow.spec import Spec, SpecError, section

if TYPE_CHECKING:
    from phenoflow.generation.pythia import ShardSpec

IMPORT_COLLECTIONS = ("particles", "partons", "weight", "event_id")


@dataclass(frozen=True)
class GenerateSpec(Spec):
    """One Pythia 8 shard (rule ``generate_events``); ``seed`` is the config's base seed.

    ``lhe`` is the process's ``lhe`` config entry (empty for a built-in Pythia
    process): the shard then showers a Les Houches file (rule ``write_lhe``).
    """

    process: str
    shard: int
    seed: int
    common_settings: tuple[str, ...]
    settings: tuple[str, ...]
    chunk_size: int
    events_per_shard: int
    lhe: dict[str, Any] = field(default_factory=dict)

    HASH_EXCLUDE = ("process", "shard")

    def hashed(self) -> Any:
        # a built-in process hashes as it did before LHE input existed
        out = super().hashed()
        if not self.lhe:
            out.pop("lhe")
        return out

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
            lhe=dict(proc.get("lhe", {})),
        )

    def shard_spec(self, lhe_file: str | None = None) -> ShardSpec:
        """The generator's own description of the shard (Pythia seed derived from ``seed``).

        An LHE process needs ``lhe_file``, the file rule ``write_lhe`` wrote; its
        settings then start with the scalar's definition and the LHEF beam lines.
        """
        from phenoflow.generation.pythia import ShardSpec

        settings = self.settings
        if self.lhe:
            if lhe_file is None:
                raise SpecError(f"process {self.process!r} showers an LHE file: give lhe_file")
            from phenoflow.generation.lhe import pythia_lhe_settings

            lhe = self.lhe
            m_window = (lhe["m_window"][0], lhe["m_window"][1])
            head = pythia_lhe_settings(lhe["colour"], lhe["mass"], lhe["width"], m_window, lhe_file)
            settings = (*head, *settings)
        elif lhe_file is not None:
            raise SpecError(f"process {self.process!r} is a built-in Pythia process, not LHE")
        return ShardSpec(
            process=self.process,
            shard=self.shard,
            n_events=self.events_per_shard,
            settings=settings,
            base_seed=self.seed,
            chunk_size=self.chunk_size,
            config_hash=self.config_hash,
            common_settings=self.common_settings,
        )


@dataclass(frozen=True)
class WriteLHESpec(Spec):
    """One Les Houches file gg -> S -> b bbar (rule ``write_lhe``), from ``processes.<p>.lhe``.

    ``seed`` comes from ``job_seed(config, "lhe", <lhe.momenta>, shard)``: processes
    sharing a ``momenta`` label hold the same momenta in the same shard.
    ``n_events`` is the shard's events plus a margin for events Pythia rejects.
    """

    process: str
    shard: int
    seed: int
    n_events: int
    colour: str
    mass: float
    width: float
    m_window: tuple[float, float]
    ecm: float
    sigma_pb: float

    HASH_EXCLUDE = ("process", "shard")

    @classmethod
    def from_config(cls, config: Mapping[str, Any], process: str, shard: Any) -> WriteLHESpec:
        from phenoflow.generation.lhe import lhe_events_needed

        proc = section(config, "processes", process)
        if "lhe" not in proc:
            raise SpecError(f"config key 'processes.{process}' has no 'lhe' entry")
        lhe = proc["lhe"]
        shard = int(shard)
        return cls(
            process=process,
            shard=shard,
            seed=job_seed(config, "lhe", lhe["momenta"], shard),
            n_events=lhe_events_needed(proc["events_per_shard"]),
            colour=lhe["colour"],
            mass=float(lhe["mass"]),
            width=float(lhe["width"]),
            m_window=(float(lhe["m_window"][0]), float(lhe["m_window"][1])),
            ecm=float(lhe["ecm"]),
            sigma_pb=float(lhe["sigma_pb"]),
        )

    def write(self, path: str) -> int:
        """Write the file to ``path``; return the number of events written."""
        from phenoflow.generation.lhe import write_lhe

        return write_lhe(
            path,
            self.n_events,
            self.seed,
            colour=self.colour,
            mass=self.mass,
            width=self.width,
            m_window=self.m_window,
            ecm=self.ecm,
            sigma_pb=self.sigma_pb,
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
