"""Adapter for rule scan_zprime: the allowed Z' region, ML scanner vs random vs MCMC."""

from phenoflow.analyses.scan.run import ZPRIME_NAMES, run_zprime_scan
from phenoflow.analyses.scan.spec import ZprimeScanSpec
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging
from phenoflow.plotting.scan import plot_zprime

with job_logging(snakemake.log[0]) as log:
    spec = ZprimeScanSpec.from_params(snakemake.params.spec)
    log.info("Z' scan around %s with %d calls per method", spec.truth, spec.n_calls)
    study, scans = run_zprime_scan(spec.settings(), spec.seed, snakemake.output.points)
    truth = [spec.truth[k] for k in ZPRIME_NAMES]
    plot_zprime(scans, ZPRIME_NAMES, truth, snakemake.output.figure)
    write_json(study, snakemake.output.study)
    log.info("wrote %s", snakemake.output.study)
