"""Adapter for rule summarize_eventvars: evaluations + training histories -> metrics.json."""

import json
from pathlib import Path

from phenoflow.analyses.eventvars.metrics import eventvars_metrics
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    evaluations = [json.loads(Path(f).read_text()) for f in snakemake.input.evaluations]
    histories = [json.loads(Path(f).read_text()) for f in snakemake.input.histories]
    write_json(eventvars_metrics(evaluations, histories), snakemake.output.metrics)
    log.info("wrote %s", snakemake.output.metrics)
