"""Adapter for rule multimodal_dataset: select b bbar events, kinematics and radiation images."""

from pathlib import Path

from phenoflow.analyses.multimodal.dataset import build_multimodal_dataset
from phenoflow.analyses.multimodal.spec import MultimodalDatasetSpec
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = MultimodalDatasetSpec.from_params(snakemake.params.spec)
    files = [Path(f) for f in snakemake.input.events]
    inputs = {p: [f for f in files if f.parent.name == p] for p in spec.processes}
    card = build_multimodal_dataset(spec, inputs, Path(snakemake.output.card).parent)
    log.info("task %s: %s", spec.task, card["splits"])
