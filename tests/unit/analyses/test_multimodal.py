"""The multi-modal stage's own logic: model keys, reweighting, metrics, report."""

import math

import numpy as np
import pytest

from phenoflow.analyses.multimodal.dataset import reweight_background
from phenoflow.analyses.multimodal.report import lambda_scans, multimodal_metrics, render_table
from phenoflow.analyses.multimodal.spec import (
    KEY_PATTERN,
    ModelKey,
    MultimodalSummarySpec,
    TrainMultimodalSpec,
    lambda_label,
    task_keys,
)
from phenoflow.ml.metrics import auc, distance_correlation, weighted_auc
from phenoflow.spec import SpecError
from tests.conftest import load_config


def test_model_keys_parse_to_kind_image_and_l2():
    k = ModelKey.parse("attention_l2kinematics", 0.01, "plain")
    assert (k.kind, k.image, k.l2, k.l2_on) == ("attention", "plain", 0.01, "kinematics")
    k = ModelKey.parse(f"attention_l2all_{lambda_label(1e-4)}", 0.01, "riemann")
    assert (k.kind, k.image, k.l2, k.l2_on) == ("attention", "riemann", 1e-4, "all")
    assert ModelKey.parse("image_riemann", 0.01, "plain").image == "riemann"
    assert ModelKey.parse("kinematics", 0.01, "plain").input_keys == ("kinematics",)
    assert ModelKey.parse("attention", 0.01, "plain").l2 == 0.0
    with pytest.raises(SpecError, match="unknown multimodal model 'cnn'"):
        ModelKey.parse("cnn", 0.01, "plain")


def test_every_key_of_the_shipped_configs_matches_the_wildcard_and_parses():
    import re

    for overrides in ((), ("paper.yaml",), ("test.yaml",)):
        cfg = load_config(*overrides)
        for task in cfg["multimodal"]["tasks"]:
            for key in task_keys(cfg, task):
                assert re.fullmatch(KEY_PATTERN, key), key
                spec = TrainMultimodalSpec.from_config(cfg, task, key)
                assert TrainMultimodalSpec.from_params(spec.to_params()) == spec
                spec.model_key()


def test_a_key_not_trained_on_a_task_is_refused():
    cfg = load_config()
    with pytest.raises(SpecError, match="not trained on task 'colour'"):
        TrainMultimodalSpec.from_config(cfg, "colour", "attention_l2image_1e-04")


def test_reweighting_gives_the_background_the_signal_distribution():
    rng = np.random.default_rng(3)
    n = 40000
    labels = (np.arange(n) % 2).astype(np.int8)
    pt = np.where(labels == 1, rng.exponential(60.0, n), rng.exponential(30.0, n))
    data = {
        "labels": labels,
        "pt_bb": pt,
        "eta_bb": rng.normal(0, 1, n),
        "m_bb": rng.uniform(110, 140, n),
    }
    train = rng.uniform(size=n) < 0.6
    w, info = reweight_background(data, train, {"pt_bb": 10, "eta_bb": 1, "m_bb": 1})
    assert np.all(w[labels == 1] == 1.0)
    assert math.isclose(w[labels == 0].sum(), (labels == 0).sum(), rel_tol=1e-5)
    # test events: per pT_bb decile (of all events), the weighted background fractions
    # match the signal's within statistics; unweighted they do not
    test = ~train
    edges = np.quantile(pt, np.linspace(0, 1, 11))
    edges[-1] += 1.0

    def fractions(sel, weights=None):
        h, _ = np.histogram(pt[sel], bins=edges, weights=None if weights is None else weights[sel])
        return h / h.sum()

    sig = fractions(test & (labels == 1))
    bkg = test & (labels == 0)
    assert np.max(np.abs(fractions(bkg, w) - sig)) < 0.015
    assert np.max(np.abs(fractions(bkg) - sig)) > 0.05
    assert info["effective_background_events"] < bkg.sum() / 0.4


def test_weighted_auc_equals_auc_for_unit_weights_and_follows_the_weights():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    s = rng.normal(size=300) + y
    s[:40] = 0.25  # ties
    assert weighted_auc(y, s, np.ones(300)) == pytest.approx(auc(y, s), abs=1e-12)
    # doubling every event's weight changes nothing; duplicating events = integer weights
    w = rng.integers(1, 4, 300).astype(float)
    assert weighted_auc(y, s, 2 * w) == pytest.approx(weighted_auc(y, s, w), abs=1e-12)
    rep = np.repeat(np.arange(300), w.astype(int))
    assert weighted_auc(y, s, w) == pytest.approx(auc(y[rep], s[rep]), abs=1e-12)


def test_distance_correlation_known_cases():
    rng = np.random.default_rng(1)
    x = rng.normal(size=1500)
    assert distance_correlation(x, 3 * x + 1) == pytest.approx(1.0, abs=1e-9)
    assert distance_correlation(x, rng.normal(size=1500)) < 0.1
    assert np.corrcoef(x, x**2)[0, 1] ** 2 < 0.01  # Pearson blind to it ...
    assert distance_correlation(x, x**2) > 0.4  # ... dCor is not


def _evaluation(aucs):
    models = {}
    for key, a in aucs.items():
        models[key] = {
            "auc": {"mean": a, "std": 0.01, "n": 2},
            "auc_vs_pt_bb": {"mean": [a - 0.02, a + 0.02], "std": [0.01, 0.01]},
            "dcor_score_pt_bb_background": {"mean": 0.1, "std": 0.02, "n": 2},
            "roc": {"eff_s": [1.0, 0.5, 0.0], "eff_b": [1.0, 0.2, 0.0]},
        }
        if key.startswith("attention"):
            models[key]["attention"] = {
                "shares": {"signal": [0.3, 0.7], "background": [0.35, 0.65]},
                "score_shares": {"signal": [0.5, 0.5], "background": [0.5, 0.5]},
            }
    return {"n_test": {"signal": 10, "background": 12}, "models": models, "pt_bins": [0, 50, 100]}


def test_report_metrics_table_and_lambda_scan():
    ev = {
        "higgs": _evaluation(
            {
                "kinematics": 0.70,
                "image_plain": 0.60,
                "image_riemann": 0.62,
                "attention": 0.72,
                "attention_l2image": 0.75,
                "attention_l2image_1e-03": 0.73,
            }
        )
    }
    m = multimodal_metrics(ev)["metrics"]
    assert m["auc_higgs_kinematics"]["value"] == 0.70
    assert m["gain_higgs"]["value"] == pytest.approx(0.05)
    assert m["attention_image_share_higgs_attention_l2image_signal"]["value"] == 0.3
    table = render_table(ev)
    assert "| attention_l2image | 0.7500 ± 0.0100 |" in table
    spec = MultimodalSummarySpec(("higgs",), 0.01, {"tasks": ["higgs"], "lambdas": [1e-3]})
    scan = lambda_scans(spec, ev)["higgs"]["image"]
    assert [p["lambda"] for p in scan] == [0.0, 1e-3, 0.01]
    assert [p["mean"] for p in scan] == [0.72, 0.73, 0.75]
