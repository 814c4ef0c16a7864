"""The scan stage's analysis functions: points to Parquet, metrics.json."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from phenoflow.analyses.scan.run import run_function_scan, scan_metrics


@pytest.fixture(scope="module")
def small_scan(tmp_path_factory):
    path = tmp_path_factory.mktemp("scan") / "points.parquet"
    options = {"n_initial": 400, "n_per_iteration": 200, "n_pool": 4000}
    study, scans = run_function_scan("cosine_2d_5_7", 1200, 3, options, False, path)
    return path, study, scans


def test_points_file_holds_every_evaluated_point(small_scan):
    path, study, scans = small_scan
    table = pq.read_table(path)
    assert table.num_rows == sum(r.n_calls for r in scans.values())
    methods = table.column("method").to_numpy(zero_copy_only=False)
    for name, r in scans.items():
        rows = methods == name
        assert np.array_equal(table.column("x0").to_numpy()[rows], r.points[:, 0])
        assert np.count_nonzero(table.column("in_target").to_numpy()[rows]) == r.n_in_target
        assert study["methods"][name]["n_in_target"] == r.n_in_target


def test_same_seed_gives_identical_points_file(small_scan, tmp_path):
    path, _, _ = small_scan
    options = {"n_initial": 400, "n_per_iteration": 200, "n_pool": 4000}
    run_function_scan("cosine_2d_5_7", 1200, 3, options, False, tmp_path / "again.parquet")
    assert (tmp_path / "again.parquet").read_bytes() == path.read_bytes()


def test_metrics_table(small_scan):
    _, study, _ = small_scan
    m = scan_metrics([study], None, None)["metrics"]
    assert m["cosine_2d_5_7_ml_regressor_cells_found"]["value"] <= 7
    assert (
        m["cosine_2d_5_7_random_n_in_target"]["value"] == study["methods"]["random"]["n_in_target"]
    )
    assert "cosine_2d_5_7_ml_regressor_min_efficiency_from_it5" in m


def test_unknown_objective_is_named(tmp_path):
    with pytest.raises(ValueError, match="unknown scan objective 'egg'"):
        run_function_scan("egg", 1000, 0, {}, False, tmp_path / "x.parquet")
