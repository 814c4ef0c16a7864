"""Adapter for rule scan_function: one test function, ML scanner vs random vs MCMC."""

from phenoflow.analyses.scan.run import function_scan_figure, run_function_scan
from phenoflow.analyses.scan.spec import ScanFunctionSpec
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = ScanFunctionSpec.from_params(snakemake.params.spec)
    log.info(
        "scanning %s with %d calls per method (seed %d)", spec.objective, spec.n_calls, spec.seed
    )
    study, scans = run_function_scan(
        spec.objective,
        spec.n_calls,
        spec.seed,
        spec.options,
        spec.classifier,
        snakemake.output.points,
    )
    function_scan_figure(spec.objective, study, scans, snakemake.output.figure)
    write_json(study, snakemake.output.study)
    log.info("wrote %s", snakemake.output.study)
