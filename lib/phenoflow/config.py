"""Load and validate the workflow configuration.

The schema lives in the package, ``phenoflow/schema/config.schema.yaml``.  Validation runs
when Snakemake builds the DAG, so a bad key or value stops the run before
any job starts, with a message that names the key and what was expected.

Three rules beyond JSON Schema:

* ``integer`` means a Python int: ``1.0`` and ``true`` are rejected (the code downstream
  would fail on them far from the config).
* A string where the schema wants a number, boolean, list or mapping is read as YAML:
  Snakemake passes nested ``--config`` values (``--config 'validation={bins: 30}'``) as
  text.  A string that still is no such value is an error that names the key.
* The free-form option maps (``tagging.<model>``, ``scan.options``,
  ``integration.options.<method>``, ...) are checked against the library code that takes
  them: the parameters of the tagger factory, the fields of
  :class:`phenoflow.scan.explore.ScanOptions` and of
  :class:`phenoflow.integrate.lestrat.LeStratOptions`, and
  :data:`phenoflow.integrate.references.OPTIONS`.  Those names and their annotated types
  are read from the source with :mod:`ast`, so validation imports neither torch nor the
  modules (one source of truth, no copy in the schema).

``python -m phenoflow.config FILE...`` checks config files as Snakemake would merge
them, naming the file, line and column of a YAML error (Snakemake's own message names
neither).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import itertools
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
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
    if "propertyNames" in error.schema_path:
        # the instance is the key itself, under the mapping at `path`
        key = _key([*path, error.instance])
        if v == "enum":
            names = ", ".join(map(str, error.validator_value))
            return f"unknown config key {key!r}; allowed keys here: {names}"
        path = [*path, error.instance]
    desc = error.schema.get("description", "")
    message = f"{error.instance!r} is not allowed" if v == "not" else error.message
    if v == "type" and isinstance(error.instance, float) and error.instance.is_integer():
        message += f" (write {int(error.instance)}, not {error.instance})"
    expected = f" (expected: {desc})" if desc else ""
    hint = _STRING_HINT if v == "type" and isinstance(error.instance, str) else ""
    return f"config key {_key(path)!r}: {message}{expected}{hint}"


_STRING_HINT = (
    "; on the command line, give nested values in a file (--configfile FILE) or as "
    "YAML (--config 'section={key: 30}')"
)


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
    """Validate ``config`` against the schema, the library's option checks and cross-key rules.

    Returns a plain, deep-copied dict of the config as given, with strings read as YAML
    where the schema wants a number, boolean, list or mapping (see the module docstring);
    schema defaults are not filled in (a filled-in default would change the params of
    rules and rerun them).  Raises ConfigError listing every problem found.
    """
    problems: list[str] = []
    cfg = _plain(config, [], problems)
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
    validator = _validator(schema_path)
    for _ in range(8):  # a YAML string may hold a mapping with strings inside
        errors = list(validator.iter_errors(cfg))
        if not any(_coerce(cfg, e) for e in errors):
            break
    errors.sort(key=lambda e: (list(map(str, e.absolute_path)), e.message))
    # one line per problem: a group of missing keys is reported once, not once a key
    problems = list(dict.fromkeys(_describe(e) for e in errors)) + _option_checks(cfg)
    if not errors:  # the cross-key checks rely on the structure the schema checks
        problems += _cross_checks(cfg)
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
    return cfg


def _validator(schema_path: Path) -> Any:
    import jsonschema  # imported here: keeps `import phenoflow.config` light

    base = jsonschema.Draft202012Validator
    # "integer" is a Python int: JSON Schema counts 1.0 as one, range() and friends do not
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _, x: isinstance(x, int) and not isinstance(x, bool)
    )
    cls = jsonschema.validators.extend(base, type_checker=checker)
    return cls(_add_taggers(load_schema(schema_path)))


def _plain(value: Any, path: list[Any], problems: list[str]) -> Any:
    """A JSON-compatible deep copy of ``value``; what has no JSON form goes to ``problems``."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                problems.append(f"config key {_key([*path, k])!r}: keys must be strings")
                continue
            out[k] = _plain(v, [*path, k], problems)
        return out
    if isinstance(value, list | tuple):
        return [_plain(v, [*path, i], problems) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(f"config key {_key(path)!r}: {value!r} is not a finite number")
    elif not (value is None or isinstance(value, str | int | float)):
        problems.append(
            f"config key {_key(path)!r}: {value!r} is a {type(value).__name__}, not a number, "
            "string, boolean, list or mapping (quote it to make it a string)"
        )
    return value


def _coerce(cfg: dict[str, Any], error: Any) -> bool:
    """Replace a string by its YAML value where the schema wants another type; True if done."""
    if error.validator != "type" or not isinstance(error.instance, str):
        return False
    wanted = error.validator_value
    if "string" in (wanted if isinstance(wanted, list) else [wanted]):
        return False
    value = _from_yaml(error.instance)
    if value is None or isinstance(value, str):
        return False
    path = list(error.absolute_path)
    if not path:
        return False
    parent = cfg
    for p in path[:-1]:
        parent = parent[p]
    parent[path[-1]] = _plain(value, path, [])
    return True


def _from_yaml(text: str) -> Any:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    problems: list[str] = []
    value = _plain(value, [], problems)
    return None if problems else value


def _increasing(values: list[float]) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


def _multimodal_checks(mm: dict[str, Any], known: set[str]) -> list[str]:
    problems = []
    for task, spec in mm["tasks"].items():
        for role in ("signal", "background"):
            for i, name in enumerate(spec[role]):
                if name not in known:
                    problems.append(
                        f"config key 'multimodal.tasks.{task}.{role}[{i}]': unknown process {name!r}"
                    )
    for i, task in enumerate(mm["l2_scan"]["tasks"]):
        if task not in mm["tasks"]:
            problems.append(
                f"config key 'multimodal.l2_scan.tasks[{i}]': {task!r} is not a task under "
                "'multimodal.tasks'"
            )
    if abs(sum(mm["split"]) - 1.0) > 1e-9:
        problems.append(
            f"config key 'multimodal.split': fractions sum to {sum(mm['split'])}, not 1"
        )
    for key, values in (
        ("selection.m_window", mm["selection"]["m_window"]),
        ("pt_bins", mm["pt_bins"]),
    ):
        if not _increasing(values):
            problems.append(f"config key 'multimodal.{key}': must be increasing, got {values}")
    return problems


def _multiscale_checks(ms: dict[str, Any], known: set[str]) -> list[str]:
    problems = []
    for role, names in (("signal", list(ms["signal"])), ("background", ms["background"])):
        for name in names:
            if name not in known:
                problems.append(f"config key 'multiscale.{role}': unknown process {name!r}")
    if ms["target"] not in ms["signal"]:
        problems.append(
            f"config key 'multiscale.target': {ms['target']!r} is not under 'multiscale.signal'"
        )
    if "multiscale_param" in ms["models"] and len(ms["signal"]) < 2:
        problems.append(
            "config key 'multiscale.models': multiscale_param needs a second mass point "
            "under 'multiscale.signal' to train on"
        )
    if abs(sum(ms["split"]) - 1.0) > 1e-9:
        problems.append(
            f"config key 'multiscale.split': fractions sum to {sum(ms['split'])}, not 1"
        )
    if ms["selection"]["subjet_r"] >= ms["selection"]["r"]:
        problems.append("config key 'multiscale.selection.subjet_r': must be below selection.r")
    return problems


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
    problems += _multimodal_checks(cfg["multimodal"], known)
    problems += _multiscale_checks(cfg["multiscale"], known)
    both = set(cfg["processes"]) & set(cfg["import_root"])
    for name in sorted(both):
        problems.append(f"config key 'import_root.{name}': name also used in 'processes'")
    return problems + _process_checks(cfg) + _range_checks(cfg)


# the LHE kinematics that processes sharing a `momenta` label must agree on
_LHE_MOMENTA_KEYS = ("mass", "width", "m_window", "ecm")


def _process_checks(cfg: dict[str, Any]) -> list[str]:
    """Settings of built-in processes; LHE mass windows and shared momenta labels."""
    problems = []
    momenta: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, proc in cfg["processes"].items():
        lhe = proc.get("lhe")
        if lhe is None:
            if not proc["settings"]:
                problems.append(
                    f"config key 'processes.{name}.settings': empty (a process without "
                    "'lhe' needs its Pythia settings)"
                )
            continue
        for i, line in enumerate(proc["settings"]):
            if re.match(r"(?i)\s*Beams:(frameType|LHEF)\b", line):
                problems.append(
                    f"config key 'processes.{name}.settings[{i}]': {line!r} is set by "
                    "phenoflow for an 'lhe' process"
                )
        lo, hi = lhe["m_window"]
        if not lo < lhe["mass"] < hi:
            problems.append(
                f"config key 'processes.{name}.lhe.m_window': {[lo, hi]} must contain "
                f"the mass {lhe['mass']}"
            )
        kin = {k: lhe[k] for k in _LHE_MOMENTA_KEYS}
        first, seen = momenta.setdefault(lhe["momenta"], (name, kin))
        if seen != kin:
            problems.append(
                f"config key 'processes.{name}.lhe': shares momenta {lhe['momenta']!r} with "
                f"{first!r} but differs in {', '.join(k for k in kin if kin[k] != seen[k])}"
            )
    return problems


def _range_checks(cfg: dict[str, Any]) -> list[str]:
    """[low, high] pairs in order; every active integrand has its call budgets."""
    problems = []

    def increasing(
        key: str, values: Sequence[float], what: str = "[low, high] with low < high"
    ) -> None:
        if any(b <= a for a, b in itertools.pairwise(values)):
            problems.append(f"config key {key!r}: {list(values)} is not {what}")

    zprime = cfg["scan"]["zprime"]
    for name, pair in zprime["bounds"].items():
        increasing(f"scan.zprime.bounds.{name}", pair)
    edges = zprime["m_edges"]
    if edges["max"] <= edges["min"]:
        problems.append("config key 'scan.zprime.m_edges': min must be below max")
    it = cfg["integration"]
    dy = it["drell_yan"]
    if dy["m_max"] <= dy["m_min"]:
        problems.append(
            f"config key 'integration.drell_yan.m_min': {dy['m_min']} must be below "
            f"integration.drell_yan.m_max ({dy['m_max']})"
        )
    for name in ("pythia_windows", "cos_windows"):
        for i, pair in enumerate(dy[name]):
            increasing(f"integration.drell_yan.{name}[{i}]", pair)
    increasing("integration.drell_yan.afb_edges", dy["afb_edges"], "increasing")
    for integrand in it["integrands"]:
        if integrand not in it["ladder"]:
            problems.append(
                f"missing config key integration.ladder.{integrand} "
                "(a list of call budgets for each of integration.integrands)"
            )
        if integrand not in it["pulls"]["n_calls"]:
            problems.append(
                f"missing config key integration.pulls.n_calls.{integrand} "
                "(calls per estimate for each of integration.integrands)"
            )
    return problems


# --- the free-form option maps, checked against the library source ------------------

# explore() options the scan stage sets itself (a config value would clash with them)
_SCAN_STAGE_OPTIONS = ("threshold", "model", "callback")
_LIB = Path(__file__).resolve().parent


@functools.cache
def _source(module: str) -> ast.Module:
    parts = module.split(".")[1:]
    path = _LIB.joinpath(*parts).with_suffix(".py")
    if not path.is_file():
        path = _LIB.joinpath(*parts, "__init__.py")
    return ast.parse(path.read_text(), str(path))


def _top(module: str, name: str) -> ast.AST:
    for node in _source(module).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            return node
        targets: list[ast.expr] = [node.target] if isinstance(node, ast.AnnAssign) else []
        targets += node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return node
    raise LookupError(f"{module} defines no {name} (the config validation reads it)")


def _fields(module: str, cls: str) -> dict[str, ast.expr | None]:
    """Field name -> annotation of a dataclass in ``module``."""
    node = _top(module, cls)
    assert isinstance(node, ast.ClassDef)
    return {
        f.target.id: f.annotation
        for f in node.body
        if isinstance(f, ast.AnnAssign) and isinstance(f.target, ast.Name)
    }


def _parameters(module: str, func: str, skip: int = 0) -> dict[str, ast.expr | None]:
    """Keyword-able parameter name -> annotation of function ``func`` in ``module``."""
    node = _top(module, func)
    assert isinstance(node, ast.FunctionDef)
    args = [*node.args.args[skip:], *node.args.kwonlyargs]
    return {a.arg: a.annotation for a in args}


def _literal(module: str, name: str) -> Any:
    node = _top(module, name)
    assert isinstance(node, ast.Assign | ast.AnnAssign)
    assert node.value is not None
    return ast.literal_eval(node.value)


@functools.cache
def tagger_options(name: str) -> dict[str, ast.expr | None]:
    """Option name -> annotation of tagger ``name``: the parameters of the function its
    registry factory calls (read from the source; torch is not imported)."""
    import inspect

    from phenoflow.ml.models import tagger_factory

    factory = tagger_factory(name)
    tree = ast.parse(inspect.getsource(factory))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("phenoflow.")
        ):
            return _parameters(node.module, node.names[0].name)
    # a factory that builds the model itself: its own signature
    sig = inspect.signature(factory)
    return {
        p: None
        for p in sig.parameters
        if sig.parameters[p].kind is not inspect.Parameter.VAR_KEYWORD
    }


