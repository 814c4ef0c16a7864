"""Adapter for rule multiscale_dataset: the two leading fat jets of every event, per sample."""

from pathlib import Path

from phenoflow.analyses.multiscale.dataset import build_multiscale_dataset
from phenoflow.analyses.multiscale.spec import MultiscaleDatasetSpec
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = MultiscaleDatasetSpec.from_params(snakemake.params.spec)
    files = [Path(f) for f in snakemake.input.events]
    inputs = {p: [f for f in files if f.parent.name == p] for p in spec.processes}
    card = build_multiscale_dataset(spec, inputs, Path(snakemake.output.card).parent)
    log.info("splits: %s", card["splits"])
