import re
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
        codehash.module_closure("phenoflow.nope")


ROOT = codehash.LIB_ROOT.parents[1]
RULE = re.compile(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", re.S | re.M)


def rules() -> dict[str, str]:
    """Rule name -> its body, from every rules/*.smk."""
    found: dict[str, str] = {}
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        found.update(RULE.findall(smk.read_text()))
    return found


def test_every_rule_hashes_its_own_adapter():
    """A rule's code param is derived from its own adapter script; nothing is listed by hand."""
    scripted = 0
    for name, body in rules().items():
        script = re.search(r'script:\s*\n\s*"\.\./workflow_scripts/(\w+)\.py"', body)
        if script is None:
            assert "code=" not in body, name
            continue
        scripted += 1
        assert script.group(1) == name, f"rule {name} runs {script.group(1)}.py"
        assert f'code=adapter_hash("{name}")' in body, f"rule {name} lacks its derived code hash"
        assert "code_hash(" not in body
    assert scripted == len(list((ROOT / "workflow_scripts").glob("*.py")))


def test_derived_hash_follows_exactly_the_modules_an_adapter_reaches(tmp_path, monkeypatch):
    """Editing any module an adapter reaches changes its hash; editing any other does not."""
    lib = tmp_path / "phenoflow"
    shutil.copytree(codehash.LIB_ROOT, lib, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(codehash, "LIB_ROOT", lib)
    codehash.module_closure.cache_clear()
    try:
        scripts = sorted((ROOT / "workflow_scripts").glob("*.py"))
        closures = {s.stem: set(codehash.script_closure(s)) for s in scripts}
        before = {s.stem: codehash.adapter_code_hash(s) for s in scripts}
        modules = sorted(
            ".".join(("phenoflow", *p.relative_to(lib).with_suffix("").parts)).removesuffix(
                ".__init__"
            )
            for p in lib.rglob("*.py")
        )
        unreached = set(modules) - set().union(*closures.values())
        assert "phenoflow.workflow" in unreached  # imported by the Snakefile only
        for mod in modules:
            path = codehash._module_path(mod)
            assert path is not None
            text = path.read_text()
            path.write_text(text + "\n# an edit\n")
            for s in scripts:
                changed = codehash.adapter_code_hash(s) != before[s.stem]
                assert changed == (mod in closures[s.stem]), (mod, s.stem)
            path.write_text(text)
    finally:
        codehash.module_closure.cache_clear()


def test_closure_sees_function_level_and_submodule_imports():
    mods = codehash.script_closure(ROOT / "workflow_scripts" / "train_tagger.py")
    # the deep models are imported inside build_model only
    assert "phenoflow.ml.models.mixer" in mods
    assert "phenoflow.io.json" in mods
    assert "phenoflow.plotting.tagging" not in mods