def scan_options() -> dict[str, ast.expr | None]:
    """The explore() options a config may set: fields of ScanOptions less the stage's own."""
    fields = _fields("phenoflow.scan.explore", "ScanOptions")
    return {k: v for k, v in fields.items() if k not in _SCAN_STAGE_OPTIONS}


def integrate_options(method: str) -> dict[str, ast.expr | None]:
    """The keyword options of integration method ``method``."""
    if method == "lestrat":
        return _fields("phenoflow.integrate.lestrat", "LeStratOptions")
    names = _literal("phenoflow.integrate.references", "OPTIONS")[method]
    types: dict[str, ast.expr | None] = {}
    for node in _source("phenoflow.integrate.references").body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("run_"):
            types |= {a.arg: a.annotation for a in node.args.args if a.arg in names}
    return {n: types.get(n) for n in names}


def _option_checks(cfg: dict[str, Any]) -> list[str]:
    """Problems of the option maps; a map the schema already rejected is skipped."""
    from phenoflow.ml.models import TAGGER_NAMES

    def section(parent: Any, *keys: str) -> dict[str, Any]:
        for k in keys:
            parent = parent.get(k) if isinstance(parent, dict) else None
        return parent if isinstance(parent, dict) else {}

    problems: list[str] = []
    tagging = section(cfg, "tagging")
    for name in TAGGER_NAMES:
        _check_map(tagging, name, f"tagging.{name}", tagger_options(name), problems)
    for ref, spec in section(tagging, "speed_reference").items():
        if isinstance(spec, dict) and spec.get("model") in TAGGER_NAMES:
            key = f"tagging.speed_reference.{ref}.options"
            _check_map(spec, "options", key, tagger_options(spec["model"]), problems)
    for where in ("scan.options", "scan.zprime.options"):
        *up, name = where.split(".")
        _check_map(section(cfg, *up), name, where, scan_options(), problems)
    # make_multimodal's keyword options, less those the stage sets from the model key
    mm_options = {
        k: v
        for k, v in _parameters("phenoflow.ml.models.multimodal", "make_multimodal").items()
        if k not in ("kind", "n_kinematic", "image_size", "l2", "l2_on")
    }
    _check_map(section(cfg, "multimodal"), "model", "multimodal.model", mm_options, problems)
    ms_options = {
        k: v
        for k, v in _parameters("phenoflow.ml.models.multiscale", "make_multiscale").items()
        if k
        not in ("kind", "n_features", "n_kin_features", "n_kinematics", "parameterised", "seed")
    }
    _check_map(section(cfg, "multiscale"), "model", "multiscale.model", ms_options, problems)
    part_options = {
        k: v for k, v in _parameters("phenoflow.ml.models.part", "make_part").items()
        if k not in ("n_features", "seed")
    }  # fmt: skip
    _check_map(
        section(cfg, "multiscale"), "part_model", "multiscale.part_model", part_options, problems
    )
    options = section(cfg, "integration", "options")
    for method in set(options) & set(_literal("phenoflow.integrate", "METHODS")):
        where = f"integration.options.{method}"
        _check_map(options, method, where, integrate_options(method), problems)
    return problems


