# Config validation, wildcard constraints and the get_* helpers.
# Every job's params come from one typed spec (lib/phenoflow/analyses/<stage>/spec.py):
# get_*_spec(wildcards) = <Spec>.from_config(config, **wildcards).to_params(), and the
# adapter rebuilds it with <Spec>.from_params(snakemake.params.spec).  A rule's `code`
# param is the hash of its adapter's phenoflow import closure, derived, never listed.
import re
import sys
from pathlib import Path

LIB = str(Path(workflow.basedir) / "lib")
sys.path.insert(0, LIB)

from phenoflow.analyses.events.spec import GenerateSpec, ImportSpec, ValidateSpec, WriteLHESpec
from phenoflow.analyses.eventvars.spec import EvaluateEventVariableSpec, TrainEventVariableSpec
from phenoflow.analyses.integration.spec import DrellYanCheckSpec, LadderSpec, PullsSpec, StrataSpec
from phenoflow.analyses.jets.spec import ClusterSpec, DatasetSpec, JetsSummarySpec
from phenoflow.analyses.multimodal.spec import (
    KEY_PATTERN as MULTIMODAL_KEY_PATTERN,
    EvaluateMultimodalSpec,
    MultimodalDatasetSpec,
    MultimodalSummarySpec,
    TrainMultimodalSpec,
)
from phenoflow.analyses.multiscale.spec import (
    KEY_PATTERN as MULTISCALE_KEY_PATTERN,
    EvaluateMultiscaleSpec,
    MultiscaleDatasetSpec,
    TrainMultiscaleSpec,
)
from phenoflow.analyses.scan.spec import ScanFunctionSpec, SmoteStudySpec, ZprimeScanSpec
from phenoflow.analyses.tagging.spec import EvaluateTaggersSpec, TrainBDTSpec, TrainTaggerSpec
from phenoflow.codehash import adapter_code_hash
from phenoflow.config import ConfigError, check_config_files, validate_config
from phenoflow.ml.models import tagger_names
from phenoflow.workflow import export_library_path

export_library_path(LIB)

# A bad key or value stops here, before any job starts.  The config files are read
# again to name file:line of a duplicate key (YAML keeps the last one silently); the
# validated config has nested --config strings read as YAML where a number is expected.
try:
    check_config_files(workflow.configfiles)
    config.update(validate_config(config))
except ConfigError as err:
    raise WorkflowError(str(err)) from None

RUN = config["run"]["processes"]
JET_PROCESSES = [p for p in config["jets"]["processes"] if p in RUN]
GENERATED = [p for p in RUN if p in config["processes"]]
IMPORTED = [p for p in RUN if p in config["import_root"]]
# generated processes whose hard process is a Les Houches file (rule write_lhe)
LHE_PROCESSES = [p for p in GENERATED if "lhe" in config["processes"][p]]


def _alternatives(names):
    # a regex matching exactly these names; one that never matches if empty
    return "|".join(re.escape(n) for n in names) if names else "(?!x)x"


wildcard_constraints:
    shard=r"\d+",
    process=_alternatives(GENERATED + IMPORTED),


def n_shards(process):
    if process in config["processes"]:
        return config["processes"][process]["shards"]
    return len(config["import_root"][process]["files"])


def get_shards(process, ext="parquet"):
    return [f"results/events/{process}/shard{i}.{ext}" for i in range(n_shards(process))]


def get_process_shards(wildcards):
    return get_shards(wildcards.process)


def get_configfiles():
    # the config files merged for this run, in order (recorded in results/run_info.json)
    return [str(Path(c)) for c in workflow.configfiles]


def _wc(wildcards):
    return dict(wildcards.items())


def adapter_hash(script):
    # the code param of a rule: its adapter and every phenoflow module it reaches
    return adapter_code_hash(Path(workflow.basedir) / "workflow_scripts" / f"{script}.py")


def get_generate_spec(wildcards):
    return GenerateSpec.from_config(config, **_wc(wildcards)).to_params()


def get_generate_input(wildcards):
    # an LHE process showers the file of its shard; a built-in process needs no input
    if wildcards.process in LHE_PROCESSES:
        return {"lhe": f"results/lhe/{wildcards.process}/shard{wildcards.shard}.lhe"}
    return {}


def get_write_lhe_spec(wildcards):
    return WriteLHESpec.from_config(config, **_wc(wildcards)).to_params()


def get_import_spec(wildcards):
    return ImportSpec.from_config(config, **_wc(wildcards)).to_params()


def get_import_source(wildcards):
    return ImportSpec.from_config(config, **_wc(wildcards)).file


