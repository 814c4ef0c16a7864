"""Adapter for rule train_bdt: the (soft-drop mass, tau32) boosted-decision-tree baseline."""

from pathlib import Path

from phenoflow.analyses.tagging.run import train_bdt
from phenoflow.analyses.tagging.spec import TrainBDTSpec
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = TrainBDTSpec.from_params(snakemake.params.spec)
    info = train_bdt(Path(snakemake.input.dataset).parent, spec.seed, snakemake.output.model)
    write_json(info, snakemake.output.history)
    log.info("BDT trained in %.1f s", info["wall_s"])
