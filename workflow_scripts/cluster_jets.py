"""Adapter for rule cluster_jets: an event shard -> one row per selected fat jet."""

from phenoflow.analyses.jets.spec import ClusterSpec
from phenoflow.jets.pipeline import cluster_shard
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = ClusterSpec.from_params(snakemake.params.spec)
    meta = cluster_shard(
        snakemake.input.events,
        snakemake.output.jets,
        kind=spec.kind,
        config=spec.jets_config(),
        metadata={"config_hash": spec.config_hash},
        progress=lambda done, total, rate: log.info("%d/%d events (%.0f ev/s)", done, total, rate),
    )
    log.info(
        "%d events -> %d jets in the window, %d kept, %d unmatched dropped",
        meta["n_events"], meta["n_jets_window"], meta["n_jets"], meta["n_unmatched_dropped"],
    )  # fmt: skip
