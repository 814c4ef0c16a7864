"""Adapter for rule make_dataset: jet files -> train/val/test arrays and a dataset card."""

from pathlib import Path

from phenoflow.analyses.jets.spec import DatasetSpec
from phenoflow.jets.datasets import build_dataset
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = DatasetSpec.from_params(snakemake.params.spec)
    labels = spec.labels()
    inputs = {p: [f for f in snakemake.input.jets if f"/{p}/" in f] for p in labels}
    card = build_dataset(
        spec.task,
        inputs,
        labels,
        spec.split,
        Path(snakemake.output.card).parent,
        seed=spec.seed,
        cuts=spec.cuts,
    )
    log.info("dataset %s: %s", spec.task, {k: v["n_jets"] for k, v in card["splits"].items()})