def get_validate_spec(wildcards):
    return ValidateSpec.from_config(config, **_wc(wildcards)).to_params()


def get_validation_stats(wildcards):
    return [f"results/events/{p}/stats.json" for p in RUN]


def get_cluster_spec(wildcards):
    return ClusterSpec.from_config(config, **_wc(wildcards)).to_params()


def get_jets_summary_spec(wildcards):
    return JetsSummarySpec.from_config(config).to_params()


def get_all_jet_files(wildcards):
    return [f"results/jets/{p}/shard{i}.parquet" for p in JET_PROCESSES for i in range(n_shards(p))]


def get_dataset_spec(wildcards):
    return DatasetSpec.from_config(config, **_wc(wildcards)).to_params()


def get_dataset_jet_files(wildcards):
    spec = DatasetSpec.from_config(config, **_wc(wildcards))
    return [
        f"results/jets/{p}/shard{i}.parquet" for p in spec.processes for i in range(n_shards(p))
    ]


def dataset_tasks():
    # a dataset needs all its processes in this run
    return [
        t
        for t, s in config["datasets"].items()
        if all(p in JET_PROCESSES for p in s["signal"] + s["background"])
    ]


def get_train_event_variable_spec(wildcards):
    return TrainEventVariableSpec.from_config(config, **_wc(wildcards)).to_params()


def get_evaluate_event_variable_spec(wildcards):
    return EvaluateEventVariableSpec.from_config(config, **_wc(wildcards)).to_params()


def tagging_task():
    t = config["tagging"]
    return t["dataset"] if t["models"] and t["dataset"] in dataset_tasks() else None


def tagger_key_pattern():
    # <model> or <model>_<subjet algorithm>, the models from the registry
    return rf"({'|'.join(tagger_names())})(_(ca|antikt|hdbscan))?"


def get_train_tagger_spec(wildcards):
    return TrainTaggerSpec.from_config(config, **_wc(wildcards)).to_params()


def get_train_bdt_spec(wildcards):
    return TrainBDTSpec.from_config(config, **_wc(wildcards)).to_params()


def get_evaluate_taggers_spec(wildcards):
    return EvaluateTaggersSpec.from_config(config, **_wc(wildcards)).to_params()


def get_tagger_models(wildcards):
    return EvaluateTaggersSpec.from_config(config, **_wc(wildcards)).model_files(
        f"results/tagging/{wildcards.task}"
    )


def get_tagger_histories(wildcards):
    return EvaluateTaggersSpec.from_config(config, **_wc(wildcards)).history_files(
        f"results/tagging/{wildcards.task}"
    )


def get_scan_function_spec(wildcards):
    return ScanFunctionSpec.from_config(config, **_wc(wildcards)).to_params()


def get_smote_study_spec(wildcards):
    return SmoteStudySpec.from_config(config).to_params()


def get_zprime_scan_spec(wildcards):
    return ZprimeScanSpec.from_config(config).to_params()


def get_ladder_spec(wildcards):
    return LadderSpec.from_config(config, **_wc(wildcards)).to_params()


def get_pulls_spec(wildcards):
    return PullsSpec.from_config(config, **_wc(wildcards)).to_params()


def get_strata_spec(wildcards):
    return StrataSpec.from_config(config).to_params()


def get_drell_yan_check_spec(wildcards):
    return DrellYanCheckSpec.from_config(config).to_params()


def get_drell_yan_check_input(wildcards=None):
    it = config["integration"]
    return ["results/integration/drell_yan/check.json"] if "drell_yan" in it["integrands"] else []


def get_scan_function_studies(wildcards=None):
    objectives = [o for o in config["scan"]["objectives"] if o != "zprime"]
    return [f"results/scan/{o}/study.json" for o in objectives]


def get_scan_zprime_input(wildcards=None):
    return ["results/scan/zprime/study.json"] if "zprime" in config["scan"]["objectives"] else []


def get_scan_smote_input(wildcards=None):
    return ["results/scan/smote/study.json"] if config["scan"]["smote"]["seeds"] else []


def multimodal_tasks():
    # a task needs all its processes in this run
    return [
        t
        for t, s in config["multimodal"]["tasks"].items()
        if all(p in RUN for p in s["signal"] + s["background"])
    ]


def get_multimodal_dataset_spec(wildcards):
    return MultimodalDatasetSpec.from_config(config, **_wc(wildcards)).to_params()


def get_multimodal_event_files(wildcards):
    spec = MultimodalDatasetSpec.from_config(config, **_wc(wildcards))
    return [f for p in spec.processes for f in get_shards(p)]


