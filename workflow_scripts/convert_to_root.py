"""Adapter for rule convert_to_root: event Parquet -> ROOT TTree."""

from phenoflow.io.root import parquet_to_root
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    n = parquet_to_root(snakemake.input.events, snakemake.output.root)
    log.info("wrote %d events to %s", n, snakemake.output.root)
