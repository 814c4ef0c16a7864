"""Adapter for rule train_tagger: train one tagger with one seed (resumable)."""

from pathlib import Path

import torch

from phenoflow.analyses.tagging import train_deep
from phenoflow.logutil import job_logging
from phenoflow.ml.train import TrainConfig
from phenoflow.validation import write_json

with job_logging(snakemake.log[0]) as log:
    p = snakemake.params.spec
    torch.set_num_threads(snakemake.threads)
    config = TrainConfig(seed=p["seed"], **p["train"])
    dataset = Path(snakemake.input.dataset).parent
    # the checkpoint is not a Snakemake output, so it survives an interrupted job; its name
    # carries the config hash, so changed settings never resume a stale run
    ckpt = (
        Path(snakemake.output.model).parent.parent
        / "checkpoints"
        / f"{p['key']}_seed{p['seed']}_{p['config_hash']}.ckpt"
    )
    model, history = train_deep(
        p["key"], dataset, p["model_options"], config, ckpt, p["subjet_algorithm"]
    )
    Path(snakemake.output.model).parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), snakemake.output.model)
    write_json(history, snakemake.output.history)
    log.info(
        "%s seed %d: %d parameters, best epoch %s",
        p["key"],
        p["seed"],
        history["n_parameters"],
        history.get("best_epoch"),
    )
