"""Bad input stops with a clear message and leaves no output behind."""

from __future__ import annotations

import numpy as np
import pytest
import uproot
import yaml

from phenoflow.io.parquet import read_events
from tests.workflow.helpers import copy_workflow, smk, write_override

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
