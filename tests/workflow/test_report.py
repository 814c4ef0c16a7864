"""The Snakemake report of the tiny run: every figure the run made is in it, with its caption."""

from __future__ import annotations

import re

import pytest

from tests.workflow.helpers import TEST, smk

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def report_html(tiny):
    # a pure HTML report (not .zip) embeds each result as a data URI, keyed by its path
    smk(tiny, *TEST, "--report", "report.html", cores=1)
    return (tiny / "report.html").read_text(encoding="utf-8")


def test_every_figure_is_in_the_report(tiny, report_html):
    figures = sorted(p.relative_to(tiny).as_posix() for p in tiny.glob("results/**/figures/*.png"))
    assert len(figures) >= 10
    missing = [f for f in figures if f not in report_html]
    assert not missing, f"figures made by the run but absent from the report: {missing}"


def test_figures_are_embedded_with_captions(tiny, report_html):
    n_figures = len(list(tiny.glob("results/**/figures/*.png")))
    assert len(re.findall(r"data:image/png;base64,", report_html)) >= n_figures
    # a caption from rules/report/ rendered into the report
    assert "fine-tuning integrand" in report_html
