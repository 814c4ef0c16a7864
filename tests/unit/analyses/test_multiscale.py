"""The multi-scale stage's own logic: specs, mass assignment, cuts, bootstrap, yields, report."""

import math

import numpy as np
import pytest

from phenoflow.analyses.multiscale.dataset import _background_mass
from phenoflow.analyses.multiscale.evaluate import bootstrap, cut_based, per_background
from phenoflow.analyses.multiscale.report import multiscale_metrics, render_table
from phenoflow.analyses.multiscale.spec import (
    EvaluateMultiscaleSpec,
    MultiscaleDatasetSpec,
    TrainMultiscaleSpec,
)
from phenoflow.jets.dijet_events import KINEMATIC_FEATURES
from phenoflow.spec import SpecError
from tests.conftest import load_config


@pytest.mark.parametrize("overrides", [(), ("test.yaml",), ("paper.yaml",)])
def test_specs_round_trip_and_training_subsets(overrides):
    cfg = load_config(*overrides)
    ds = MultiscaleDatasetSpec.from_config(cfg)
    assert MultiscaleDatasetSpec.from_params(ds.to_params()) == ds
    assert ds.processes[: len(ds.signal)] == tuple(cfg["multiscale"]["signal"])
    for key in cfg["multiscale"]["models"]:
        spec = TrainMultiscaleSpec.from_config(cfg, key)
        assert TrainMultiscaleSpec.from_params(spec.to_params()) == spec
        if key == "multiscale_param":  # trained without the mass point it is tested at
            assert spec.target not in spec.training_processes
            assert len(spec.training_processes) == len(ds.signal) - 1
        else:
            assert spec.training_processes == (spec.target,)
    ev = EvaluateMultiscaleSpec.from_config(cfg)
    assert "results/x/models/bdt.skops" in ev.model_files("results/x")
    with pytest.raises(SpecError, match="unknown multiscale model 'gnn'"):
        TrainMultiscaleSpec.from_config(cfg, "gnn")


def test_background_masses_are_drawn_from_the_signal_masses_by_event_id():
    ids = np.arange(30000, dtype=np.int64)
    m = _background_mass(ids, "qcd_fatjets", [700.0, 1000.0, 1500.0])
    assert set(np.unique(m)) == {700.0, 1000.0, 1500.0}
    counts = np.array([(m == x).sum() for x in (700.0, 1000.0, 1500.0)])
    assert np.all(np.abs(counts - 10000) < 5 * math.sqrt(10000 * 2 / 3))  # uniform
    np.testing.assert_array_equal(m, _background_mass(ids, "qcd_fatjets", [700.0, 1000.0, 1500.0]))
    assert not np.array_equal(m, _background_mass(ids, "ttbar_fatjets", [700.0, 1000.0, 1500.0]))


def _kin(rows):
    out = np.zeros((len(rows), len(KINEMATIC_FEATURES)), dtype=np.float32)
    for i, row in enumerate(rows):
        for name, value in row.items():
            out[i, KINEMATIC_FEATURES.index(name)] = value
    return out


def test_cut_based_mass_windows():
    good = {"sd_mass_j1": 120, "sd_mass_j2": 110, "m_jj": 990}
    rows = [good, {**good, "sd_mass_j1": 60}, {**good, "sd_mass_j2": 160}, {**good, "m_jj": 1200}]
    test = {"kinematics_raw": _kin(rows)}
    cuts = {"m_j": [90.0, 150.0], "m_jj_window": 0.15}
    np.testing.assert_array_equal(cut_based(test, KINEMATIC_FEATURES, 1000.0, cuts), [1, 0, 0, 0])


def test_bootstrap_brackets_the_rejection_and_survives_infinite_rejection():
    rng = np.random.default_rng(0)
    labels = np.repeat([1, 0], 2000)
    scores = np.concatenate([rng.normal(1.5, 1, 2000), rng.normal(0, 1, 2000)])
    b = bootstrap(labels, scores, 200, seed=1)
    from phenoflow.ml.metrics import rejection_at

    r50 = rejection_at(labels, scores, 0.5)
    assert b["r50"][0] < r50 < b["r50"][1]
    perfect = np.concatenate([np.ones(50), np.zeros(50)])
    b = bootstrap(np.repeat([1, 0], 50), perfect, 20, seed=1)
    assert b["r50"] == [math.inf, math.inf]


def test_background_yields_follow_the_fiducial_cross_section():
    labels = np.array([1] * 100 + [0] * 200)
    process = np.array([0] * 100 + [1] * 100 + [2] * 100)
    scores = np.concatenate([np.linspace(0, 1, 100), np.full(100, 0.9), np.full(100, 0.1)])
    card = {
        "processes": {
            "sig": {"index": 0, "label": 1, "fiducial_sigma_pb": 1e-5},
            "qcd": {"index": 1, "label": 0, "fiducial_sigma_pb": 2.0},
            "tt": {"index": 2, "label": 0, "fiducial_sigma_pb": None},
        }
    }
    out = per_background({"labels": labels, "process": process}, scores, card)
    assert out["qcd"]["efficiency"] == 1.0  # every QCD event above the 50 % signal cut
    assert out["qcd"]["events_per_fb"] == pytest.approx(2000.0)
    assert out["tt"]["efficiency"] == 0.0
    assert out["tt"]["rejection"] == math.inf
    assert out["tt"]["events_per_fb"] is None


def test_report_names_every_model_and_the_cut_based_point():
    model = {
        "auc": {"mean": 0.9, "std": 0.01, "n": 3},
        "r30": {"mean": 40.0, "std": 4.0, "n": 3},
        "r50": {"mean": 20.0, "std": 2.0, "n": 3},
        "bootstrap_16_84": {"r30": [35.0, 45.0], "r50": [18.0, 22.0]},
        "backgrounds_at_eps_s_0.5": {"qcd": {"events_per_fb": 12.0}},
        "n_parameters": 1000,
    }
    ev = {
        "mass": 1000.0,
        "n_test": {"signal": 100, "background": 200},
        "models": {
            "multiscale": model,
            "kinematics_mlp": {**model, "r50": {"mean": 5.0, "std": 1.0, "n": 3}},
        },
        "cut_based": {
            "eff_s": 0.4,
            "eff_b": 0.05,
            "rejection": 20.0,
            "models_at_same_eff_s": {"multiscale": 30.0},
        },
    }
    m = multiscale_metrics(ev)["metrics"]
    assert m["r50_ratio_multiscale_over_kinematics_mlp"]["value"] == pytest.approx(4.0)
    assert m["yield_multiscale_qcd"]["unit"] == "events/fb^-1"
    assert m["rejection_at_cut_eff_multiscale"]["value"] == 30.0
    table = render_table(ev)
    assert "| multiscale | 1000 | 0.9000 ± 0.0100 | 40.0 ± 4.0 | 20.0 ± 2.0 | 18.0–22.0 |" in table
    assert "eps_S = 0.400" in table