def _check_map(
    parent: dict[str, Any],
    name: str,
    where: str,
    allowed: Mapping[str, ast.expr | None],
    problems: list[str],
) -> None:
    """Check the option map ``parent[name]`` (config key ``where``) in place."""
    options = parent.get(name)
    if not isinstance(options, dict):
        return
    for key in sorted(set(options) - set(allowed)):
        problems.append(
            f"unknown config key {where + '.' + key!r}; allowed keys here: {', '.join(allowed)}"
        )
    for key, value in options.items():
        annotation = allowed.get(key)
        if annotation is None or _fits(value, annotation):
            continue
        if isinstance(value, str):  # from the command line: read it as YAML
            parsed = _from_yaml(value)
            if parsed is not None and _fits(parsed, annotation):
                options[key] = parsed
                continue
        problems.append(
            f"config key {where + '.' + key!r}: {value!r} is not of type "
            f"{ast.unparse(annotation)!r}" + (_STRING_HINT if isinstance(value, str) else "")
        )


def _fits(value: Any, annotation: ast.expr) -> bool:
    """Whether a config value has an annotated type; True for types this does not know."""
    if isinstance(annotation, ast.Constant):
        if annotation.value is None:
            return value is None
        if isinstance(annotation.value, str):  # a string annotation
            return _fits(value, ast.parse(annotation.value, mode="eval").body)
        return True
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _fits(value, annotation.left) or _fits(value, annotation.right)
    if isinstance(annotation, ast.Name):
        checks = {
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "bool": lambda v: isinstance(v, bool),
            "str": lambda v: isinstance(v, str),
        }
        return checks.get(annotation.id, lambda v: True)(value)
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name):
        if annotation.value.id in ("tuple", "list", "Sequence"):
            if not isinstance(value, list):
                return False
            inner = annotation.slice
            if isinstance(inner, ast.Tuple):  # tuple[int, ...] or tuple[int, float]
                if len(inner.elts) == 2 and isinstance(inner.elts[1], ast.Constant):
                    inner = inner.elts[0]
                else:
                    return len(value) == len(inner.elts) and all(
                        _fits(v, a) for v, a in zip(value, inner.elts, strict=True)
                    )
            return all(_fits(v, inner) for v in value)
        if annotation.value.id == "Optional":
            return value is None or _fits(value, annotation.slice)
    return True


