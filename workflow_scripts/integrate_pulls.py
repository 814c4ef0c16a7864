"""Adapter for rule integrate_pulls: (estimate - exact) / sdev over many seeds."""

from phenoflow.analyses.integration import get_problem, run_pulls
from phenoflow.logutil import job_logging
from phenoflow.validation import write_json

with job_logging(snakemake.log[0]) as log:
    p = snakemake.params.spec
    problem = get_problem(p["integrand"], p["drell_yan"])
    log.info(
        "%s: %d seeds at %d calls, methods %s",
        p["integrand"],
        len(p["seeds"]),
        p["n_calls"],
        p["methods"],
    )
    write_json(
        run_pulls(problem, p["methods"], p["n_calls"], p["seeds"], p["options"]),
        snakemake.output.pulls,
    )
