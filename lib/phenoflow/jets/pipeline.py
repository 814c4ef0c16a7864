"""The jets stage: event Parquet shard -> one row per selected fat jet.

For every chunk (row group) of events: anti-kt fat jets in the pT/|eta|
window, truth labels (unmatched signal jets dropped and counted), subjets
from each algorithm, per-constituent features (padded), substructure and
jet images.  Written chunk by chunk, so memory is bounded by the chunk.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import phenoflow
from phenoflow.io.parquet import encode_metadata, open_parquet, read_metadata, read_table
from phenoflow.jets.cluster import (
    FatJetConfig,
    JetInputError,
    check_particles,
    cluster_fat_jets,
    label_jets,
)
from phenoflow.jets.features import FEATURE_NAMES, constituent_features
from phenoflow.jets.images import ImageConfig, jet_images
from phenoflow.jets.subjets import SUBJET_ALGORITHMS, subjets
from phenoflow.jets.substructure import SubstructureConfig, substructure

log = logging.getLogger(__name__)

JET_FIELDS = ("px", "py", "pz", "E", "pt", "eta", "phi", "mass")
SCALAR_SUBSTRUCTURE = (
    "sd_mass", "tau1", "tau2", "tau3", "tau21", "tau32", "n_constituents",
    "pull_x", "pull_y", "pull_mag", "pull_angle",
)  # fmt: skip


@dataclass(frozen=True)
class JetsConfig:
    """Everything that determines the jets of a shard (from config key ``jets``)."""

    fat_jet: FatJetConfig = field(default_factory=FatJetConfig)
    r_sub: float = 0.3
    algorithms: tuple[str, ...] = SUBJET_ALGORITHMS
    hdbscan_min_cluster_size: int = 3
    hdbscan_min_pt_fraction: float = 0.05
    image_center: str = "ca"
    n_constituents: int = 128
    substructure: SubstructureConfig = field(default_factory=SubstructureConfig)
    image: ImageConfig = field(default_factory=ImageConfig)
    chunk_size: int = 500

    @classmethod
    def from_config(cls, jets: Mapping[str, Any]) -> JetsConfig:
        sub = jets["subjets"]
        img = jets["image"]
        ss = jets["substructure"]
        return cls(
            fat_jet=FatJetConfig(
                r=jets["r"], pt_min=jets["pt_min"], pt_max=jets["pt_max"], eta_max=jets["eta_max"]
            ),
            r_sub=sub["r_sub"],
            algorithms=tuple(sub["algorithms"]),
            hdbscan_min_cluster_size=sub["hdbscan_min_cluster_size"],
            hdbscan_min_pt_fraction=sub["hdbscan_min_pt_fraction"],
            image_center=sub["image_center"],
            n_constituents=jets["n_constituents"],
            substructure=SubstructureConfig(
                r=jets["r"], sd_beta=ss["sd_beta"], sd_zcut=ss["sd_zcut"], nsub_beta=ss["nsub_beta"]
            ),
            image=ImageConfig(
                size=img["size"],
                half_width=img["half_width"],
                center=img["center"],
                rotate=img["rotate"],
                flip=img["flip"],
                channels=tuple(img["channels"]),
                normalize=img["normalize"],
            ),
            chunk_size=jets["chunk_size"],
        )


@dataclass
class ChunkCounts:
    n_events: int = 0
    n_jets_window: int = 0  # anti-kt jets inside the pT/|eta| window
    n_jets: int = 0  # kept (labelled) jets
    n_unmatched_dropped: int = 0
    n_events_with_jet: int = 0

    def add(self, other: ChunkCounts) -> None:
        for k in self.__dict__:
            setattr(self, k, getattr(self, k) + getattr(other, k))


def selection_efficiencies(counts: Mapping[str, int]) -> dict[str, float]:
    """Jets per event, fraction of events with a jet and truth-matching efficiency from summed counts."""
    n_ev = max(counts["n_events"], 1)
    return {
        "jets_per_event": counts["n_jets"] / n_ev,
        "event_efficiency": counts["n_events_with_jet"] / n_ev,
        "window_jets_per_event": counts["n_jets_window"] / n_ev,
        "truth_match_efficiency": counts["n_jets"]
        / max(counts["n_jets"] + counts["n_unmatched_dropped"], 1),
    }


def process_events(
    events: ak.Array, kind: str, config: JetsConfig, source: str = "events"
) -> tuple[ak.Array, ChunkCounts]:
    """One row per kept fat jet of ``events`` (a chunk of the event record)."""
    particles = check_particles(events, source)
    fat = config.fat_jet
    jets, const = cluster_fat_jets(particles, fat)
    labels = label_jets(jets, events["partons"], kind, fat.r)
    counts = ChunkCounts(n_events=len(events), n_jets_window=int(ak.sum(ak.num(jets))))
    keep = labels >= 0
    counts.n_unmatched_dropped = int(ak.sum(~keep))
    event_id = ak.broadcast_arrays(events["event_id"], labels)[0]
    jets, const, labels, event_id = jets[keep], const[keep], labels[keep], event_id[keep]
    counts.n_events_with_jet = int(ak.sum(ak.num(jets) > 0))
    # jets as rows from here on
    jets, const = ak.flatten(jets, axis=1), ak.flatten(const, axis=1)
    labels, event_id = ak.flatten(labels, axis=1), ak.flatten(event_id, axis=1)
    counts.n_jets = len(jets)
    jet = {f: ak.to_numpy(jets[f]) for f in JET_FIELDS}

    columns: dict[str, Any] = {"event_id": ak.values_astype(event_id, np.int64), "label": labels}
    columns.update({f"jet_{f}": jet[f] for f in JET_FIELDS})
    ss = substructure(const, config.substructure)
    for name in SCALAR_SUBSTRUCTURE:
        columns[name] = ss[name]
    columns["lund_ln_inv_delta"] = ss["lund_ln_inv_delta"]
    columns["lund_ln_kt"] = ss["lund_ln_kt"]

    const_fields = {f: const[f] for f in ("px", "py", "pz", "E", "pid", "charge")}
    centre_eta = centre_phi = None
    for algo in config.algorithms:
        sj = subjets(
            const,
            algo,
            r_sub=config.r_sub,
            jet_eta=jet["eta"],
            jet_phi=jet["phi"],
            min_cluster_size=config.hdbscan_min_cluster_size,
            min_pt_fraction=config.hdbscan_min_pt_fraction,
        )
        columns[f"subjets_{algo}"] = sj.p4
        const_fields[f"subjet_{algo}"] = sj.index
        if algo == config.image_center:
            centre_eta, centre_phi = _leading_axis(sj.p4, jet)
    columns["constituents"] = ak.zip(const_fields)

    feats, mask = constituent_features(const, jets, config.n_constituents)
    columns["features"] = ak.to_regular(ak.Array(feats), axis=2)
    columns["mask"] = ak.to_regular(ak.Array(mask), axis=1)
    images = jet_images(const, jets, config.image, center_eta=centre_eta, center_phi=centre_phi)
    columns["image"] = ak.Array(images)
    return ak.zip(columns, depth_limit=1), counts


def _leading_axis(p4: ak.Array, jet: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(eta, phi) of each jet's leading subjet; the jet axis where a jet has none."""
    from phenoflow.physics.kinematics import eta, phi

    lead = ak.firsts(p4)
    e = ak.to_numpy(ak.fill_none(eta(lead.px, lead.py, lead.pz), np.nan))
    p = ak.to_numpy(ak.fill_none(phi(lead.px, lead.py), np.nan))
    bad = ~np.isfinite(e) | ~np.isfinite(p)
    return np.where(bad, jet["eta"], e), np.where(bad, jet["phi"], p)


