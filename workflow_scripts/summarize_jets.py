"""Adapter for rule summarize_jets: jet files -> figures, efficiencies, metrics.json."""

from pathlib import Path

from phenoflow.analyses.jets.spec import JetsSummarySpec
from phenoflow.io.json import write_json
from phenoflow.jets.summary import efficiency_table, jets_metrics, jets_summary
from phenoflow.logutil import job_logging
from phenoflow.plotting.jets import plot_distributions, plot_mean_images

with job_logging(snakemake.log[0]) as log:
    spec = JetsSummarySpec.from_params(snakemake.params.spec)
    files = {p: [f for f in snakemake.input.jets if f"/{p}/" in f] for p in spec.processes}
    summary = jets_summary({p: fs for p, fs in files.items() if fs})
    write_json(summary, snakemake.output.summary)
    write_json(jets_metrics(summary), snakemake.output.metrics)
    Path(snakemake.output.efficiencies).write_text(efficiency_table(summary))
    plot_distributions(summary, snakemake.output.distributions)
    plot_mean_images(summary, snakemake.output.images, spec.half_width)
    log.info("jets summary: %s", {c: v["n_jets"] for c, v in summary["classes"].items()})
