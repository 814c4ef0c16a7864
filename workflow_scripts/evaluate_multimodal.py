"""Adapter for rule evaluate_multimodal: every model of a task on its test split."""

from pathlib import Path

import numpy as np

from phenoflow.analyses.multimodal.evaluate import evaluate_task, model_file_map
from phenoflow.analyses.multimodal.spec import EvaluateMultimodalSpec
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = EvaluateMultimodalSpec.from_params(snakemake.params.spec)
    dataset = Path(snakemake.input.dataset).parent
    files = model_file_map(spec, list(snakemake.input.models))
    evaluation, images = evaluate_task(spec, dataset, files)
    tmp = Path(snakemake.output.images + ".tmp.npz")
    np.savez(tmp, **images)
    tmp.replace(snakemake.output.images)
    write_json(evaluation, snakemake.output.evaluation)
    log.info("task %s: %d models evaluated", spec.task, len(evaluation["models"]))
