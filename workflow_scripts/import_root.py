"""Adapter for rule import_root: an external ROOT tree -> event Parquet."""

from phenoflow.io.root import root_to_parquet
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    src = snakemake.params.source
    meta = root_to_parquet(
        snakemake.input.root,
        snakemake.output.events,
        mapping=src["mapping"],
        tree_name=src["tree"],
        chunk_size=src["chunk_size"],
        metadata=src["metadata"],
    )
    log.info("imported %d events from %s", meta["n_events"], snakemake.input.root)
