"""Adapter for rule draw_strata: the learnt classes drawn over the 2D fine-tuning integrand."""

from phenoflow.analyses.integration.run import strata_figure
from phenoflow.analyses.integration.spec import StrataSpec
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = StrataSpec.from_params(snakemake.params.spec)
    strata_figure(spec.n_calls, spec.seed, snakemake.output.figure)
    log.info("wrote %s", snakemake.output.figure)
