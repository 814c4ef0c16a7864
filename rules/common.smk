# Config validation, wildcard constraints and the get_* input helpers.
import re
import sys
from pathlib import Path

LIB = str(Path(workflow.basedir) / "lib")
sys.path.insert(0, LIB)

from phenoflow.codehash import code_hash
from phenoflow.config import ConfigError, section_hash, validate_config
from phenoflow.seeds import derive_seed
from phenoflow.workflow import export_library_path

export_library_path(LIB)

# A bad key or value stops here, before any job starts.
try:
    validate_config(config)
except ConfigError as err:
    raise WorkflowError(str(err)) from None

RUN = config["run"]["processes"]
JET_PROCESSES = [p for p in config["jets"]["processes"] if p in RUN]
GENERATED = [p for p in RUN if p in config["processes"]]
IMPORTED = [p for p in RUN if p in config["import_root"]]


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


def get_generation_params(wildcards):
    """Exactly the config a generation shard depends on (params trigger reruns)."""
    proc = config["processes"][wildcards.process]
    section = {
        "seed": config["seed"],
        "common_settings": config["generation"]["common_settings"],
        "chunk_size": config["generation"]["chunk_size"],
        "settings": proc["settings"],
        "events_per_shard": proc["events_per_shard"],
    }
    return {**section, "process": wildcards.process, "shard": int(wildcards.shard), "config_hash": section_hash(section)}


def get_import_source(wildcards):
    files = config["import_root"][wildcards.process]["files"]
    shard = int(wildcards.shard)
    if shard >= len(files):
        raise WorkflowError(f"import_root.{wildcards.process}: no file for shard {shard}")
    return files[shard]


def get_import_params(wildcards):
    src = config["import_root"][wildcards.process]
    mapping = {k: src[k] for k in ("particles", "partons", "weight", "event_id") if k in src}
    metadata = {
        "process": wildcards.process,
        "shard": int(wildcards.shard),
        "source": get_import_source(wildcards),
        "generator": "external",
        "sigma_pb": src.get("sigma_pb"),
        "sigma_err_pb": src.get("sigma_err_pb"),
        "config_hash": section_hash(src),
    }
    return {
        "tree": src.get("tree", "events"),
        "mapping": mapping,
        "metadata": metadata,
        "chunk_size": config["generation"]["chunk_size"],
    }


def get_validation_stats(wildcards):
    return [f"results/events/{p}/stats.json" for p in RUN]


def get_jets_params(wildcards):
    """The jets config a shard depends on, and its truth-label kind."""
    jets = {k: v for k, v in config["jets"].items() if k != "processes"}
    return {"config": jets, "kind": config["jets"]["processes"][wildcards.process], "config_hash": section_hash(jets)}


def get_all_jet_files(wildcards):
    return [f"results/jets/{p}/shard{i}.parquet" for p in JET_PROCESSES for i in range(n_shards(p))]


def get_dataset_jet_files(wildcards):
    spec = config["datasets"][wildcards.task]
    return [f"results/jets/{p}/shard{i}.parquet" for p in spec["signal"] + spec["background"] for i in range(n_shards(p))]


def get_dataset_params(wildcards):
    spec = config["datasets"][wildcards.task]
    jets = config["jets"]
    return {
        **spec,
        "seed": config["seed"],
        "cuts": {k: jets[k] for k in ("r", "pt_min", "pt_max", "eta_max")},
        "shards": {p: n_shards(p) for p in spec["signal"] + spec["background"]},
    }


def dataset_tasks():
    # a dataset needs all its processes in this run
    return [t for t, s in config["datasets"].items() if all(p in JET_PROCESSES for p in s["signal"] + s["background"])]


def get_eventvars_train_params(wildcards):
    """What training depends on (not the test or mass-fit settings)."""
    ev = {k: v for k, v in config["eventvars"].items() if k not in ("n_test", "mass_fit", "topologies")}
    return {**ev, "seed": config["seed"], "topology": wildcards.topology}


def get_eventvars_params(wildcards):
    ev = {k: v for k, v in config["eventvars"].items() if k != "topologies"}
    return {**ev, "seed": config["seed"], "topology": wildcards.topology}


def tagging_task():
    t = config["tagging"]
    return t["dataset"] if t["models"] and t["dataset"] in dataset_tasks() else None


def get_tagging_params(wildcards):
    t = config["tagging"]
    name = wildcards.key.split("_")[0]
    spec = {
        "train": t["train"],
        "model_options": t[name],
        "subjet_algorithm": t["subjet_algorithm"],
        "seed": int(wildcards.seed),
        "key": wildcards.key,
    }
    spec["config_hash"] = section_hash(spec)
    return spec


def get_tagging_eval_params(wildcards):
    t = config["tagging"]
    return {
        "models": t["models"],
        "seeds": t["seeds"],
        "subjet_algorithm": t["subjet_algorithm"],
        "model_options": {m: t[m] for m in ("mixer", "part", "deepsets")},
        "speed_reference": t.get("speed_reference", {}),
    }


def get_tagger_models(wildcards):
    t = config["tagging"]
    return [f"results/tagging/{wildcards.task}/models/{k}_seed{s}.pt" for k in t["models"] for s in t["seeds"]]


def get_tagger_histories(wildcards):
    t = config["tagging"]
    return [f"results/tagging/{wildcards.task}/{k}/seed{s}.json" for k in t["models"] for s in t["seeds"]]


def get_scan_params(wildcards):
    sc = config["scan"]
    return {
        "objective": wildcards.objective,
        "n_calls": sc["n_calls"],
        "classifier": sc["classifier"],
        "options": sc["options"],
        "seed": derive_seed(config["seed"], "scan", wildcards.objective, modulus=2**31 - 1),
    }


def get_integration_ladder_params(wildcards):
    it = config["integration"]
    return {
        "integrand": wildcards.integrand,
        "methods": it["methods"],
        "ladder": it["ladder"][wildcards.integrand],
        "options": it["options"],
        "drell_yan": it["drell_yan"] if wildcards.integrand == "drell_yan" else None,
        "seed": derive_seed(config["seed"], "integration", wildcards.integrand, modulus=2**31 - 1),
    }


def get_integration_pulls_params(wildcards):
    it = config["integration"]
    p = it["pulls"]
    base = derive_seed(config["seed"], "integration", "pulls", wildcards.integrand, modulus=2**31 - 1)
    return {
        "integrand": wildcards.integrand,
        "methods": p["methods"],
        "n_calls": p["n_calls"][wildcards.integrand],
        "seeds": [base + i for i in range(p["n_seeds"])],
        "options": it["options"],
        "drell_yan": it["drell_yan"] if wildcards.integrand == "drell_yan" else None,
    }


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
        out += [f"results/tagging/{tagging_task()}/figures/roc.png", f"results/tagging/{tagging_task()}/table.md"]
    out += [f"results/scan/figures/{o}.png" for o in config["scan"]["objectives"]]
    if config["integration"]["integrands"]:
        out += ["results/integration/figures/comparison.png", "results/integration/table.md"]
    if "fine_tuning_2d" in config["integration"]["integrands"]:
        out.append("results/integration/figures/strata_fine_tuning_2d.png")
    if get_drell_yan_check_input():
        out.append("results/integration/figures/drell_yan.png")
    if get_scan_smote_input():
        out.append("results/scan/figures/smote.png")
    out += get_metrics_files()
    out.append("results/summary.md")
    return out
