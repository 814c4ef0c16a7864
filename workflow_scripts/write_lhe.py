"""Adapter for rule write_lhe: one shard of gg -> S -> b bbar Les Houches events."""

from phenoflow.analyses.events.spec import WriteLHESpec
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = WriteLHESpec.from_params(snakemake.params.spec)
    log.info(
        "writing %s shard %d: %d events, S colour %s, m %g GeV, width %g GeV, seed %d",
        spec.process,
        spec.shard,
        spec.n_events,
        spec.colour,
        spec.mass,
        spec.width,
        spec.seed,
    )
    n = spec.write(snakemake.output.lhe)
    log.info(
        "wrote %d events to %s (sigma %g pb, as configured)", n, snakemake.output.lhe, spec.sigma_pb
    )
