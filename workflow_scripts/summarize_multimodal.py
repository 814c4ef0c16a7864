"""Adapter for rule summarize_multimodal: metrics.json, table.md and figures of every task."""

import json
from pathlib import Path

import numpy as np

from phenoflow.analyses.multimodal.report import write_report
from phenoflow.analyses.multimodal.spec import MultimodalSummarySpec
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = MultimodalSummarySpec.from_params(snakemake.params.spec)
    evaluations, images, image_config = {}, {}, {}
    for task, ev, im, card in zip(
        spec.tasks,
        snakemake.input.evaluations,
        snakemake.input.images,
        snakemake.input.cards,
        strict=True,
    ):
        evaluations[task] = json.loads(Path(ev).read_text())
        with np.load(im) as data:
            images[task] = {k: data[k] for k in data.files}
        image_config = json.loads(Path(card).read_text())["image"]
    metrics = write_report(spec, evaluations, images, image_config, snakemake.output)
    log.info("%d metrics written", len(metrics["metrics"]))
