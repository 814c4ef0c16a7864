"""The studies behind the benchmark: a fast smoke test and the slow goal check."""

import numpy as np
import pytest

from phenoflow.scan.studies import paper_3d_study, smote_study


def test_paper_3d_study_smoke():
    study = paper_3d_study(n_calls=1500, seed=0, classifier=False)
    methods = study["methods"]
    assert set(methods) == {"ml_regressor", "random", "mcmc"}
    for s in methods.values():
        assert s["n_calls"] == 1500
        assert s["n_cells"] == 13
        assert sum(s["cell_counts"]) == s["n_in_target"]
    # uniform sampling needs about as many calls as it used; the ML scan already gains
    assert 0.5 < methods["random"]["gain"] < 2.0
    assert methods["ml_regressor"]["gain"] > 3 * methods["random"]["gain"]


@pytest.mark.slow
def test_paper_3d_goals():
    """The benchmark goals on the paper's 3D function (about 10 s per seed on one core)."""
    for seed in (0, 1):
        reg = paper_3d_study(n_calls=10_000, seed=seed, classifier=False)["methods"]["ml_regressor"]
        assert min(reg["efficiency_per_iteration"][5:]) >= 0.9
        assert reg["cells_found"] == 13
        assert reg["max_abs_deviation"] <= 0.5
        assert reg["gain"] >= 20


@pytest.mark.slow
def test_smote_helps_on_a_rare_target():
    study = smote_study(seeds=(0, 1, 2))
    summary = study["summary"]
    assert study["volume_fraction"] < 0.01
    assert summary["seeds_where_smote_needs_fewer_calls"] == 3
    with_, without = summary["with_smote"], summary["without_smote"]
    assert with_["mean_calls_to_n_wanted"] < without["mean_calls_to_n_wanted"]
    assert with_["mean_n_in_target"] > without["mean_n_in_target"]
    # SMOTE between points of one ball stays in it (balls are convex): a high hit rate
    rates = [row["smote_efficiency"] for row in study["runs"]["with_smote"]]
    assert all(0.5 < r <= 1.0 for r in rates), rates
    assert np.all([row["n_smote"] > 0 for row in study["runs"]["with_smote"]])
