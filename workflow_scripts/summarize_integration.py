"""Adapter for rule summarize_integration: ladders, pulls, Drell-Yan -> metrics.json, table, figure."""

import json
from pathlib import Path

from phenoflow.analyses.integration.run import integration_metrics, ladder_table
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging
from phenoflow.plotting.integration import plot_comparison


def load(path):
    return json.loads(Path(path).read_text())


with job_logging(snakemake.log[0]) as log:
    ladders = [load(f) for f in snakemake.input.ladders]
    pulls = [load(f) for f in snakemake.input.pulls]
    dy = load(snakemake.input.drell_yan[0]) if snakemake.input.drell_yan else None
    plot_comparison(ladders, pulls, snakemake.output.figure)
    Path(snakemake.output.table).write_text(ladder_table(ladders, pulls, dy))
    write_json(integration_metrics(ladders, pulls, dy), snakemake.output.metrics)
    log.info("wrote %s", snakemake.output.metrics)
