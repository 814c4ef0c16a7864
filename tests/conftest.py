"""Shared fixtures: the repository root and small generated samples."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

from phenoflow.analyses.events.spec import GenerateSpec
from phenoflow.config import merge
from phenoflow.generation.pythia import ShardSpec, generate_shard

ROOT = Path(__file__).resolve().parents[1]

# Property-based tests stay fast and reproducible: few examples, no per-example deadline
# (integrators have a warm-up), a fixed seed and no example database.  Select another
# profile with HYPOTHESIS_PROFILE (e.g. "thorough" for a longer local search).
settings.register_profile(
    "phenoflow", max_examples=20, deadline=None, derandomize=True, database=None
)
settings.register_profile(
    "thorough", max_examples=500, deadline=None, derandomize=False, database=None
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "phenoflow"))


def load_config(*overrides: str) -> dict:
    """config/config.yaml merged with override files (as Snakemake merges them)."""
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for name in overrides:
        merge(cfg, yaml.safe_load((ROOT / "config" / name).read_text()))
    return cfg


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def default_config() -> dict:
    return load_config()


def small_spec(process: str, n_events: int, chunk_size: int = 7, shard: int = 0) -> ShardSpec:
    spec = GenerateSpec.from_config(load_config(), process, shard).shard_spec()
    return dataclasses.replace(spec, n_events=n_events, chunk_size=chunk_size)


@pytest.fixture(scope="session")
def ttbar_shard(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """30 hadronic tt events in row groups of 7 (the last one short)."""
    path = tmp_path_factory.mktemp("ttbar") / "shard0.parquet"
    meta = generate_shard(small_spec("ttbar_had", 30), path)
    return path, meta


@pytest.fixture(scope="session")
def zmumu_shard(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("zmumu") / "shard0.parquet"
    meta = generate_shard(small_spec("zmumu_ee", 200, chunk_size=64), path)
    return path, meta
