"""Adapter for rule summarize_events: per-process stats -> results/events/metrics.json."""

import json
from pathlib import Path

from phenoflow.logutil import job_logging
from phenoflow.validation import events_metrics, write_json

with job_logging(snakemake.log[0]) as log:
    stats = [json.loads(Path(path).read_text()) for path in snakemake.input.stats]
    write_json(events_metrics(stats), snakemake.output.metrics)
    log.info("wrote %s", snakemake.output.metrics)
