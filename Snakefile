# phenoflow: Pythia 8 events -> ROOT/Parquet -> jets, models, figures.
# Run:  snakemake --cores 2            (default config, see README)
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "rules/report/workflow.rst"


include: "rules/common.smk"
include: "rules/generate.smk"
include: "rules/convert.smk"
include: "rules/validate.smk"
include: "rules/jets.smk"
include: "rules/eventvars.smk"
include: "rules/tagging.smk"
include: "rules/scan.smk"
include: "rules/integration.smk"
include: "rules/multimodal.smk"
include: "rules/multiscale.smk"
include: "rules/summary.smk"


rule all:
    input:
        get_final_outputs(),
    default_target: True


# Cheap bookkeeping rules run on the submit host, not as cluster jobs.
localrules:
    all,
    summarize_events,
    make_summary,
    summarize_jets,
    summarize_eventvars,
    summarize_scan,
    summarize_integration,
    summarize_multimodal,
