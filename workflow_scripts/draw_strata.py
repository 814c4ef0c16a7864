"""Adapter for rule draw_strata: the learnt classes drawn over the 2D fine-tuning integrand."""

from phenoflow.analyses.integration import strata_figure
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    strata_figure(snakemake.params.n_calls, snakemake.params.seed, snakemake.output.figure)
    log.info("wrote %s", snakemake.output.figure)
