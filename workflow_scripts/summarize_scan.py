"""Adapter for rule summarize_scan: every scan study -> results/scan/metrics.json."""

import json
from pathlib import Path

from phenoflow.analyses.scan.run import scan_metrics
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging


def load(path):
    return json.loads(Path(path).read_text())


with job_logging(snakemake.log[0]) as log:
    studies = [load(f) for f in snakemake.input.studies]
    smote = load(snakemake.input.smote[0]) if snakemake.input.smote else None
    zprime = load(snakemake.input.zprime[0]) if snakemake.input.get("zprime") else None
    write_json(scan_metrics(studies, smote, zprime), snakemake.output.metrics)
    log.info("wrote %s", snakemake.output.metrics)
