"""Adapter for rule validate_events: per-process validation numbers and figure."""

from phenoflow.analyses.events.spec import ValidateSpec
from phenoflow.analyses.events.validate import sample_stats
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging
from phenoflow.plotting.events import plot_event_validation

with job_logging(snakemake.log[0]) as log:
    spec = ValidateSpec.from_params(snakemake.params.spec)
    stats = sample_stats(snakemake.input.shards, bins=spec.bins)
    write_json(stats, snakemake.output.stats)
    plot_event_validation(stats, snakemake.output.figure)
    log.info(
        "%s: %d events, sigma = %.6g pb", stats["process"], stats["n_events"], stats["sigma_pb"]
    )
