"""Pythia 8 event generation in seeded, streamed shards.

Events are produced with ``Pythia.nextBatch`` (awkward arrays filled in C++),
selected and converted with whole-array operations, and written one chunk
at a time, so a job's memory is bounded by ``chunk_size`` and there is no
per-particle Python code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

import phenoflow
from phenoflow.io.parquet import EventWriter
from phenoflow.io.schema import make_events
from phenoflow.seeds import pythia_seed

log = logging.getLogger(__name__)

MB_TO_PB = 1.0e9
NEUTRINOS = (12, 14, 16)
# |status| of hard-process outgoing particles and resonance decay products
HARD_PROCESS_STATUS = (22, 23)


class PythiaSettingError(ValueError):
    """Pythia rejected a setting or failed to initialise."""


@dataclass(frozen=True)
class ShardSpec:
    """Everything that determines one generation shard."""

    process: str
    shard: int
    n_events: int
    settings: tuple[str, ...]
    base_seed: int
    chunk_size: int = 250
    config_hash: str = ""
    common_settings: tuple[str, ...] = field(default=())

    @property
    def seed(self) -> int:
        return pythia_seed(self.base_seed, self.process, self.shard)

    @property
    def first_event_id(self) -> int:
        # unique across shards of a process as long as shards have < 1e9 events
        return self.shard * 1_000_000_000


def pythia_version() -> str:
    return version("pythia8mc")


def make_pythia(
    settings: Sequence[str],
    seed: int | None = None,
    quiet: bool = True,
    *,
    init: bool = True,
    context: str = "",
    where: Callable[[int], str] | None = None,
) -> Any:
    """A ``pythia8mc.Pythia`` (no banner) with ``settings`` read, optionally initialised.

    ``readString`` order: ``"Print:quiet = on"`` (when ``quiet``), the ``settings`` in
    order, then ``"Random:setSeed = on"`` and ``"Random:seed = <seed>"`` (when ``seed`` is
    given).  A rejected line or a failed ``init()`` raises :class:`PythiaSettingError`
    (a ``ValueError``); ``context`` prefixes its message and ``where(i)`` tells where
    ``settings[i]`` came from (e.g. the config key).
    """
    import pythia8mc

    pythia = pythia8mc.Pythia("", False)  # no banner
    lines: list[tuple[str, int | None]] = [("Print:quiet = on", None)] if quiet else []
    lines += [(line, i) for i, line in enumerate(settings)]
    if seed is not None:
        lines += [("Random:setSeed = on", None), (f"Random:seed = {seed}", None)]
    for line, i in lines:
        if not pythia.readString(line):
            origin = where(i) if where is not None and i is not None else ""
            raise PythiaSettingError(f"{context}Pythia rejected the setting {line!r}{origin}")
    if init and not pythia.init():
        raise PythiaSettingError(
            f"{context}Pythia failed to initialise with settings {list(settings)}"
        )
    return pythia


def shard_pythia(spec: ShardSpec) -> Any:
    """A configured and initialised ``pythia8mc.Pythia`` for ``spec`` (not quiet)."""
    n_common = len(spec.common_settings)

    def where(i: int) -> str:
        source, j = (
            ("generation.common_settings", i)
            if i < n_common
            else (f"processes.{spec.process}.settings", i - n_common)
        )
        return f" (config key '{source}[{j}]'); check its spelling against the Pythia manual"

    return make_pythia(
        (*spec.common_settings, *spec.settings),
        seed=spec.seed,
        quiet=False,
        context=f"process {spec.process!r}: ",
        where=where,
    )


class _ChargeTable:
    """Vectorised pid -> (charge, visible) lookup backed by Pythia's particle data."""

    def __init__(self, particle_data: Any):
        self._pd = particle_data
        self.ids = np.zeros(0, dtype=np.int32)
        self.charge = np.zeros(0, dtype=np.int32)

    def lookup(self, pids: np.ndarray) -> np.ndarray:
        new = np.setdiff1d(np.unique(pids), self.ids)
        if new.size:
            ids = np.concatenate([self.ids, new])
            ch = np.concatenate(
                [
                    self.charge,
                    np.array(
                        [round(3 * self._pd.charge(int(i))) // 3 for i in new], dtype=np.int32
                    ),
                ]
            )
            order = np.argsort(ids)
            self.ids, self.charge = ids[order], ch[order]
        return self.charge[np.searchsorted(self.ids, pids)]


def batch_to_events(batch: ak.Array, charges: _ChargeTable, first_event_id: int) -> ak.Array:
    """Convert a ``Pythia.nextBatch`` array to the phenoflow event record."""
    prt = batch["prt"]
    status = prt["status"]
    pid = prt["id"]
    abs_pid = abs(pid)
    mom = prt["p"]
    visible = (status > 0) & ~(
        (abs_pid == NEUTRINOS[0]) | (abs_pid == NEUTRINOS[1]) | (abs_pid == NEUTRINOS[2])
    )
    abs_status = abs(status)
    hard = (abs_status == HARD_PROCESS_STATUS[0]) | (abs_status == HARD_PROCESS_STATUS[1])

    def pick(mask: ak.Array) -> dict[str, ak.Array]:
        return {
            "px": mom["px"][mask],
            "py": mom["py"][mask],
            "pz": mom["pz"][mask],
            "E": mom["e"][mask],
            "pid": pid[mask],
        }

    particles = pick(visible)
    flat_pid = ak.to_numpy(ak.flatten(particles["pid"]))
    particles["charge"] = ak.unflatten(charges.lookup(flat_pid), ak.num(particles["pid"]))
    partons = pick(hard)
    partons["mother"] = _local_mothers(pid, prt["mother1"], hard)
    weights = batch["info"]["weights"]
    weight = ak.to_numpy(ak.fill_none(ak.firsts(weights), 1.0))
    n = len(batch)
    return make_events(particles, partons, weight, np.arange(first_event_id, first_event_id + n))


def _local_mothers(pid: ak.Array, mother1: ak.Array, keep: ak.Array) -> ak.Array:
    """For the kept particles, the index of their mother among the kept ones (-1 if none).

    A resonance is copied many times in the full record (recoils of the
    shower); its decay products point at the last copy, so the mother link
    is followed up through copies (same pid) until a kept particle is found.
    Everything runs on flat global index arrays: no Python loop over particles.
    """
    counts = ak.to_numpy(ak.num(mother1))
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    gid = ak.to_numpy(ak.flatten(pid)).astype(np.int64)
    gm = ak.to_numpy(ak.flatten(mother1 + offsets)).astype(np.int64)
    gkeep = ak.to_numpy(ak.flatten(keep))
    kept_global = np.flatnonzero(gkeep)
    m = gm[kept_global]
    # an event's entry 0 is the system line; mother 0 means "no mother"
    local0 = m - np.repeat(offsets, ak.to_numpy(ak.num(pid[keep])))
    m = np.where(local0 <= 0, -1, m)
    for _ in range(200):
        climb = (m >= 0) & ~gkeep[np.maximum(m, 0)]
        climb &= gid[np.maximum(m, 0)] == gid[gm[np.maximum(m, 0)]]
        if not climb.any():
            break
        m = np.where(climb, gm[np.maximum(m, 0)], m)
    ok = (m >= 0) & gkeep[np.maximum(m, 0)]
    # global kept index -> position within the event's kept list
    rank = np.cumsum(gkeep) - 1  # rank among all kept particles
    kept_counts = ak.to_numpy(ak.num(pid[keep]))
    kept_offsets = np.concatenate([[0], np.cumsum(kept_counts)[:-1]])
    event_of = np.repeat(np.arange(len(counts)), kept_counts)
    local = np.where(ok, rank[np.maximum(m, 0)] - kept_offsets[event_of], -1).astype(np.int32)
    return ak.unflatten(local, kept_counts)


def shard_metadata(
    spec: ShardSpec, sigma_pb: float, sigma_err_pb: float, n_events: int
) -> dict[str, Any]:
    return {
        "process": spec.process,
        "shard": spec.shard,
        "seed": spec.seed,
        "base_seed": spec.base_seed,
        "n_events": n_events,
        "chunk_size": spec.chunk_size,
        "sigma_pb": sigma_pb,
        "sigma_err_pb": sigma_err_pb,
        "generator": "pythia8mc",
        "generator_version": pythia_version(),
        "settings": list(spec.common_settings) + list(spec.settings),
        "config_hash": spec.config_hash,
        "phenoflow_version": phenoflow.__version__,
    }


def _next_batch(pythia: Any, want: int, spec: ShardSpec) -> ak.Array:
    """Exactly ``want`` events: failed events are skipped by Pythia, so top up.

    Full chunks keep row-group boundaries at multiples of ``chunk_size``,
    which the ROOT round trip relies on.
    """
    parts = []
    have = 0
    for _ in range(100):
        batch = pythia.nextBatch(want - have, "skip")
        parts.append(batch)
        have += len(batch)
        if have == want:
            return parts[0] if len(parts) == 1 else ak.concatenate(parts)
    raise RuntimeError(
        f"process {spec.process!r} shard {spec.shard}: Pythia kept failing "
        f"({have} of {want} events after 100 batches); see the Pythia messages in the log"
    )


def generate_shard(
    spec: ShardSpec,
    output: str | Path,
    progress: Callable[[int, int, float], None] | None = None,
) -> dict[str, Any]:
    """Generate one shard into ``output`` (Parquet) and return its metadata.

    ``progress(done, total, events_per_second)`` is called after every chunk.
    On any error the partial file is removed.
    """
    pythia = shard_pythia(spec)
    charges = _ChargeTable(pythia.particleData)
    start = time.perf_counter()
    with EventWriter(output) as writer:
        done = 0
        while done < spec.n_events:
            want = min(spec.chunk_size, spec.n_events - done)
            batch = _next_batch(pythia, want, spec)
            writer.write(batch_to_events(batch, charges, spec.first_event_id + done))
            done += len(batch)
            if progress is not None:
                progress(done, spec.n_events, done / max(time.perf_counter() - start, 1e-9))
        info = pythia.infoPython()
        meta = shard_metadata(spec, info.sigmaGen() * MB_TO_PB, info.sigmaErr() * MB_TO_PB, done)
        writer.close(meta)
    return meta


def log_progress(process: str, shard: int) -> Callable[[int, int, float], None]:
    def report(done: int, total: int, rate: float) -> None:
        log.info("%s shard %d: %d/%d events (%.1f ev/s)", process, shard, done, total, rate)

    return report


def bare_event_loop(settings: Sequence[str], n_events: int, seed: int = 1) -> float:
    """Events per second of a plain ``pythia.next()`` loop (benchmark reference)."""
    spec = ShardSpec("bare", 0, n_events, tuple(settings), seed)
    pythia = shard_pythia(spec)
    start = time.perf_counter()
    done = 0
    while done < n_events:
        if pythia.next():
            done += 1
    return n_events / (time.perf_counter() - start)
