"""Adapter for rule evaluate_taggers: all taggers on the test split, side by side."""

import json
from pathlib import Path

import torch

from phenoflow.analyses.tagging import evaluate_all
from phenoflow.analyses.tagging_report import tagging_metrics, tagging_table
from phenoflow.analyses.tagging_speed import speed_references
from phenoflow.logutil import job_logging
from phenoflow.ml.data import load_tagging_split
from phenoflow.plotting.tagging import plot_attention, plot_roc
from phenoflow.validation import write_json

with job_logging(snakemake.log[0]) as log:
    p = snakemake.params.spec
    torch.set_num_threads(snakemake.threads)
    dataset = Path(snakemake.input.dataset).parent
    deep = {
        k: [
            (f, s)
            for s in p["seeds"]
            for f in snakemake.input.models
            if f.endswith(f"/{k}_seed{s}.pt")
        ]
        for k in p["models"]
    }
    histories = {
        k: [json.loads(Path(f).read_text()) for f in snakemake.input.histories if f"/{k}/" in f]
        for k in p["models"]
    }
    table, extras = evaluate_all(
        dataset,
        deep,
        [snakemake.input.bdt],
        p["subjet_algorithm"],
        p["model_options"],
        histories,
        progress=log.info,
    )
    if p.get("speed_reference"):
        log.info("timing the speed references: %s", ", ".join(p["speed_reference"]))
        test = load_tagging_split(dataset / "test", p["subjet_algorithm"])
        table.update(speed_references(p["speed_reference"], test))
    write_json(tagging_metrics(table, snakemake.wildcards.task), snakemake.output.metrics)
    Path(snakemake.output.table).write_text(tagging_table(table))
    plot_roc(extras["roc"], table, snakemake.output.roc)
    plot_attention(extras["attention"], snakemake.output.attention)
    log.info("tagging table:\n%s", tagging_table(table))
