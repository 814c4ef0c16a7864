"""The tiny workflow, run locally once per pytest run and shared by the workflow tests."""

from __future__ import annotations

import pytest

from tests.workflow.helpers import TEST, copy_workflow, smk


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """config/test.yaml run locally; tests that change it work on copies."""
    wd = copy_workflow(tmp_path_factory.mktemp("tiny") / "wf")
    smk(wd, *TEST)
    return wd
