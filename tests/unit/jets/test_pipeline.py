"""The jets stage on whole shards: real events, bad input, empty shards, reproducibility."""

import dataclasses

import awkward as ak
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from phenoflow.io.parquet import EventWriter, read_events, read_metadata
from phenoflow.jets.cluster import FatJetConfig, JetInputError
from phenoflow.jets.datasets import build_dataset, load_split
from phenoflow.jets.pipeline import JetsConfig, cluster_shard, read_jets
from tests.conftest import load_config

CFG = JetsConfig.from_config(load_config()["jets"])
# a wide window so that the 30 test events give plenty of jets
WIDE = dataclasses.replace(
    CFG, fat_jet=FatJetConfig(r=0.8, pt_min=150.0, pt_max=2000.0, eta_max=2.5), chunk_size=8
)


@pytest.fixture(scope="module")
def ttbar_jets(ttbar_shard, tmp_path_factory):
    out = tmp_path_factory.mktemp("jets") / "shard0.parquet"
    meta = cluster_shard(ttbar_shard[0], out, "top", WIDE)
    return out, meta


def test_real_shard(ttbar_jets, ttbar_shard):
    path, meta = ttbar_jets
    jets = read_jets(path)
    assert meta["n_events"] == 30
    assert meta["n_jets"] == len(jets) > 10
    assert meta["n_jets"] + meta["n_unmatched_dropped"] == meta["n_jets_window"]
    assert read_metadata(path)["n_jets"] == meta["n_jets"]
    assert ak.all(jets.label == 1)
    # event ids point back to the events file
    ids = set(read_events(ttbar_shard[0]).event_id.tolist())
    assert set(jets.event_id.tolist()) <= ids
    # constituents sum to the jet; features/mask/image have the configured shapes
    assert np.allclose(ak.to_numpy(ak.sum(jets.constituents.E, axis=1)), ak.to_numpy(jets.jet_E))
    assert ak.to_numpy(jets.features).shape == (len(jets), 128, 13)
    assert ak.to_numpy(jets.image).shape == (len(jets), 1, 40, 40)
    assert np.allclose(ak.to_numpy(jets.image).sum(axis=(1, 2, 3)), 1.0, atol=1e-4)
    assert ak.all(ak.sum(jets["mask"], axis=1) == np.minimum(ak.num(jets.constituents), 128))
    for algo in ("ca", "antikt", "hdbscan"):
        idx = jets.constituents[f"subjet_{algo}"]
        assert ak.all(idx < ak.num(jets[f"subjets_{algo}"])[:, np.newaxis])
    # tops in the window: mass in a broad window around the top mass for most jets
    assert np.median(ak.to_numpy(jets.jet_mass)) == pytest.approx(172.5, abs=25)


def test_reproducible(ttbar_jets, ttbar_shard, tmp_path):
    again = tmp_path / "again.parquet"
    cluster_shard(ttbar_shard[0], again, "top", WIDE)
    assert again.read_bytes() == ttbar_jets[0].read_bytes()


def test_qcd_keeps_every_window_jet(ttbar_shard, tmp_path):
    meta = cluster_shard(ttbar_shard[0], tmp_path / "q.parquet", "qcd", WIDE)
    assert meta["n_unmatched_dropped"] == 0
    assert meta["n_jets"] == meta["n_jets_window"]


def _write_events(path, events, meta):
    with EventWriter(path) as w:
        if len(events):
            w.write(events)
        w.close(meta)


def test_empty_shard(ttbar_shard, tmp_path):
    empty = tmp_path / "empty_events.parquet"
    _write_events(empty, read_events(ttbar_shard[0])[:0], {"process": "ttbar_had", "shard": 0})
    out = tmp_path / "jets.parquet"
    meta = cluster_shard(empty, out, "top", WIDE)
    assert meta["n_events"] == 0
    assert pq.read_metadata(out).num_rows == 0
    assert "features" in pq.read_schema(out).names


def test_missing_particles_field(tmp_path):
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"weight": [1.0, 2.0]}), bad)
    out = tmp_path / "jets.parquet"
    with pytest.raises(JetInputError, match=r"bad\.parquet: no 'particles' field"):
        cluster_shard(bad, out, "top", WIDE)
    assert not list(tmp_path.glob("jets*"))


def test_nan_momenta(ttbar_shard, tmp_path):
    events = read_events(ttbar_shard[0])[:5]
    px = ak.to_numpy(ak.flatten(events.particles.px)).copy()
    px[7] = np.nan
    particles = ak.with_field(events.particles, ak.unflatten(px, ak.num(events.particles)), "px")
    bad = tmp_path / "nan.parquet"
    _write_events(bad, ak.with_field(events, particles, "particles"), {"process": "x"})
    with pytest.raises(
        JetInputError, match=r"non-finite values in particles\.px \(first in event 0\)"
    ):
        cluster_shard(bad, tmp_path / "jets.parquet", "top", WIDE)
    assert not list(tmp_path.glob("jets*"))


def test_not_parquet(tmp_path):
    bad = tmp_path / "garbage.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(JetInputError, match="not a readable Parquet file"):
        cluster_shard(bad, tmp_path / "jets.parquet", "top", WIDE)


def test_dataset(ttbar_jets, ttbar_shard, tmp_path):
    qcd = tmp_path / "qcd.parquet"
    cluster_shard(ttbar_shard[0], qcd, "qcd", WIDE)  # stands in for a background sample
    card = build_dataset(
        "t",
        {"ttbar_had": [ttbar_jets[0]], "qcd_x": [qcd]},
        {"ttbar_had": 1, "qcd_x": 0},
        [0.5, 0.25, 0.25],
        tmp_path / "ds",
        seed=1,
        cuts={"pt_min": 150.0},
    )
    total = sum(s["n_jets"] for s in card["splits"].values())
    assert total == ttbar_jets[1]["n_jets"] + card["processes"]["qcd_x"]["n_jets"]
    train = load_split(tmp_path / "ds" / "train")
    n = len(train["labels"])
    assert train["features"].shape == (n, 128, 13)
    assert train["images"].shape == (n, 1, 40, 40)
    assert set(np.unique(train["labels"])) <= {0, 1}
    # the split is per event: the same event never lands in two splits
    seen = {}
    for split in ("train", "val", "test"):
        arr = load_split(tmp_path / "ds" / split)
        for proc, eid in zip(arr["process"], arr["event_id"], strict=True):
            assert seen.setdefault((int(proc), int(eid)), split) == split
    assert (tmp_path / "ds" / "card.md").read_text().startswith("# Dataset card: t")
    # deterministic
    build_dataset(
        "t",
        {"ttbar_had": [ttbar_jets[0]], "qcd_x": [qcd]},
        {"ttbar_had": 1, "qcd_x": 0},
        [0.5, 0.25, 0.25],
        tmp_path / "ds2",
        seed=1,
        cuts={"pt_min": 150.0},
    )
    for name in ("train/features.npy", "test/labels.npy", "card.json"):
        assert (tmp_path / "ds" / name).read_bytes() == (tmp_path / "ds2" / name).read_bytes()
