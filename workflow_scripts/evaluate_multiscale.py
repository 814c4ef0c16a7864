"""Adapter for rule evaluate_multiscale: every model on the test split, metrics, table, figures."""

import json
from pathlib import Path

import torch

from phenoflow.analyses.multiscale.evaluate import evaluate_all
from phenoflow.analyses.multiscale.report import multiscale_metrics, render_table
from phenoflow.analyses.multiscale.spec import EvaluateMultiscaleSpec
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging
from phenoflow.plotting import multiscale as plots

with job_logging(snakemake.log[0]) as log:
    spec = EvaluateMultiscaleSpec.from_params(snakemake.params.spec)
    torch.set_num_threads(snakemake.threads)
    dataset = Path(snakemake.input.dataset).parent
    card = json.loads(Path(snakemake.input.dataset).read_text())
    files = {Path(f).stem: str(f) for f in snakemake.input.models}
    evaluation = evaluate_all(spec, dataset, card, files)
    write_json(evaluation, snakemake.output.evaluation)
    write_json(multiscale_metrics(evaluation), snakemake.output.metrics)
    Path(snakemake.output.table).write_text(render_table(evaluation))
    plots.plot_roc(evaluation, snakemake.output.roc)
    plots.plot_rejection(evaluation, snakemake.output.rejection)
    plots.plot_attention(evaluation, snakemake.output.attention)
    plots.plot_inputs(evaluation, snakemake.output.inputs)
    log.info("%d models evaluated", len(evaluation["models"]))
