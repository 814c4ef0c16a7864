import shutil

import pytest

from phenoflow import codehash


def test_closure_follows_imports():
    mods = codehash.module_closure("phenoflow.generation.pythia")
    for m in ("phenoflow", "phenoflow.io.parquet", "phenoflow.io.schema", "phenoflow.seeds"):
        assert m in mods
    assert "phenoflow.plotting.events" not in mods


def test_unknown_module():
    with pytest.raises(ValueError, match="unknown phenoflow module"):
        codehash.code_hash("phenoflow.nope")


def test_hash_changes_with_imported_module(tmp_path, monkeypatch):
    lib = tmp_path / "phenoflow"
    shutil.copytree(codehash.LIB_ROOT, lib, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(codehash, "LIB_ROOT", lib)
    codehash.module_closure.cache_clear()
    try:
        gen = codehash.code_hash("phenoflow.generation.pythia")
        plot = codehash.code_hash("phenoflow.plotting.events")
        # an edit in a module that generation imports changes its hash only
        (lib / "io" / "schema.py").write_text((lib / "io" / "schema.py").read_text() + "\n# edit\n")
        assert codehash.code_hash("phenoflow.generation.pythia") != gen
        assert codehash.code_hash("phenoflow.plotting.events") == plot
    finally:
        codehash.module_closure.cache_clear()
