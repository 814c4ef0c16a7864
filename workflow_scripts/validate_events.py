"""Adapter for rule validate_events: per-process validation numbers and figure."""

from phenoflow.logutil import job_logging
from phenoflow.plotting.events import plot_event_validation
from phenoflow.validation import sample_stats, write_json

with job_logging(snakemake.log[0]) as log:
    stats = sample_stats(snakemake.input.shards, bins=snakemake.params.bins)
    write_json(stats, snakemake.output.stats)
    plot_event_validation(stats, snakemake.output.figure)
    log.info(
        "%s: %d events, sigma = %.6g pb", stats["process"], stats["n_events"], stats["sigma_pb"]
    )
