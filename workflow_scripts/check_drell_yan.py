"""Adapter for rule check_drell_yan: Pythia cross-check, unweighted events, VEGAS+ side by side."""

from phenoflow.analyses.integration.run import drell_yan_check, write_events
from phenoflow.analyses.integration.spec import DrellYanCheckSpec
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging
from phenoflow.plotting.integration import plot_drell_yan

with job_logging(snakemake.log[0]) as log:
    spec = DrellYanCheckSpec.from_params(snakemake.params.spec)
    check, arrays = drell_yan_check(spec.settings(), spec.seed)
    write_events(arrays["events"], snakemake.output.events)
    write_events(arrays["zoomed"], snakemake.output.zoomed)
    plot_drell_yan(arrays, snakemake.output.figure)
    write_json(check, snakemake.output.check)
    log.info("wrote %s in %.0f s", snakemake.output.check, check["wall_s"])
