"""Adapter for rule train_tagger: train one tagger with one seed (resumable)."""

from pathlib import Path

import torch

from phenoflow.analyses.tagging.run import train_deep
from phenoflow.analyses.tagging.spec import TrainTaggerSpec
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = TrainTaggerSpec.from_params(snakemake.params.spec)
    torch.set_num_threads(snakemake.threads)
    dataset = Path(snakemake.input.dataset).parent
    # the checkpoint is not a Snakemake output, so it survives an interrupted job; its name
    # carries the config hash, so changed settings never resume a stale run
    ckpt = (
        Path(snakemake.output.model).parent.parent
        / "checkpoints"
        / f"{spec.key}_seed{spec.seed}_{spec.config_hash}.ckpt"
    )
    model, history = train_deep(
        spec.key, dataset, spec.model_options, spec.train_config(), ckpt, spec.subjet_algorithm
    )
    Path(snakemake.output.model).parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), snakemake.output.model)
    write_json(history, snakemake.output.history)
    log.info(
        "%s seed %d: %d parameters, best epoch %s",
        spec.key,
        spec.seed,
        history["n_parameters"],
        history.get("best_epoch"),
    )
