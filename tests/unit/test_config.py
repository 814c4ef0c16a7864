import copy

import pytest

from phenoflow.config import ConfigError, section_hash, validate_config
from tests.conftest import load_config


@pytest.mark.parametrize("overrides", [(), ("test.yaml",), ("paper.yaml",), ("seeds3.yaml",)])
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
