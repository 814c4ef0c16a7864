"""Adapter for rule generate_events: one Pythia 8 shard -> Parquet."""

from phenoflow.generation.pythia import ShardSpec, generate_shard, log_progress
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    p = snakemake.params.spec
    spec = ShardSpec(
        process=p["process"],
        shard=p["shard"],
        n_events=p["events_per_shard"],
        settings=tuple(p["settings"]),
        base_seed=p["seed"],
        chunk_size=p["chunk_size"],
        config_hash=p["config_hash"],
        common_settings=tuple(p["common_settings"]),
    )
    log.info(
        "generating %s shard %d: %d events, seed %d",
        spec.process,
        spec.shard,
        spec.n_events,
        spec.seed,
    )
    meta = generate_shard(
        spec, snakemake.output.events, progress=log_progress(spec.process, spec.shard)
    )
    log.info(
        "sigma = %.6g +- %.2g pb; wrote %s",
        meta["sigma_pb"],
        meta["sigma_err_pb"],
        snakemake.output.events,
    )
