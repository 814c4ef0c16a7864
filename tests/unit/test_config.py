import copy
import dataclasses
import functools
import json
import re
from pathlib import Path

import pytest

from phenoflow.config import ConfigError, section_hash, validate_config
from tests.conftest import load_config


@pytest.mark.parametrize(
    "overrides",
    [(), ("test.yaml",), ("paper.yaml",), ("seeds3.yaml",), ("multimodal_stats4.yaml",)],
)
def test_shipped_configs_validate(overrides):
    validate_config(load_config(*overrides))


def _error(cfg):
    with pytest.raises(ConfigError) as info:
        validate_config(cfg)
    return str(info.value)


def test_unknown_key(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["generation"]["chunksize"] = 10
    msg = _error(cfg)
    assert "unknown config key 'generation.chunksize'" in msg
    assert "chunk_size" in msg  # tells what is allowed


def test_missing_key(default_config):
    cfg = copy.deepcopy(default_config)
    del cfg["processes"]["ttbar_had"]["events_per_shard"]
    assert "missing config key processes.ttbar_had.events_per_shard" in _error(cfg)


def test_bad_value(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["processes"]["qcd_dijet"]["shards"] = 0
    msg = _error(cfg)
    assert "'processes.qcd_dijet.shards'" in msg
    assert "positive number of shards" in msg


def test_wrong_type(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["seed"] = "abc"
    assert "config key 'seed'" in _error(cfg)


def test_unknown_process(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["run"]["processes"] = ["ttbar_had", "wprime"]
    msg = _error(cfg)
    assert "'run.processes[1]': unknown process 'wprime'" in msg
    assert "ttbar_had" in msg


def test_seed_setting_rejected(default_config):
    cfg = copy.deepcopy(default_config)
    cfg["processes"]["zmumu_ee"]["settings"].append("Random:seed = 5")
    msg = _error(cfg)
    assert "processes.zmumu_ee.settings[7]" in msg
    assert "not allowed" in msg


def test_section_hash_stable():
    assert section_hash({"a": 1, "b": [1, 2]}) == section_hash({"b": [1, 2], "a": 1})
    assert section_hash({"a": 1}) != section_hash({"a": 2})


def test_tagger_names_come_from_the_registry():
    import subprocess
    import sys

    from phenoflow.config import SCHEMA_PATH
    from phenoflow.ml.models import TAGGER_NAMES

    text = SCHEMA_PATH.read_text()
    assert not any(f"make_{name}" in text or f"{name}:" in text for name in TAGGER_NAMES)
    cfg = load_config()
    cfg["tagging"]["models"].append("nosuchnet")
    with pytest.raises(ConfigError, match=r"tagging\.models.*nosuchnet.*mixer\|part\|deepsets"):
        validate_config(cfg)
    cfg = load_config()
    del cfg["tagging"][TAGGER_NAMES[0]]
    with pytest.raises(ConfigError, match=f"tagging.{TAGGER_NAMES[0]}"):
        validate_config(cfg)
    # validation reads the names without importing torch
    code = (
        "import sys; from phenoflow.config import validate_config; "
        "from tests.conftest import load_config; validate_config(load_config()); "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- integer-valued floats: JSON Schema calls 1.0 an integer, Python code does not ---


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("seed",), 1.0),
        (("processes", "ttbar_had", "shards"), 1.0),
        (("generation", "chunk_size"), 10.0),
        (("scan", "n_calls"), 1500.0),
        (("validation", "bins"), True),
    ],
)
def test_integer_keys_want_python_ints(default_config, path, value):
    cfg = copy.deepcopy(default_config)
    _set(cfg, path, value)
    msg = _error(cfg)
    assert f"config key {'.'.join(path)!r}" in msg
    assert "integer" in msg


def _set(cfg, path, value):
    for p in path[:-1]:
        cfg = cfg[p]
    cfg[path[-1]] = value


# --- the free-form option maps: names and values checked by the library's own checks ---


@pytest.mark.parametrize(
    ("path", "value", "named", "allowed"),
    [
        (("integration", "options", "vegs"), {}, "integration.options.vegs", "vegas"),
        (
            ("integration", "options", "vegas"),
            {"nitn_adap": 3},
            "integration.options.vegas.nitn_adap",
            "nitn_adapt",
        ),
        (
            ("integration", "options", "lestrat"),
            {"pilot_fraction": 0.1},
            "integration.options.lestrat.pilot_fraction",
            "pilot_frac",
        ),
        (
            ("integration", "ladder", "drell_yann"),
            [100000],
            "integration.ladder.drell_yann",
            "drell_yan",
        ),
        (
            ("integration", "pulls", "n_calls", "fine_tuning"),
            100000,
            "integration.pulls.n_calls.fine_tuning",
            "fine_tuning_2d",
        ),
        (("scan", "options", "bogus"), 3, "scan.options.bogus", "n_initial"),
        (("scan", "zprime", "options", "n_inital"), 3, "scan.zprime.options.n_inital", "n_initial"),
        (("scan", "options", "threshold"), 0.5, "scan.options.threshold", "n_initial"),
        (("tagging", "mixer", "bogus_kwarg"), 3, "tagging.mixer.bogus_kwarg", "n_blocks"),
        (("tagging", "part", "n_head"), 3, "tagging.part.n_head", "n_heads"),
        (
            ("tagging", "speed_reference", "part_published", "options", "n_head"),
            3,
            "tagging.speed_reference.part_published.options.n_head",
            "n_heads",
        ),
    ],
)
def test_option_map_typos_are_errors(default_config, path, value, named, allowed):
    cfg = copy.deepcopy(default_config)
    _set(cfg, path, value)
    msg = _error(cfg)
    assert repr(named) in msg
    assert allowed in msg  # the allowed names are listed


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("scan", "options", "n_initial"), 1000.0, "scan.options.n_initial"),
        (("scan", "options", "random_fraction"), "a lot", "scan.options.random_fraction"),
        (("tagging", "mixer", "n_blocks"), 2.5, "tagging.mixer.n_blocks"),
        (("tagging", "part", "embed_dims"), 64, "tagging.part.embed_dims"),
        (("integration", "options", "vegas"), {"nitn": 2.0}, "integration.options.vegas.nitn"),
    ],
)
def test_option_values_of_the_wrong_type(default_config, path, value, named):
    cfg = copy.deepcopy(default_config)
    _set(cfg, path, value)
    assert repr(named) in _error(cfg)


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("scan", "zprime", "bounds", "g_quark"), [0.3, 0.0], "scan.zprime.bounds.g_quark"),
        (("scan", "zprime", "bounds", "mass"), [2900.0, 500.0], "scan.zprime.bounds.mass"),
        (("scan", "zprime", "m_edges", "max"), 100.0, "scan.zprime.m_edges"),
        (("integration", "drell_yan", "m_min"), 4000.0, "integration.drell_yan.m_min"),
        (
            ("integration", "drell_yan", "pythia_windows"),
            [[120.0, 60.0]],
            "integration.drell_yan.pythia_windows[0]",
        ),
        (
            ("integration", "drell_yan", "cos_windows"),
            [[100.0, 80.0]],
            "integration.drell_yan.cos_windows[0]",
        ),
        (
            ("integration", "drell_yan", "afb_edges"),
            [60.0, 50.0],
            "integration.drell_yan.afb_edges",
        ),
    ],
)
def test_reversed_ranges_are_errors(default_config, path, value, named):
    cfg = copy.deepcopy(default_config)
    _set(cfg, path, value)
    assert repr(named) in _error(cfg)


