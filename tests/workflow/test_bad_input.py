"""Bad input stops with a clear message and leaves no output behind."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import uproot
import yaml

from phenoflow.io.parquet import read_events
from tests.workflow.helpers import TEST, copy_workflow, env, smk, write_override

pytestmark = pytest.mark.workflow

# stages these tests do not look at, switched off so that no toy scan or integration runs
ONLY_EVENTS = {
    "eventvars": {"topologies": []},
    "scan": {"objectives": [], "smote": {"seeds": []}},
    "integration": {"integrands": []},
}


@pytest.fixture
def wd(tmp_path):
    return copy_workflow(tmp_path / "wf")


def _fails(wd, *args):
    proc = smk(wd, *args, check=False)
    assert proc.returncode != 0
    return proc.stdout + proc.stderr


def test_unknown_process(wd):
    extra = write_override(wd, "bad.yaml", {"run": {"processes": ["ttbar_had", "wprime_ll"]}})
    out = _fails(wd, "--configfile", extra, "-n")
    assert "unknown process 'wprime_ll'" in out
    assert "run.processes[1]" in out
    assert not (wd / "results").exists()


def test_unknown_key(wd):
    extra = write_override(wd, "bad.yaml", {"generation": {"chunk_sise": 10}})
    out = _fails(wd, "--configfile", extra)
    assert "unknown config key 'generation.chunk_sise'" in out
    assert not (wd / "results").exists()


def test_missing_key(wd):
    cfg = yaml.safe_load((wd / "config/config.yaml").read_text())
    del cfg["seed"]
    (wd / "config/config.yaml").write_text(yaml.safe_dump(cfg))
    out = _fails(wd, "--configfile", "config/test.yaml")
    assert "missing config key seed" in out
    assert not (wd / "results").exists()


def test_invalid_pythia_setting(wd):
    extra = write_override(
        wd,
        "bad.yaml",
        {
            "run": {"processes": ["zmumu_ee"]},
            **ONLY_EVENTS,
            "processes": {
                "zmumu_ee": {
                    "settings": [
                        "Beams:idA = 11",
                        "Beams:idB = -11",
                        "WeakSingleBoson:ffbar2gmZ = on",
                        "23:onMode = of",
                        "Foo:bar = 3",
                    ]
                }
            },
        },
    )
    out = _fails(wd, "--configfile", "config/test.yaml", extra)
    assert "Pythia rejected the setting 'Foo:bar = 3'" in out
    assert "processes.zmumu_ee.settings[4]" in out
    assert not (wd / "results/events/zmumu_ee/shard0.parquet").exists()
    assert not list((wd / "results/events/zmumu_ee").glob("*.tmp"))


def _delphes_file(path, n=30):
    rng = np.random.default_rng(3)
    counts = rng.integers(1, 8, n)
    total = int(counts.sum())
    import awkward as ak

    part = ak.unflatten(
        ak.zip(
            {
                "PT": rng.uniform(1, 50, total),
                "Eta": rng.uniform(-2, 2, total),
                "Phi": rng.uniform(-3, 3, total),
                "E": rng.uniform(60, 100, total),
                "PID": np.full(total, 211, dtype=np.int32),
                "Charge": np.ones(total, dtype=np.int32),
            }
        ),
        counts,
    )
    with uproot.recreate(path) as f:
        # Delphes names: a `Particle_size` counter and `Particle.PT`-style branches
        f.mktree(
            "Delphes",
            {"Particle": part.type.content},
            counter_name=lambda c: f"{c}_size",
            field_name=lambda outer, inner: f"{outer}.{inner}",
        )
        f["Delphes"].extend({"Particle": part})


IMPORT = {
    "tree": "Delphes",
    "particles": {
        "pt": "Particle.PT",
        "eta": "Particle.Eta",
        "phi": "Particle.Phi",
        "E": "Particle.E",
        "pid": "Particle.PID",
        "charge": "Particle.Charge",
    },
    "sigma_pb": 12.5,
}


def test_import_root_workflow(wd):
    (wd / "data").mkdir()
    _delphes_file(wd / "data/ext0.root")
    _delphes_file(wd / "data/ext1.root", n=11)
    extra = write_override(
        wd,
        "import.yaml",
        {
            "run": {"processes": ["ext"]},
            **ONLY_EVENTS,
            "import_root": {"ext": {"files": ["data/ext0.root", "data/ext1.root"], **IMPORT}},
        },
    )
    smk(wd, "--configfile", "config/test.yaml", extra)
    assert len(read_events(wd / "results/events/ext/shard0.parquet")) == 30
    assert len(read_events(wd / "results/events/ext/shard1.parquet")) == 11
    assert (wd / "results/events/ext/shard1.root").is_file()
    assert "sigma_ext | 12.5" in (wd / "results/summary.md").read_text()


def test_corrupt_root_import(wd):
    (wd / "data").mkdir()
    _delphes_file(wd / "data/good.root")
    data = (wd / "data/good.root").read_bytes()
    (wd / "data/ext0.root").write_bytes(data[: len(data) // 2])
    extra = write_override(
        wd,
        "import.yaml",
        {
            "run": {"processes": ["ext"]},
            **ONLY_EVENTS,
            "import_root": {"ext": {"files": ["data/ext0.root"], **IMPORT}},
        },
    )
    out = _fails(wd, "--configfile", "config/test.yaml", extra)
    assert "RootFileError" in out
    assert "data/ext0.root" in out
    assert not (wd / "results/events/ext/shard0.parquet").exists()
    assert not list((wd / "results/events/ext").glob("*"))


def test_option_names_and_ranges_stop_the_dag(wd):
    extra = write_override(
        wd,
        "bad.yaml",
        {
            "integration": {"options": {"vegas": {"nitn_adap": 3}}, "drell_yan": {"m_min": 4000.0}},
            "tagging": {"mixer": {"bogus_kwarg": 1}},
            "scan": {"options": {"bogus": 1}, "zprime": {"bounds": {"g_quark": [0.3, 0.0]}}},
        },
    )
    out = _fails(wd, "--configfile", "config/test.yaml", extra, "-n")
    for key in (
        "integration.options.vegas.nitn_adap",
        "tagging.mixer.bogus_kwarg",
        "scan.options.bogus",
    ):
        assert f"unknown config key {key!r}; allowed keys here: " in out
    assert "config key 'integration.drell_yan.m_min'" in out
    assert "config key 'scan.zprime.bounds.g_quark'" in out
    assert not (wd / "results").exists()


def test_nested_values_on_the_command_line(wd):
    # Snakemake passes nested --config values as strings: they are read as YAML
    nested = ("--config", "validation={bins: 30}", "jets={image: {rotate: false}}")
    proc = smk(wd, *TEST, "-n", *nested)
    assert "This was a dry-run" in proc.stdout + proc.stderr
    out = _fails(wd, *TEST, "-n", "--config", "validation={bins: 3O}", "seed=1.0")
    assert "config key 'validation.bins': '3O'" in out
    assert "config key 'seed': 1.0 is not of type 'integer'" in out
    assert "--configfile" in out  # says how to give a typed value


def test_config_file_errors_name_file_and_line(wd):
    (wd / "config/dup.yaml").write_text("seed: 1\nvalidation: {bins: 30}\nseed: 2\n")
    out = _fails(wd, *TEST, "--configfile", "config/dup.yaml", "-n")
    assert "config/dup.yaml:3:1: duplicate key 'seed'" in out
    # an empty or unparsable file stops Snakemake before the workflow runs, with a
    # message naming no file; the checker the message in docs/troubleshooting.md points to
    (wd / "config/empty.yaml").write_text("# nothing here yet\n")
    (wd / "config/broken.yaml").write_text("seed: 1\nrun:\n  processes: [a, b\n")
    out = _fails(wd, *TEST, "--configfile", "config/empty.yaml", "-n")
    assert "Config file must be given as JSON or YAML" in out
    proc = subprocess.run(
        [sys.executable, "-m", "phenoflow.config", "config/config.yaml", "config/empty.yaml",
         "config/broken.yaml"],
        cwd=wd, env={**env(), "PYTHONPATH": str(wd / "lib")}, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "config file config/empty.yaml is empty" in proc.stderr
    assert "config/broken.yaml:4:1: " in proc.stderr
