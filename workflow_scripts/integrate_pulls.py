"""Adapter for rule integrate_pulls: (estimate - exact) / sdev over many seeds."""

from phenoflow.analyses.integration.run import get_problem, run_pulls
from phenoflow.analyses.integration.spec import PullsSpec
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = PullsSpec.from_params(snakemake.params.spec)
    problem = get_problem(spec.integrand, spec.drell_yan)
    log.info(
        "%s: %d seeds at %d calls, methods %s",
        spec.integrand,
        len(spec.seeds),
        spec.n_calls,
        spec.methods,
    )
    write_json(
        run_pulls(problem, spec.methods, spec.n_calls, spec.seeds, spec.options),
        snakemake.output.pulls,
    )
