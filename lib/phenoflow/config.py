"""Load and validate the workflow configuration.

The schema lives in the package, ``phenoflow/schema/config.schema.yaml``.  Validation runs
when Snakemake builds the DAG, so a bad key or value stops the run before
any job starts, with a message that names the key and what was expected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration key is missing, unknown or has a bad value."""


def _key(path: list[Any]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<top level>"


def _describe(error: Any) -> str:
    """One readable line for a jsonschema ValidationError."""
    path = list(error.absolute_path)
    v = error.validator
    if v == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        where = _key(path)
        keys = ", ".join(_key([*path, k]) for k in missing)
        return f"missing config key {keys!s} (required in {where})"
    if v == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        keys = ", ".join(repr(_key([*path, k])) for k in extra)
        hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"unknown config key {keys}{hint}"
    desc = error.schema.get("description", "")
    message = f"{error.instance!r} is not allowed" if v == "not" else error.message
    expected = f" (expected: {desc})" if desc else ""
    return f"config key {_key(path)!r}: {message}{expected}"


def load_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    with open(path) as fh:
        return yaml.safe_load(fh)


def _add_taggers(schema: dict[str, Any]) -> dict[str, Any]:
    """Fill the tagger model names of the registry into the ``tagging`` section (in place).

    The schema file names no tagger model; :data:`phenoflow.ml.models.TAGGERS` is the one
    list of them (importing it does not import torch).
    """
    from phenoflow.ml.models import TAGGER_NAMES

    names = list(TAGGER_NAMES)
    spelled = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
    tagging = schema["properties"]["tagging"]
    props = tagging["properties"]
    algorithms = "|".join(props["subjet_algorithm"]["enum"])
    props["models"]["items"]["pattern"] = f"^({'|'.join(names)})(_({algorithms}))?$"
    props["models"]["description"] = (
        f"a list of <model>[_<subjet algorithm>] with model in {', '.join(names)}"
    )
    for name in names:
        props[name] = {"type": "object", "description": f"keyword arguments of the {name} factory"}
    tagging["required"] = [*tagging["required"], *names]
    speed = props["speed_reference"]
    speed["description"] = (
        f"name: {{model: {'|'.join(names)}, options: {{...}}}} architectures timed, not trained"
    )
    model = speed["additionalProperties"]["properties"]["model"]
    model["enum"] = names
    model["description"] = spelled
    return schema


def validate_config(config: Mapping[str, Any], schema_path: Path = SCHEMA_PATH) -> dict[str, Any]:
    """Validate ``config`` against the schema and cross-key rules.

    Returns a plain, deep-copied dict of the config as given: schema defaults are
    not filled in (a filled-in default would change the params of rules and rerun
    them); raises ConfigError listing every problem found.
    """
    import jsonschema  # imported here: keeps `import phenoflow.config` light

    cfg = json.loads(json.dumps(config))  # plain, deep-copied, JSON-compatible
    schema = _add_taggers(load_schema(schema_path))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(
        validator.iter_errors(cfg), key=lambda e: (list(map(str, e.absolute_path)), e.message)
    )
    problems = [_describe(e) for e in errors]
    if not problems:
        problems = _cross_checks(cfg)
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
    return cfg


def _cross_checks(cfg: dict[str, Any]) -> list[str]:
    problems = []
    known = set(cfg["processes"]) | set(cfg["import_root"])
    for i, name in enumerate(cfg["run"]["processes"]):
        if name not in known:
            problems.append(
                f"config key 'run.processes[{i}]': unknown process {name!r}; "
                f"defined processes: {', '.join(sorted(known)) or '(none)'}"
            )
    jets = cfg["jets"]
    for name in jets["processes"]:
        if name not in known:
            problems.append(f"config key 'jets.processes.{name}': unknown process {name!r}")
    if jets["pt_max"] <= jets["pt_min"]:
        problems.append("config key 'jets.pt_max': must be larger than jets.pt_min")
    algos = jets["subjets"]["algorithms"]
    if jets["subjets"]["image_center"] not in (*algos, "jet"):
        problems.append(
            "config key 'jets.subjets.image_center': must be 'jet' or one of jets.subjets.algorithms "
            f"({', '.join(algos)})"
        )
    for task, spec in cfg["datasets"].items():
        for role in ("signal", "background"):
            for i, name in enumerate(spec[role]):
                if name not in jets["processes"]:
                    problems.append(
                        f"config key 'datasets.{task}.{role}[{i}]': {name!r} is not in jets.processes"
                    )
        if abs(sum(spec["split"]) - 1.0) > 1e-9:
            problems.append(
                f"config key 'datasets.{task}.split': fractions sum to {sum(spec['split'])}, not 1"
            )
    tagging = cfg["tagging"]
    if tagging["models"] and tagging["dataset"] not in cfg["datasets"]:
        problems.append(
            f"config key 'tagging.dataset': {tagging['dataset']!r} is not a task under 'datasets'"
        )
    fit = cfg["eventvars"]["mass_fit"]
    if not min(fit["grid"]) < fit["true_m_A"] < max(fit["grid"]):
        problems.append("config key 'eventvars.mass_fit.true_m_A': must lie inside the grid")
    if min(fit["grid"]) <= fit["m_C"]:
        problems.append("config key 'eventvars.mass_fit.m_C': must be below every grid mass")
    both = set(cfg["processes"]) & set(cfg["import_root"])
    for name in sorted(both):
        problems.append(f"config key 'import_root.{name}': name also used in 'processes'")
    return problems


def section_hash(section: Any) -> str:
    """Short, stable SHA-256 of a JSON-serialisable config section."""
    blob = json.dumps(section, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
