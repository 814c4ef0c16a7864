"""Adapter for rule train_tagger: train one tagger with one seed (resumable)."""

from pathlib import Path

import torch

from phenoflow.analyses.tagging.run import train_deep
from phenoflow.analyses.tagging.spec import TrainTaggerSpec
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging
from phenoflow.resume import dataset_fingerprint, resume_key

with job_logging(snakemake.log[0]) as log:
    spec = TrainTaggerSpec.from_params(snakemake.params.spec)
    torch.set_num_threads(snakemake.threads)
    dataset = Path(snakemake.input.dataset).parent
    # not a Snakemake output, so it survives an interrupted job; only the job with the same
    # settings, data and code resumes it (anything else ignores and replaces it)
    ckpt = (
        Path(snakemake.output.model).parent.parent
        / "checkpoints"
        / f"{spec.key}_seed{spec.seed}.ckpt"
    )
    key = resume_key(spec.to_params(), snakemake.params.code, dataset_fingerprint(dataset))
    model, history = train_deep(
        spec.key, dataset, spec.model_options, spec.train_config(), ckpt, spec.subjet_algorithm, key
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