def section_hash(section: Any) -> str:
    """Short, stable SHA-256 of a JSON-serialisable config section."""
    blob = json.dumps(section, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that rejects duplicate keys (PyYAML keeps the last one silently)."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """One config file as a mapping; ConfigError names the file (and line:column) otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"config file {path} cannot be read: {err}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err)
        context = getattr(err, "context", None)
        extra = f" ({context})" if context else ""
        raise ConfigError(f"{where}: {problem}{extra}") from None
    if data is None:
        raise ConfigError(f"config file {path} is empty (no keys, only comments or blank)")
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must be a mapping of keys at top level, "
            f"not a {type(data).__name__}"
        )
    return data


def check_config_files(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Read every config file; one ConfigError lists the problems of all of them."""
    out, problems = [], []
    for path in paths:
        try:
            out.append(read_config_file(path))
        except ConfigError as err:
            problems.append(str(err))
    if problems:
        raise ConfigError("unreadable config file(s):\n  - " + "\n  - ".join(problems))
    return out


def merge(base: dict[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``new`` into ``base`` as Snakemake merges config files (mappings key by key)."""
    for k, v in new.items():
        if isinstance(v, Mapping) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = v
    return base


DEFAULT_CONFIG = "config/config.yaml"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m phenoflow.config FILE...``: read, merge and validate config files.

    The files are merged over ``config/config.yaml`` (as ``snakemake --configfile FILE...``
    merges them over the Snakefile's ``configfile:``), so an overlay checks on its own.
    """
    given = list(sys.argv[1:] if argv is None else argv)
    paths = [DEFAULT_CONFIG] + [p for p in given if Path(p) != Path(DEFAULT_CONFIG)]
    try:
        cfg: dict[str, Any] = {}
        for data in check_config_files(paths):
            merge(cfg, data)
        validate_config(cfg)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"valid: {' + '.join(map(str, paths))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
