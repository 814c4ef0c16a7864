"""Adapter for rule train_event_variable: train the EVN of one topology."""

import torch

from phenoflow.analyses.eventvars_train import train_topology
from phenoflow.logutil import job_logging
from phenoflow.ml.eventvars import EVNConfig
from phenoflow.validation import write_json

with job_logging(snakemake.log[0]) as log:
    p = snakemake.params.spec
    torch.set_num_threads(snakemake.threads)
    config = EVNConfig(
        d_v=p["d_v"],
        epochs=p["epochs"],
        batch_size=p["batch_size"],
        learning_rate=p["learning_rate"],
        patience=p["patience"],
        seed=p["seed"],
        device=p["device"],
    )
    log.info("training %s on %d events (%s)", p["topology"], p["n_train"], config)
    ev, history = train_topology(p["topology"], p["n_train"], config, p["seed"])
    ev.save(snakemake.output.model)
    write_json(history, snakemake.output.history)
    log.info(
        "trained in %.1f s at %.0f events/s on %s",
        history["wall_s"],
        history["events_per_s"],
        history["device"],
    )
