"""Adapter for rule integrate_ladder: every method at every call budget on one integrand."""

from phenoflow.analyses.integration import get_problem, run_ladder
from phenoflow.logutil import job_logging
from phenoflow.validation import write_json

with job_logging(snakemake.log[0]) as log:
    p = snakemake.params.spec
    problem = get_problem(p["integrand"], p["drell_yan"])
    log.info("%s: methods %s, budgets %s", p["integrand"], p["methods"], p["ladder"])
    write_json(
        run_ladder(problem, p["methods"], p["ladder"], p["seed"], p["options"]),
        snakemake.output.ladder,
    )