def test_every_active_integrand_has_a_ladder_and_pulls_budget(default_config):
    cfg = copy.deepcopy(default_config)
    del cfg["integration"]["ladder"]["drell_yan"]
    del cfg["integration"]["pulls"]["n_calls"]["cancellation_7d"]
    msg = _error(cfg)
    assert "integration.ladder.drell_yan" in msg
    assert "integration.pulls.n_calls.cancellation_7d" in msg


# --- values given on the command line: --config 'validation={bins: 30}' passes strings ---


def test_command_line_strings_are_read_as_yaml(default_config):
    cfg = copy.deepcopy(default_config)
    # what `--config 'validation={bins: 30}' 'jets={image: {rotate: false}}'` gives
    cfg["validation"] = {"bins": "30"}
    cfg["jets"]["image"]["rotate"] = "false"
    cfg["scan"]["zprime"]["bounds"]["mass"] = ["600", "2000.0"]
    out = validate_config(cfg)
    assert out["validation"]["bins"] == 30
    assert out["jets"]["image"]["rotate"] is False
    assert out["scan"]["zprime"]["bounds"]["mass"] == [600, 2000.0]
    cfg["validation"] = {"bins": "3O"}
    msg = _error(cfg)
    assert "config key 'validation.bins'" in msg
    assert "--configfile" in msg  # says how to pass a typed value


def test_non_json_values_name_the_key(default_config):
    import datetime

    cfg = copy.deepcopy(default_config)
    cfg["jets"]["r"] = float("nan")
    cfg["seed"] = datetime.date(2024, 1, 1)  # YAML reads `seed: 2024-01-01` as a date
    msg = _error(cfg)
    assert "config key 'jets.r'" in msg
    assert "config key 'seed'" in msg


# --- config files that Snakemake cannot read ---


