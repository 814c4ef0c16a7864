"""The Slurm profile adds only cluster settings; memory and runtime live in the rules."""

from __future__ import annotations

import re

import yaml

from tests.conftest import ROOT


def test_slurm_profile_does_not_repeat_rule_resources():
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    rules = "".join(p.read_text() for p in (ROOT / "rules").glob("*.smk"))
    for rule, res in profile["set-resources"].items():
        assert re.search(rf"^rule {rule}:", rules, re.M), f"no rule {rule}"
        assert not {"mem_mb", "runtime"} & set(res), f"{rule}: sized in its rule file"


def test_every_cluster_job_declares_memory_and_runtime():
    local = {"all", "make_summary"} | set(
        re.findall(r"^    (\w+),$", (ROOT / "Snakefile").read_text(), re.M)
    )
    for smk in (ROOT / "rules").glob("*.smk"):
        for name, body in re.findall(
            r"^rule (\w+):\n(.*?)(?=^rule |\Z)", smk.read_text(), re.S | re.M
        ):
            if name in local:
                continue
            assert "mem_mb=" in body, f"rule {name} in {smk.name}"
            assert "runtime=" in body, f"rule {name} in {smk.name}"
