"""Adapter for rule generate_events: one Pythia 8 shard -> Parquet."""

from phenoflow.analyses.events.spec import GenerateSpec
from phenoflow.generation.pythia import generate_shard, log_progress
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    # LHE processes shower the file of their shard (input `lhe`)
    lhe_file = snakemake.input.get("lhe")
    spec = GenerateSpec.from_params(snakemake.params.spec).shard_spec(lhe_file)
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
