"""Adapter for rule train_event_variable: train the EVN of one topology."""

import torch

from phenoflow.analyses.eventvars.spec import TrainEventVariableSpec
from phenoflow.analyses.eventvars.train import train_topology
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging

with job_logging(snakemake.log[0]) as log:
    spec = TrainEventVariableSpec.from_params(snakemake.params.spec)
    torch.set_num_threads(snakemake.threads)
    config = spec.evn_config()
    log.info("training %s on %d events (%s)", spec.topology, spec.n_train, config)
    ev, history = train_topology(spec.topology, spec.n_train, config, spec.seed)
    ev.save(snakemake.output.model)
    write_json(history, snakemake.output.history)
    log.info(
        "trained in %.1f s at %.0f events/s on %s",
        history["wall_s"],
        history["events_per_s"],
        history["device"],
    )
