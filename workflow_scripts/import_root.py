"""Adapter for rule import_root: an external ROOT tree -> event Parquet."""

from phenoflow.analyses.events.spec import ImportSpec
from phenoflow.io.root import root_to_parquet
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = ImportSpec.from_params(snakemake.params.spec)
    meta = root_to_parquet(
        snakemake.input.root,
        snakemake.output.events,
        mapping=spec.mapping,
        tree_name=spec.tree,
        chunk_size=spec.chunk_size,
        metadata=spec.metadata(),
    )
    log.info("imported %d events from %s", meta["n_events"], snakemake.input.root)