def get_train_multimodal_spec(wildcards):
    return TrainMultimodalSpec.from_config(config, **_wc(wildcards)).to_params()


def get_evaluate_multimodal_spec(wildcards):
    return EvaluateMultimodalSpec.from_config(config, **_wc(wildcards)).to_params()


def get_multimodal_models(wildcards):
    spec = EvaluateMultimodalSpec.from_config(config, **_wc(wildcards))
    return spec.model_files(f"results/multimodal/{wildcards.task}")


def get_multimodal_summary_spec(wildcards):
    return MultimodalSummarySpec.from_config(config, multimodal_tasks()).to_params()


def get_multimodal_evaluations(wildcards):
    return [f"results/multimodal/{t}/evaluation.json" for t in multimodal_tasks()]


def get_multimodal_images(wildcards):
    return [f"results/multimodal/{t}/mean_images.npz" for t in multimodal_tasks()]


def get_multimodal_cards(wildcards):
    return [f"results/multimodal/{t}/dataset/card.json" for t in multimodal_tasks()]


def multiscale_on():
    # the stage runs when its models are listed and all its samples are in this run
    ms = config["multiscale"]
    return bool(ms["models"]) and all(p in RUN for p in [*ms["signal"], *ms["background"]])


def get_multiscale_dataset_spec(wildcards):
    return MultiscaleDatasetSpec.from_config(config).to_params()


def get_multiscale_event_files(wildcards):
    spec = MultiscaleDatasetSpec.from_config(config)
    return [f for p in spec.processes for f in get_shards(p)]


def get_train_multiscale_spec(wildcards):
    return TrainMultiscaleSpec.from_config(config, **_wc(wildcards)).to_params()


def get_train_multiscale_bdt_spec(wildcards):
    return TrainMultiscaleSpec.from_config(config, "bdt").to_params()


def get_evaluate_multiscale_spec(wildcards):
    return EvaluateMultiscaleSpec.from_config(config).to_params()


def get_multiscale_models(wildcards):
    return EvaluateMultiscaleSpec.from_config(config).model_files("results/multiscale")


def get_metrics_files(wildcards=None):
    # every analysis adds its metrics.json here
    files = ["results/events/metrics.json"]
    if config["eventvars"]["topologies"]:
        files.append("results/eventvars/metrics.json")
    if tagging_task():
        files.append(f"results/tagging/{tagging_task()}/metrics.json")
    if JET_PROCESSES:
        files.append("results/jets/metrics.json")
    if config["scan"]["objectives"]:
        files.append("results/scan/metrics.json")
    if config["integration"]["integrands"]:
        files.append("results/integration/metrics.json")
    if multimodal_tasks() and config["multimodal"]["models"]:
        files.append("results/multimodal/metrics.json")
    if multiscale_on():
        files.append("results/multiscale/metrics.json")
    return files


def get_final_outputs():
    out = []
    for p in RUN:
        out += get_shards(p, "parquet") + get_shards(p, "root")
        out.append(f"results/events/figures/{p}_validation.png")
    for p in JET_PROCESSES:
        out += [f"results/jets/{p}/shard{i}.parquet" for i in range(n_shards(p))]
    if JET_PROCESSES:
        out += ["results/jets/figures/distributions.png", "results/jets/figures/mean_images.png"]
    out += [f"results/datasets/{t}/card.json" for t in dataset_tasks()]
    out += [f"results/eventvars/figures/{t}.png" for t in config["eventvars"]["topologies"]]
    if tagging_task():
        out += [
            f"results/tagging/{tagging_task()}/figures/roc.png",
            f"results/tagging/{tagging_task()}/table.md",
        ]
    out += [f"results/scan/figures/{o}.png" for o in config["scan"]["objectives"]]
    if config["integration"]["integrands"]:
        out += ["results/integration/figures/comparison.png", "results/integration/table.md"]
    if "fine_tuning_2d" in config["integration"]["integrands"]:
        out.append("results/integration/figures/strata_fine_tuning_2d.png")
    if get_drell_yan_check_input():
        out.append("results/integration/figures/drell_yan.png")
    if get_scan_smote_input():
        out.append("results/scan/figures/smote.png")
    if multimodal_tasks() and config["multimodal"]["models"]:
        out += ["results/multimodal/table.md", "results/multimodal/figures/roc.png"]
    if multiscale_on():
        out += ["results/multiscale/table.md", "results/multiscale/figures/roc.png"]
    out += get_metrics_files()
    out.append("results/summary.md")
    return out
