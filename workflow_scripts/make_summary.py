"""Adapter for rule make_summary: every metrics.json -> results/summary.md, and the run info."""

from phenoflow.logutil import job_logging
from phenoflow.results_doc import reproduce_command, write_run_info
from phenoflow.summary import write_summary

with job_logging(snakemake.log[0]) as log:
    write_summary(snakemake.input.metrics, snakemake.output.summary)
    configfiles = snakemake.params.configfiles
    write_run_info(snakemake.output.run_info, reproduce_command(configfiles), configfiles)
    log.info("wrote %s and %s", snakemake.output.summary, snakemake.output.run_info)
