"""Adapter for rule make_summary: every metrics.json -> results/summary.md."""

from phenoflow.logutil import job_logging
from phenoflow.summary import write_summary

with job_logging(snakemake.log[0]) as log:
    write_summary(snakemake.input.metrics, snakemake.output.summary)
    log.info("wrote %s", snakemake.output.summary)
