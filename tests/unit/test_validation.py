import json
import math

import pytest

from phenoflow.analyses.events.validate import events_metrics, sample_stats
from phenoflow.physics.cross_sections import combine_cross_sections
from phenoflow.summary import render_summary


def test_combine_cross_sections_known_values():
    mean, err = combine_cross_sections([1.0, 3.0], [0.3, 0.4], [100, 100])
    assert mean == pytest.approx(2.0)
    assert err == pytest.approx(0.25)  # sqrt(0.09 + 0.16) / 2
    mean, err = combine_cross_sections([2.0, 5.0], [0.1, 0.1], [300, 100])
    assert mean == pytest.approx(2.75)
    assert math.isnan(combine_cross_sections([], [], [])[0])


def test_sample_stats(zmumu_shard):
    stats = sample_stats([zmumu_shard[0]], bins=10)
    assert stats["process"] == "zmumu_ee"
    assert stats["n_events"] == 200
    assert sum(stats["multiplicity"]["counts"]) == 200
    assert sum(stats["leading_pt"]["counts"]) == 200
    # muons of mZ/2 with dsigma/dcos(theta) ~ 1 + cos^2(theta) (the A_FB term is odd):
    # <pT> = mZ/2 * <sin theta> = mZ/2 * 15 pi / 64 = 33.57 GeV; stat. error ~0.8 GeV
    expected = 91.1876 / 2 * 15 * math.pi / 64
    assert stats["leading_pt"]["mean"] == pytest.approx(expected, abs=2.5)
    assert stats["sigma_pb"] == pytest.approx(zmumu_shard[1]["sigma_pb"])
    assert stats["multiplicity"]["mean"] >= 2


def test_metrics_and_summary(zmumu_shard, tmp_path):
    metrics = events_metrics([sample_stats([zmumu_shard[0]], bins=5)])
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(metrics))
    text = render_summary([path])
    assert "## Event generation" in text
    assert "| sigma_zmumu_ee |" in text
    assert "| pb |" in text


def test_sample_card_adds_cut_flows_and_gives_the_fiducial_cross_section():
    from phenoflow.physics.cross_sections import sample_card

    flows = [
        {"events": 100, "two_jets": 40, "window": 10},
        {"events": 300, "two_jets": 90, "window": 30},
    ]
    card = sample_card(2, 1, flows, [(1.0, 0.1, 100), (3.0, 0.2, 300)])
    assert card["cut_flow"] == {"events": 400, "two_jets": 130, "window": 40}
    assert card["efficiency"] == 0.1  # the last cut: 40 of 400
    assert card["sigma_pb"] == 2.5  # event-weighted mean
    assert card["fiducial_sigma_pb"] == 0.25
    assert (card["index"], card["label"]) == (2, 1)
    assert sample_card(0, 0, flows, [(None, 0.0, 100), (None, 0.0, 300)])["sigma_pb"] is None
