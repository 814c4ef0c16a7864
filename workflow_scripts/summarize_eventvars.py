"""Adapter for rule summarize_eventvars: evaluations + training histories -> metrics.json."""

import json
from pathlib import Path

from phenoflow.analyses.eventvars_metrics import eventvars_metrics
from phenoflow.logutil import job_logging
from phenoflow.validation import write_json

with job_logging(snakemake.log[0]) as log:
    evaluations = [json.loads(Path(f).read_text()) for f in snakemake.input.evaluations]
    histories = [json.loads(Path(f).read_text()) for f in snakemake.input.histories]
    write_json(eventvars_metrics(evaluations, histories), snakemake.output.metrics)
    log.info("wrote %s", snakemake.output.metrics)
