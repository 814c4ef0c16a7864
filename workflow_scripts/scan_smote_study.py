"""Adapter for rule scan_smote_study: the ML scanner with and without SMOTE on a rare target."""

from phenoflow.analyses.scan import run_smote_study
from phenoflow.logutil import job_logging
from phenoflow.plotting.scan import plot_smote
from phenoflow.validation import write_json

with job_logging(snakemake.log[0]) as log:
    study = run_smote_study(snakemake.params.spec)
    plot_smote(study, snakemake.output.figure)
    write_json(study, snakemake.output.study)
    log.info(
        "SMOTE needed fewer calls on %s", study["summary"]["seeds_where_smote_needs_fewer_calls"]
    )
