"""Classifier metrics: ROC, AUC (Mann–Whitney with ties), rejection, accuracy, seed summaries."""

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from phenoflow.ml.metrics import accuracy, auc, rejection_at, roc_curve, summarize_seeds


@pytest.mark.parametrize(
    ("labels", "scores", "expected"),
    [
        ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 1.0),  # perfect separation
        ([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9], 0.0),  # reversed
        ([0, 1, 0, 1, 1], [0.5] * 5, 0.5),  # all tied
        # (signal, background) pairs: 0.8 beats 0.1 and 0.5, loses to 0.9; 0.5 beats 0.1,
        # ties 0.5, loses to 0.9 -> (3 + 1/2) / 6
        ([1, 1, 0, 0, 0], [0.8, 0.5, 0.1, 0.5, 0.9], 3.5 / 6),
        ([1, 0, 0, 0], [0.3, 0.1, 0.2, 0.4], 2 / 3),  # signal beats two of three
    ],
)
def test_auc_hand_computed(labels, scores, expected):
    assert auc(labels, scores) == pytest.approx(expected, abs=1e-12)


def test_auc_matches_sklearn_and_trapezoid_of_roc():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    s = np.round(rng.normal(y * 0.7, 1.0), 1)  # rounding makes plenty of ties
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    es, eb = roc_curve(y, s)
    assert np.trapezoid(es, eb) == pytest.approx(auc(y, s), abs=1e-12)


def test_roc_curve_endpoints_and_ties():
    es, eb = roc_curve([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1])
    # thresholds 0.9, 0.5 (one signal and one background tied), 0.1
    np.testing.assert_allclose(es, [0, 0.5, 1, 1])
    np.testing.assert_allclose(eb, [0, 0, 0.5, 1])


def test_rejection_at_half_signal_efficiency():
    labels = [1, 1, 1, 1, 0, 0, 0, 0]
    scores = [0.9, 0.8, 0.7, 0.6, 0.85, 0.5, 0.4, 0.3]
    # eps_S = 0.5 at threshold 0.8 keeps one background jet (0.85) of four: eps_B = 1/4
    assert rejection_at(labels, scores, 0.5) == pytest.approx(4.0)
    # between ROC points (0.5, 0.25) and (0.75, 0.25) and then (1, 0.25): still 1/4
    assert rejection_at(labels, scores, 0.6) == pytest.approx(4.0)
    # eps_S = 0.25 is reached before the background jet at 0.85: nothing survives
    assert rejection_at(labels, scores, 0.25) == math.inf


def test_rejection_interpolates_linearly():
    # ROC points: (0,0) (0.5,0) (0.5,0.5) (1,0.5) (1,1); at 0.5 the lowest eps_B (0) counts
    labels, scores = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]
    assert rejection_at(labels, scores, 0.5) == math.inf
    assert rejection_at(labels, scores, 0.75) == pytest.approx(2.0)
    # a tie between signal and background: diagonal from (0,0) to (1,1) -> eps_B = eps_S
    assert rejection_at([1, 0], [0.5, 0.5], 0.3) == pytest.approx(1 / 0.3)


def test_rejection_infinite_when_background_fully_rejected():
    assert rejection_at([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1], 1.0) == math.inf
    with pytest.raises(ValueError, match="eps_s"):
        rejection_at([1, 0], [1.0, 0.0], 1.5)


def test_accuracy():
    assert accuracy([1, 0, 1, 0], [0.9, 0.1, 0.4, 0.6]) == pytest.approx(0.5)
    assert accuracy([1, 0], [0.5, 0.49]) == 1.0  # score >= threshold is signal
    assert accuracy([1, 0, 1], [2.0, -1.0, 0.5], threshold=0.0) == 1.0


def test_summarize_seeds():
    out = summarize_seeds([1.0, 2.0, 3.0])
    assert out == {"mean": pytest.approx(2.0), "std": pytest.approx(1.0), "n": 3}
    assert math.isnan(summarize_seeds([5.0])["std"])
    empty = summarize_seeds([])
    assert empty["n"] == 0
    assert math.isnan(empty["mean"])


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match=r"0 \(background\) and 1"):
        auc([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="one signal"):
        auc([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        roc_curve([0, 1], [0.1, np.nan])
