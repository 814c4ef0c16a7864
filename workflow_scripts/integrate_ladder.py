"""Adapter for rule integrate_ladder: every method at every call budget on one integrand."""

from phenoflow.analyses.integration.run import get_problem, run_ladder
from phenoflow.analyses.integration.spec import LadderSpec
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = LadderSpec.from_params(snakemake.params.spec)
    problem = get_problem(spec.integrand, spec.drell_yan)
    log.info("%s: methods %s, budgets %s", spec.integrand, spec.methods, spec.ladder)
    write_json(
        run_ladder(problem, spec.methods, spec.ladder, spec.seed, spec.options),
        snakemake.output.ladder,
    )
