"""Adapter for rule train_multiscale: one model key, every seed (resumable per seed)."""

import json
from pathlib import Path

import torch

from phenoflow.analyses.multiscale.spec import TrainMultiscaleSpec
from phenoflow.analyses.multiscale.train import train_key
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging
from phenoflow.resume import dataset_fingerprint, resume_key

with job_logging(snakemake.log[0]) as log:
    spec = TrainMultiscaleSpec.from_params(snakemake.params.spec)
    torch.set_num_threads(snakemake.threads)
    dataset = Path(snakemake.input.dataset).parent
    card = json.loads(Path(snakemake.input.dataset).read_text())
    # checkpoints are not Snakemake outputs, so they survive an interrupted job
    checkpoints = Path(snakemake.output.model).parent.parent / "checkpoints"
    key = resume_key(spec.to_params(), snakemake.params.code, dataset_fingerprint(dataset))
    states, history = train_key(spec, dataset, card, checkpoints, key)
    tmp = Path(snakemake.output.model + ".tmp")
    torch.save(states, tmp)
    tmp.replace(snakemake.output.model)
    write_json(history, snakemake.output.history)
    log.info("%s: %d seeds trained", spec.key, len(states))
