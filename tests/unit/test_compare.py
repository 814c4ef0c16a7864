"""Comparing two results directories: timings ignored, everything else exact."""

from __future__ import annotations

import json

import numpy as np

from phenoflow.compare import compare_results, main


def _run(root, value: float, wall: float) -> None:
    (root / "stage" / "figures").mkdir(parents=True)
    metrics = {
        "metrics": {
            "auc": {"value": value, "unit": "", "description": "AUC"},
            "train_time": {"value": wall, "unit": "s", "description": "training"},
        },
        "wall_s": wall,
    }
    (root / "stage" / "metrics.json").write_text(json.dumps(metrics))
    np.save(root / "stage" / "x.npy", np.arange(5.0) * value)
    (root / "logs").mkdir()
    (root / "logs" / "job.log").write_text(f"took {wall} s")


def test_runs_differing_only_in_timings_are_the_same(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    _run(a, 0.9, 10.0)
    _run(b, 0.9, 12.5)
    assert compare_results(a, b) == []
    assert main([str(a), str(b)]) == 0
    assert "identical" in capsys.readouterr().out


def test_a_changed_number_or_missing_file_is_reported(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _run(a, 0.9, 10.0)
    _run(b, 0.91, 10.0)
    (a / "stage" / "extra.parquet").write_bytes(b"PAR1")
    problems = compare_results(a, b)
    assert "differs: stage/metrics.json" in problems
    assert "differs: stage/x.npy" in problems
    assert f"only in {a}: stage/extra.parquet" in problems
    assert compare_results(a, b, ignore=[r"x\.npy$", "extra", "metrics"]) == []
    assert main([str(a), str(b)]) == 1
