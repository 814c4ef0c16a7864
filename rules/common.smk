# Config validation, wildcard constraints and the get_* input helpers.
import re
import sys
from pathlib import Path

LIB = str(Path(workflow.basedir) / "lib")
sys.path.insert(0, LIB)

from phenoflow.codehash import code_hash
from phenoflow.config import ConfigError, section_hash, validate_config
from phenoflow.workflow import export_library_path

export_library_path(LIB)

# A bad key or value stops here, before any job starts.
try:
    validate_config(config)
except ConfigError as err:
    raise WorkflowError(str(err)) from None

RUN = config["run"]["processes"]
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


def get_metrics_files(wildcards=None):
    # every analysis adds its metrics.json here
    return ["results/events/metrics.json"]


def get_final_outputs():
    out = []
    for p in RUN:
        out += get_shards(p, "parquet") + get_shards(p, "root")
        out.append(f"results/events/figures/{p}_validation.png")
    out += get_metrics_files()
    out.append("results/summary.md")
    return out
