"""The typed job specs: built from the config as the workflow builds them, no Snakemake."""

from __future__ import annotations

import dataclasses
import json

import pytest

from phenoflow.analyses.events.spec import GenerateSpec, ImportSpec, ValidateSpec, WriteLHESpec
from phenoflow.analyses.eventvars.spec import EvaluateEventVariableSpec, TrainEventVariableSpec
from phenoflow.analyses.integration.spec import (
    DrellYanCheckSpec,
    LadderSpec,
    PullsSpec,
    StrataSpec,
)
from phenoflow.analyses.jets.spec import ClusterSpec, DatasetSpec, JetsSummarySpec
from phenoflow.analyses.multimodal.spec import (
    EvaluateMultimodalSpec,
    MultimodalDatasetSpec,
    MultimodalSummarySpec,
    TrainMultimodalSpec,
    task_keys,
)
from phenoflow.analyses.multiscale.spec import (
    EvaluateMultiscaleSpec,
    MultiscaleDatasetSpec,
    TrainMultiscaleSpec,
)
from phenoflow.analyses.scan.spec import ScanFunctionSpec, SmoteStudySpec, ZprimeScanSpec
from phenoflow.analyses.tagging.spec import (
    EvaluateTaggersSpec,
    TrainBDTSpec,
    TrainTaggerSpec,
)
from phenoflow.config import section_hash, validate_config
from phenoflow.seeds import derive_seed, job_seed
from phenoflow.spec import Spec, SpecError
from tests.conftest import load_config

CONFIGS = {
    "default": (),
    "test": ("test.yaml",),
    "paper": ("paper.yaml",),
}


@pytest.fixture(params=sorted(CONFIGS), scope="module")
def config(request) -> dict:
    return validate_config(load_config(*CONFIGS[request.param]))


def all_specs(config: dict) -> list[Spec]:
    """One spec per job of every rule family, for every wildcard value the config has."""
    specs: list[Spec] = []
    for p, proc in config["processes"].items():
        shards = range(min(proc["shards"], 3))  # shards differ only in their number
        specs += [GenerateSpec.from_config(config, p, s) for s in shards]
        if "lhe" in proc:
            specs += [WriteLHESpec.from_config(config, p, s) for s in shards]
    for p, src in config["import_root"].items():
        specs += [ImportSpec.from_config(config, p, s) for s in range(len(src["files"]))]
    specs += [ValidateSpec.from_config(config, p) for p in config["run"]["processes"]]
    specs += [ClusterSpec.from_config(config, p, 0) for p in config["jets"]["processes"]]
    specs.append(JetsSummarySpec.from_config(config))
    specs += [DatasetSpec.from_config(config, t) for t in config["datasets"]]
    for t in config["eventvars"]["topologies"]:
        specs += [
            TrainEventVariableSpec.from_config(config, t),
            EvaluateEventVariableSpec.from_config(config, t),
        ]
    task = config["tagging"]["dataset"]
    for key in config["tagging"]["models"]:
        specs += [
            TrainTaggerSpec.from_config(config, task, key, s) for s in config["tagging"]["seeds"]
        ]
    specs += [TrainBDTSpec.from_config(config, task), EvaluateTaggersSpec.from_config(config, task)]
    specs += [
        ScanFunctionSpec.from_config(config, o)
        for o in config["scan"]["objectives"]
        if o != "zprime"
    ]
    specs += [SmoteStudySpec.from_config(config), ZprimeScanSpec.from_config(config)]
    for i in config["integration"]["integrands"]:
        specs += [LadderSpec.from_config(config, i), PullsSpec.from_config(config, i)]
    specs += [StrataSpec.from_config(config), DrellYanCheckSpec.from_config(config)]
    for t in config["multimodal"]["tasks"]:
        specs += [
            MultimodalDatasetSpec.from_config(config, t),
            EvaluateMultimodalSpec.from_config(config, t),
            *(TrainMultimodalSpec.from_config(config, t, k) for k in task_keys(config, t)),
        ]
    specs.append(MultimodalSummarySpec.from_config(config))
    specs += [MultiscaleDatasetSpec.from_config(config), EvaluateMultiscaleSpec.from_config(config)]
    specs += [TrainMultiscaleSpec.from_config(config, k) for k in config["multiscale"]["models"]]
    return specs


def test_every_spec_round_trips_through_params(config):
    specs = all_specs(config)
    assert len({type(s) for s in specs}) >= 17  # ImportSpec only where import_root is set
    for spec in specs:
        params = spec.to_params()
        # params are plain JSON: what Snakemake stores and compares for reruns
        assert json.loads(json.dumps(params)) == params
        back = type(spec).from_params(params)
        assert back == spec
        assert back.config_hash == spec.config_hash


def test_from_params_names_missing_and_unknown_keys(default_config):
    params = StrataSpec.from_config(default_config).to_params()
    with pytest.raises(SpecError, match=r"missing: seed; unknown: sede"):
        StrataSpec.from_params({"n_calls": params["n_calls"], "sede": 1})
    with pytest.raises(SpecError, match="must be a mapping"):
        StrataSpec.from_params([1, 2])


