"""Adapter for rule train_bdt: the (soft-drop mass, tau32) boosted-decision-tree baseline."""

from pathlib import Path

from phenoflow.analyses.tagging import train_bdt
from phenoflow.logutil import job_logging
from phenoflow.validation import write_json

with job_logging(snakemake.log[0]) as log:
    info = train_bdt(
        Path(snakemake.input.dataset).parent, snakemake.params.seed, snakemake.output.model
    )
    write_json(info, snakemake.output.history)
    log.info("BDT trained in %.1f s", info["wall_s"])
