"""Adapter for rule make_dataset: jet files -> train/val/test arrays and a dataset card."""

from pathlib import Path

from phenoflow.jets.datasets import build_dataset
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = snakemake.params.spec
    labels = {**dict.fromkeys(spec["background"], 0), **dict.fromkeys(spec["signal"], 1)}
    inputs = {p: [f for f in snakemake.input.jets if f"/{p}/" in f] for p in labels}
    outdir = Path(snakemake.output.card).parent
    card = build_dataset(
        snakemake.wildcards.task,
        inputs,
        labels,
        spec["split"],
        outdir,
        seed=spec["seed"],
        cuts=spec["cuts"],
    )
    log.info(
        "dataset %s: %s",
        snakemake.wildcards.task,
        {k: v["n_jets"] for k, v in card["splits"].items()},
    )
