"""Tagging glue: subjet features, model keys, metrics rows."""

import numpy as np
import pytest

from phenoflow.analyses.tagging.run import parse_key, score_metrics
from phenoflow.ml.data import subjet_features


def test_subjet_features_by_hand():
    # jet: pT 500 GeV at eta 0.5, phi 3.0; one subjet of pT 100 GeV at eta 0.7, phi -3.0 (wraps)
    pt, eta, phi, m = 100.0, 0.7, -3.0, 10.0
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + m**2)
    jet = np.array([[0, 0, 0, 800.0, 500.0, 0.5, 3.0, 150.0]])
    sub = np.zeros((1, 2, 4), dtype=np.float32)
    sub[0, 0] = (px, py, pz, e)
    mask = np.array([[True, False]])
    f = subjet_features(sub, mask, jet)
    assert f.shape == (1, 2, 6)
    expected = [
        0.2,
        -6.0 + 2 * np.pi,
        np.log(100.0),
        np.log(e),
        np.log(100.0 / 500.0),
        np.log(e / 800.0),
    ]
    np.testing.assert_allclose(f[0, 0], expected, rtol=1e-5, atol=1e-5)
    assert np.all(f[0, 1] == 0)


def test_parse_key():
    assert parse_key("mixer_hdbscan") == ("mixer", "hdbscan")
    assert parse_key("part") == ("part", None)
    with pytest.raises(ValueError, match="unknown tagger 'lstm'"):
        parse_key("lstm")


def test_score_metrics_perfect_and_random():
    labels = np.array([0, 0, 0, 1, 1, 1])
    perfect = score_metrics(labels, np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]))
    assert perfect["auc"] == 1.0
    assert perfect["accuracy"] == 1.0
    assert perfect["r50"] == np.inf
    rng = np.random.default_rng(0)
    lab = rng.integers(0, 2, 20000)
    rand = score_metrics(lab, rng.uniform(size=lab.size))
    assert rand["auc"] == pytest.approx(0.5, abs=0.02)
    assert rand["r50"] == pytest.approx(2.0, rel=0.1)  # 1/eps_B = 1/0.5 for random scores


def _toy_test_split(n: int = 16, n_slots: int = 20, n_sub: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    mask = np.arange(n_slots)[None, :] < rng.integers(3, n_slots, n)[:, None]
    pt = np.sort(rng.uniform(1, 50, (n, n_slots)), axis=1)[:, ::-1]
    eta, phi = rng.normal(0, 0.3, (2, n, n_slots))
    p4 = np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], -1)
    return {
        "features": (rng.normal(size=(n, n_slots, 13)) * mask[..., None]).astype(np.float32),
        "mask": mask,
        "p4": (p4 * mask[..., None]).astype(np.float32),
        "subjet_features": rng.normal(size=(n, n_sub, 6)).astype(np.float32),
        "subjet_mask": np.ones((n, n_sub), dtype=bool),
        "labels": rng.integers(0, 2, n).astype(np.float32),
    }


def test_speed_references_time_untrained_models():
    from phenoflow.analyses.tagging.speed import speed_references

    spec = {
        "part_tiny": {
            "model": "part",
            "options": {
                "embed_dims": [16],
                "pair_embed_dims": [8],
                "n_heads": 2,
                "n_blocks": 1,
                "n_cls_blocks": 1,
            },
        }
    }
    rows = speed_references(spec, _toy_test_split(), devices=("cpu",))
    row = rows["part_tiny"]
    assert row["speed_only"]
    assert row["model"] == "part"
    assert row["n_parameters"] > 0
    cpu = row["speed"]["cpu"]
    assert cpu["batch_1024"]["jets_per_s"] > 0
    assert cpu["batch_1"]["latency_ms"] > 0
    assert "auc" not in row


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"x": {"options": {}}}, "needs a 'model'"),
        ({"x": {"model": "lstm"}}, "unknown model 'lstm'"),
        ({"x": {"model": "part", "epochs": 3}}, r"unknown key\(s\) \['epochs'\]"),
    ],
)
def test_speed_reference_bad_spec_names_the_entry(spec, match):
    from phenoflow.analyses.tagging.speed import check_speed_reference

    with pytest.raises(ValueError, match=match):
        check_speed_reference(spec)


def test_speedups_and_table_with_speed_only_rows():
    from phenoflow.analyses.tagging.report import tagging_metrics, tagging_table
    from phenoflow.analyses.tagging.speed import speedups

    def speed(rate):
        return {
            "cpu": {
                "batch_1024": {"jets_per_s": rate, "latency_ms": 1.0},
                "batch_1": {"jets_per_s": 1.0, "latency_ms": 2.0},
            }
        }

    one = {"mean": 0.9, "std": 0.0, "n": 1}
    trained = {m: one for m in ("accuracy", "auc", "r30", "r50")}
    table = {
        "mixer_ca": {**trained, "n_parameters": 10, "speed": speed(2000.0)},
        "part": {**trained, "n_parameters": 100, "speed": speed(400.0)},
        "deepsets": {**trained, "n_parameters": 5, "speed": speed(9000.0)},
        "part_published": {
            "speed_only": True,
            "model": "part",
            "n_parameters": 1000,
            "speed": speed(125.0),
        },
    }
    assert speedups(table) == {"mixer_ca/part": 5.0, "mixer_ca/part_published": 16.0}
    text = tagging_table(table)
    assert "part_published (untrained, speed only) | 1,000 | – | – |" in text
    assert "mixer_ca/part_published 16.0×" in text
    m = tagging_metrics(table, "toy")["metrics"]
    assert m["speedup_mixer_ca_over_part_published_cpu_batch1024"]["value"] == 16.0
    assert "auc_part_published" not in m