def cluster_shard(
    events_path: str | os.PathLike[str],
    output: str | os.PathLike[str],
    kind: str,
    config: JetsConfig,
    metadata: Mapping[str, Any] | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> dict[str, Any]:
    """Run the jets stage on one event shard; write ``output`` atomically; return its metadata."""
    events_path, output = Path(events_path), Path(output)
    try:
        pf = open_parquet(events_path)
    except Exception as exc:
        raise JetInputError(f"{events_path}: not a readable Parquet file ({exc})") from exc
    ev_meta = read_metadata(events_path)
    total = pf.metadata.num_rows
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    counts = ChunkCounts()
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    start = time.perf_counter()
    try:
        batches = (
            pf.iter_batches(batch_size=config.chunk_size)
            if total
            else [pf.schema_arrow.empty_table()]
        )
        for batch in batches:
            # an empty shard still gives a (zero-row) jets file with the full schema
            events = ak.from_arrow(batch, highlevel=True)
            rows, c = process_events(events, kind, config, str(events_path))
            counts.add(c)
            table = ak.to_arrow_table(rows, extensionarray=False, list_to32=True)
            if schema is None:
                schema = table.schema
                writer = pq.ParquetWriter(tmp, schema, compression="zstd", use_dictionary=False)
            assert writer is not None
            if table.num_rows or counts.n_events == 0:
                writer.write_table(table.cast(schema))
            if progress is not None:
                progress(
                    counts.n_events, total, counts.n_events / max(time.perf_counter() - start, 1e-9)
                )
        assert writer is not None
        meta = {
            "process": ev_meta.get("process"),
            "shard": ev_meta.get("shard"),
            "label_kind": kind,
            "sigma_pb": ev_meta.get("sigma_pb"),
            "sigma_err_pb": ev_meta.get("sigma_err_pb"),
            "events_file": events_path.name,
            "feature_names": list(FEATURE_NAMES),
            "image_channels": list(config.image.channels),
            "subjet_algorithms": list(config.algorithms),
            "phenoflow_version": phenoflow.__version__,
            **counts.__dict__,
            **(metadata or {}),
        }
        writer.add_key_value_metadata(encode_metadata(meta))
        writer.close()
        writer = None
        os.replace(tmp, output)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return meta


def read_jets(
    paths: list[str | os.PathLike[str]] | str | os.PathLike[str], columns: list[str] | None = None
) -> ak.Array:
    """Concatenate jet files (optionally only some columns) into one awkward array."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    parts = [ak.from_arrow(read_table(p, columns=columns), highlevel=True) for p in paths]
    parts = [p for p in parts if len(p)]
    if not parts:
        return ak.Array([])
    return ak.concatenate(parts) if len(parts) > 1 else parts[0]
