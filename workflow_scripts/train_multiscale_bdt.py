"""Adapter for rule train_multiscale_bdt: boosted trees on the high-level kinematics."""

import json
from pathlib import Path

from phenoflow.analyses.multiscale.spec import TrainMultiscaleSpec
from phenoflow.analyses.multiscale.train import train_bdt
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = TrainMultiscaleSpec.from_params(snakemake.params.spec)
    dataset = Path(snakemake.input.dataset).parent
    card = json.loads(Path(snakemake.input.dataset).read_text())
    history = train_bdt(spec, dataset, card, snakemake.output.model)
    write_json(history, snakemake.output.history)
    log.info("bdt trained in %.1f s", history["wall_s"])