def test_generation_spec_matches_the_shard_it_describes(default_config):
    spec = GenerateSpec.from_config(default_config, "ttbar_had", "2")
    shard = spec.shard_spec()
    assert (shard.process, shard.shard, shard.n_events) == ("ttbar_had", 2, 1500)
    assert shard.base_seed == default_config["seed"]
    assert shard.settings == tuple(default_config["processes"]["ttbar_had"]["settings"])
    # the hash written into every shard's metadata: the generation settings, not the shard
    section = {
        "seed": default_config["seed"],
        "common_settings": default_config["generation"]["common_settings"],
        "chunk_size": default_config["generation"]["chunk_size"],
        "settings": default_config["processes"]["ttbar_had"]["settings"],
        "events_per_shard": 1500,
    }
    assert shard.config_hash == section_hash(section)
    assert GenerateSpec.from_config(default_config, "ttbar_had", 0).config_hash == shard.config_hash


def test_spec_hash_follows_the_settings_it_depends_on(default_config):
    base = GenerateSpec.from_config(default_config, "ttbar_had", 0)
    assert dataclasses.replace(base, events_per_shard=10).config_hash != base.config_hash
    assert dataclasses.replace(base, seed=1).config_hash != base.config_hash
    jets = ClusterSpec.from_config(default_config, "ttbar_had", 0)
    expected = {k: v for k, v in default_config["jets"].items() if k != "processes"}
    assert jets.config_hash == section_hash(expected)
    assert jets.kind == "top"


def test_unknown_wildcards_are_errors_that_name_the_key(default_config):
    with pytest.raises(SpecError, match=r"processes\.nope"):
        GenerateSpec.from_config(default_config, "nope", 0)
    with pytest.raises(SpecError, match=r"datasets\.nope"):
        DatasetSpec.from_config(default_config, "nope")
    with pytest.raises(SpecError, match="unknown tagger 'lstm'"):
        TrainTaggerSpec.from_config(default_config, "top_tagging", "lstm", 0)
    with pytest.raises(SpecError, match=r"integration\.integrands"):
        LadderSpec.from_config(default_config, "nope")
    with pytest.raises(SpecError, match=r"eventvars\.topologies"):
        TrainEventVariableSpec.from_config(default_config, "nope")


def test_import_spec_reads_its_file_and_hashes_its_section(default_config):
    cfg = dict(default_config)
    src = {"files": ["a.root", "b.root"], "particles": {"px": "px"}, "sigma_pb": 2.0}
    cfg["import_root"] = {"ext": src}
    spec = ImportSpec.from_config(cfg, "ext", 1)
    assert spec.file == "b.root"
    assert spec.tree == "events"
    assert spec.mapping == {"particles": {"px": "px"}}
    assert spec.config_hash == section_hash(src)
    meta = spec.metadata()
    assert (meta["source"], meta["sigma_pb"], meta["config_hash"]) == (
        "b.root",
        2.0,
        section_hash(src),
    )
    with pytest.raises(SpecError, match=r"import_root.ext.files.*shard 2"):
        ImportSpec.from_config(cfg, "ext", 2)


def test_job_seeds_are_stable_and_distinct(default_config):
    seed = default_config["seed"]
    assert job_seed(default_config, "scan", "cosine_3d") == derive_seed(
        seed, "scan", "cosine_3d", modulus=2**31 - 1
    )
    spec = ScanFunctionSpec.from_config(default_config, "cosine_3d")
    assert spec.seed == job_seed(default_config, "scan", "cosine_3d")
    pulls = PullsSpec.from_config(default_config, "drell_yan")
    assert len(set(pulls.seeds)) == default_config["integration"]["pulls"]["n_seeds"]
    seeds = [
        s.seed
        for s in all_specs(default_config)
        if isinstance(s, ScanFunctionSpec | LadderSpec | StrataSpec)
    ]
    assert len(set(seeds)) == len(seeds)
    # the Drell-Yan check shares the seed of the Drell-Yan ladder (same labels; kept so that
    # published numbers do not move)
    assert DrellYanCheckSpec.from_config(default_config).seed == job_seed(
        default_config, "integration", "drell_yan"
    )
    assert all(0 < s < 2**31 for s in seeds)
    other = {**default_config, "seed": seed + 1}
    assert StrataSpec.from_config(other).seed != StrataSpec.from_config(default_config).seed


def test_settings_are_the_config_sections(default_config):
    assert (
        DrellYanCheckSpec.from_config(default_config).settings()
        == (default_config["integration"]["drell_yan"])
    )
    assert ZprimeScanSpec.from_config(default_config).settings() == default_config["scan"]["zprime"]
    assert SmoteStudySpec.from_config(default_config).to_params() == default_config["scan"]["smote"]


def test_tagging_specs(default_config):
    spec = TrainTaggerSpec.from_config(default_config, "top_tagging", "mixer_hdbscan", "0")
    assert spec.model_options == default_config["tagging"]["mixer"]
    assert spec.train_config().seed == 0
    ev = EvaluateTaggersSpec.from_config(default_config, "top_tagging")
    files = ev.model_files("results/tagging/top_tagging")
    assert files[0] == f"results/tagging/top_tagging/models/{ev.models[0]}_seed0.pt"
    assert len(files) == len(ev.models) * len(ev.seeds)
    assert TrainBDTSpec.from_config(default_config, "top_tagging").seed == job_seed(
        default_config, "tagging", "top_tagging", "bdt"
    )
