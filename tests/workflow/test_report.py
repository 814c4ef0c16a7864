"""The Snakemake report of the tiny run: every figure the run made is in it, with its caption."""

from __future__ import annotations

import base64
import json

import pytest

from tests.workflow.helpers import TEST, smk

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def report_html(tiny):
    smk(tiny, *TEST, "--report", "report.html", cores=1)
    return (tiny / "report.html").read_text(encoding="utf-8")


def _entry(html: str, path: str) -> dict:
    """The report's record of one result file.

    A pure HTML report (not ``.zip``) holds a JSON object per result, keyed by its
    path, with the rendered caption and the file itself as a base64 data URI.
    """
    key = json.dumps(path) + ": "
    at = html.find(key)
    assert at >= 0, f"{path} is not in the report"
    entry, _ = json.JSONDecoder().raw_decode(html, at + len(key))
    return entry


def test_every_figure_is_in_the_report(tiny, report_html):
    figures = sorted(tiny.glob("results/**/figures/*.png"))
    assert len(figures) >= 10
    for fig in figures:
        entry = _entry(report_html, fig.relative_to(tiny).as_posix())
        head, _, data = entry["data_uri"].partition(";base64,")
        assert head.startswith("data:image/png;"), head
        assert base64.b64decode(data) == fig.read_bytes(), f"{fig.name}: embedded image differs"
        assert entry["caption"].strip(), f"{fig.name}: no caption"


def test_integration_captions_are_rendered(report_html):
    entry = _entry(report_html, "results/integration/figures/strata_fine_tuning_2d.png")
    assert "fine-tuning integrand" in entry["caption"]
    assert entry["caption"].startswith("<p>")  # reStructuredText rendered to HTML
