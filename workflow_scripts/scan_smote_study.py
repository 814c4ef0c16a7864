"""Adapter for rule scan_smote_study: the ML scanner with and without SMOTE on a rare target."""

from phenoflow.analyses.scan.run import run_smote_study
from phenoflow.analyses.scan.spec import SmoteStudySpec
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging
from phenoflow.plotting.scan import plot_smote

with job_logging(snakemake.log[0]) as log:
    study = run_smote_study(SmoteStudySpec.from_params(snakemake.params.spec).to_params())
    plot_smote(study, snakemake.output.figure)
    write_json(study, snakemake.output.study)
    log.info(
        "SMOTE needed fewer calls on %s", study["summary"]["seeds_where_smote_needs_fewer_calls"]
    )
