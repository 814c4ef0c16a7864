"""Adapter for rule summarize_events: per-process stats -> results/events/metrics.json."""

import json
from pathlib import Path

from phenoflow.analyses.events.validate import events_metrics
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    stats = [json.loads(Path(path).read_text()) for path in snakemake.input.stats]
    write_json(events_metrics(stats), snakemake.output.metrics)
    log.info("wrote %s", snakemake.output.metrics)
