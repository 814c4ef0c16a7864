"""The conda environment, pyproject and the pinned constraints agree."""

import re

import yaml

from tests.conftest import ROOT


def _pins():
    pins = {}
    for line in (ROOT / "envs/constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version.split("+")[0]
    return pins


def test_conda_env_matches_constraints():
    env = yaml.safe_load((ROOT / "envs/phenoflow.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pins = _pins()
    for req in pip:
        name, version = req.split("==")
        assert pins[name.lower().replace("_", "-")] == version, req


def test_pythia_pinned():
    assert _pins()["pythia8mc"] == "8.317.2"


def test_every_dependency_is_pinned():
    text = (ROOT / "pyproject.toml").read_text().split("[project]", 1)[1].split("[tool.", 1)[0]
    deps = re.findall(r'"([A-Za-z0-9_.-]+)\s*>=', text)
    pins = _pins()
    for dep in deps:
        assert dep.lower().replace("_", "-") in pins, dep