def test_config_file_errors_name_the_file_and_line(tmp_path):
    from phenoflow.config import check_config_files

    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing but a comment\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: 1\nrun:\n  processes: [a, b\nvalidation: {bins: 3}\n")
    dup = tmp_path / "dup.yaml"
    dup.write_text("seed: 1\nvalidation: {bins: 3}\nseed: 2\n")
    listed = tmp_path / "list.yaml"
    listed.write_text("- seed\n")
    good = tmp_path / "good.yaml"
    good.write_text("seed: 1\n")
    check_config_files([good])
    with pytest.raises(ConfigError) as info:
        check_config_files([good, empty, bad, dup, listed, tmp_path / "missing.yaml"])
    msg = str(info.value)
    assert f"config file {empty} is empty" in msg
    assert f"{bad}:4:" in msg  # file:line:column of the YAML error
    assert f"{dup}:3:1: duplicate key 'seed'" in msg
    assert f"config file {listed}" in msg
    assert "mapping" in msg
    assert f"config file {tmp_path / 'missing.yaml'} not found" in msg


def test_config_cli_merges_over_the_default_and_names_each_problem_once(
    tmp_path, monkeypatch, capsys
):
    """``python -m phenoflow.config overlay.yaml`` checks what ``--configfile`` would run."""
    from phenoflow.config import main

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    assert main(["config/test.yaml"]) == 0
    assert "config/config.yaml + config/test.yaml" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: 1\nrun: [a,\n")
    assert main([str(bad)]) == 1
    assert f"{bad}:3:" in capsys.readouterr().err
    drop = tmp_path / "drop.yaml"  # tagging.train empty: a group of keys missing
    drop.write_text("seed: 1\n")
    monkeypatch.setattr("phenoflow.config.DEFAULT_CONFIG", str(drop))
    assert main(["config/test.yaml"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(set(lines)), "a problem was listed twice"
    assert any("tagging.train.learning_rate" in line for line in lines)


# --- property tests: configs near the shipped ones, drawn from the schema or mangled ---

from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 10**6)
    | st.floats(-1e6, 1e6, allow_nan=False)
    | st.text("abc_1.", max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("ab", max_size=2), inner),
    max_leaves=4,
)


def _paths(value, path=()):
    """Every path into ``value`` (mappings and lists), the root excluded."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for k, v in items:
        yield (*path, k)
        if isinstance(v, dict | list):
            yield from _paths(v, (*path, k))


def _subschema(schema, path):
    """The schema of the value at ``path`` (with the $defs it refers to), or None."""
    node = schema
    for p in path:
        while "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
        if isinstance(p, int):
            node = node.get("items")
        elif p in node.get("properties", {}):
            node = node["properties"][p]
        else:
            node = node.get("additionalProperties")
        if not isinstance(node, dict):
            return None
    return {**node, "$defs": schema["$defs"]}


def _get(cfg, path):
    for p in path:
        cfg = cfg[p]
    return cfg


@functools.cache
def _schema():
    from phenoflow.config import _add_taggers, load_schema

    return _add_taggers(load_schema())


@functools.cache
def _from_schema(path):
    from hypothesis_jsonschema import from_schema

    sub = _subschema(_schema(), path)
    # hypothesis-jsonschema 0.23's object strategy uses a Hypothesis internal that 6.1xx
    # no longer has: mappings get junk (and their leaves schema values) instead
    if sub is None or '"object"' in json.dumps({**sub, "$defs": {}}):
        return _JUNK
    return from_schema(sub)


@st.composite
def _mutated_configs(draw):
    cfg = load_config(*draw(st.sampled_from([(), ("test.yaml",)])))
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["float", "schema", "junk", "drop", "typo", "float"]))
        paths = list(_paths(cfg))
        if kind == "float":  # an integer written as 1.0
            paths = [p for p in paths if type(_get(cfg, p)) is int] or paths
        path = draw(st.sampled_from(paths))
        parent = _get(cfg, path[:-1])
        if kind == "float" and type(parent[path[-1]]) is int:
            parent[path[-1]] = float(parent[path[-1]])
        elif kind == "schema":
            parent[path[-1]] = draw(_from_schema(tuple(str(p) for p in path)))
        elif kind == "junk":
            parent[path[-1]] = draw(_JUNK)
        elif kind == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif kind == "typo" and isinstance(parent, dict):
            parent[f"{path[-1]}x"] = parent[path[-1]]
    return cfg


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(_mutated_configs())
def test_accepted_configs_build_every_spec_and_rejections_name_a_key(cfg):
    from tests.unit.analyses.test_specs import all_specs

    try:
        valid = validate_config(cfg)
    except ConfigError as err:
        event("rejected")
        lines = str(err).splitlines()[1:]
        assert lines
        for line in lines:
            assert re.search(r"config (key|file) \S", line), line
        return
    event("accepted")
    for spec in all_specs(valid):
        params = spec.to_params()
        assert type(spec).from_params(json.loads(json.dumps(params))) == spec
        for f in dataclasses.fields(spec):  # typed fields hold their type (no 1.0 for 1)
            value = getattr(spec, f.name)
            if f.type == "int":
                assert type(value) is int, (type(spec).__name__, f.name, value)
            elif f.type == "tuple[int, ...]":
                assert all(type(v) is int for v in value), (type(spec).__name__, f.name, value)
