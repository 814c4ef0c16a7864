"""Adapter for rule scan_function: one test function, ML scanner vs random vs MCMC."""

from phenoflow.analyses.scan import function_scan_figure, run_function_scan
from phenoflow.logutil import job_logging
from phenoflow.validation import write_json

with job_logging(snakemake.log[0]) as log:
    p = snakemake.params.spec
    log.info(
        "scanning %s with %d calls per method (seed %d)", p["objective"], p["n_calls"], p["seed"]
    )
    study, scans = run_function_scan(
        p["objective"],
        p["n_calls"],
        p["seed"],
        p["options"],
        p["classifier"],
        snakemake.output.points,
    )
    function_scan_figure(p["objective"], study, scans, snakemake.output.figure)
    write_json(study, snakemake.output.study)
    log.info("wrote %s", snakemake.output.study)
