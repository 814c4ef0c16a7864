"""Adapter for rule evaluate_taggers: all taggers on the test split, side by side."""

import json
from pathlib import Path

import torch

from phenoflow.analyses.tagging.report import tagging_metrics, tagging_table
from phenoflow.analyses.tagging.run import evaluate_all
from phenoflow.analyses.tagging.spec import EvaluateTaggersSpec
from phenoflow.analyses.tagging.speed import speed_references
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging
from phenoflow.ml.data import load_tagging_split
from phenoflow.plotting.tagging import plot_attention, plot_roc

with job_logging(snakemake.log[0]) as log:
    spec = EvaluateTaggersSpec.from_params(snakemake.params.spec)
    torch.set_num_threads(snakemake.threads)
    dataset = Path(snakemake.input.dataset).parent
    deep = {
        k: [
            (f, s)
            for s in spec.seeds
            for f in snakemake.input.models
            if f.endswith(f"/{k}_seed{s}.pt")
        ]
        for k in spec.models
    }
    histories = {
        k: [json.loads(Path(f).read_text()) for f in snakemake.input.histories if f"/{k}/" in f]
        for k in spec.models
    }
    table, extras = evaluate_all(
        dataset,
        deep,
        [snakemake.input.bdt],
        spec.subjet_algorithm,
        spec.model_options,
        histories,
        progress=log.info,
    )
    if spec.speed_reference:
        log.info("timing the speed references: %s", ", ".join(spec.speed_reference))
        test = load_tagging_split(dataset / "test", spec.subjet_algorithm)
        table.update(speed_references(spec.speed_reference, test))
    write_json(tagging_metrics(table, spec.task), snakemake.output.metrics)
    Path(snakemake.output.table).write_text(tagging_table(table))
    plot_roc(extras["roc"], table, snakemake.output.roc)
    plot_attention(extras["attention"], snakemake.output.attention)
    log.info("tagging table:\n%s", tagging_table(table))
