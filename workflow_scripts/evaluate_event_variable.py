"""Adapter for rule evaluate_event_variable: test-set correlations, calibration, mass fit, figures."""

import json
from pathlib import Path

import torch

from phenoflow.analyses.eventvars.evaluate import evaluate_topology
from phenoflow.analyses.eventvars.spec import EvaluateEventVariableSpec
from phenoflow.io.json import write_json
from phenoflow.logutil import job_logging
from phenoflow.ml.event_variable import EventVariable
from phenoflow.plotting.eventvars import plot_eventvar, plot_training

with job_logging(snakemake.log[0]) as log:
    spec = EvaluateEventVariableSpec.from_params(snakemake.params.spec)
    torch.set_num_threads(snakemake.threads)
    ev = EventVariable.load(snakemake.input.model)
    result, arrays = evaluate_topology(ev, spec.topology, spec.n_test, spec.seed, spec.mass_fit)
    write_json(result, snakemake.output.evaluation)
    plot_eventvar(result, arrays, snakemake.output.figure)
    plot_training(json.loads(Path(snakemake.input.history).read_text()), snakemake.output.training)
    log.info(
        "%s: tau = %.4f, r_s = %.4f", spec.topology, result["kendall_tau"], result["spearman_rs"]
    )
