"""Resumable state is keyed by everything that determines it: settings, input data and code.

The tagger checkpoint is driven through the train_tagger adapter itself (with a stand-in
``snakemake`` object), so the test covers the path a workflow rerun takes.
"""

import json
import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from phenoflow.analyses.tagging.spec import TrainTaggerSpec
from phenoflow.jets.datasets import MAX_SUBJETS, SUBSTRUCTURE_COLUMNS
from phenoflow.jets.pipeline import JET_FIELDS
from phenoflow.resume import dataset_fingerprint, key_differences, resume_key
from tests.conftest import ROOT

ADAPTER = ROOT / "workflow_scripts" / "train_tagger.py"
N_CONST = 6
IGNORED = "checkpoint ignored: made by a different job"


def write_dataset(root: Path, sizes=(14, 7, 7), seed: int = 0) -> Path:
    """A tiny tagging dataset in the layout make_dataset writes (random jets)."""
    rng = np.random.default_rng(seed)
    for split, n in zip(("train", "val", "test"), sizes, strict=True):
        d = root / split
        d.mkdir(parents=True, exist_ok=True)
        for f in d.glob("*.npy"):
            f.unlink()
        arrays = {
            "features": rng.normal(size=(n, N_CONST, 13)).astype(np.float32),
            "mask": np.ones((n, N_CONST), dtype=bool),
            "p4": rng.normal(size=(n, N_CONST, 4)).astype(np.float32),
            "subjets_ca": (1.0 + rng.random((n, MAX_SUBJETS, 4))).astype(np.float32),
            "subjets_ca_mask": np.ones((n, MAX_SUBJETS), dtype=bool),
            "jet": (1.0 + rng.random((n, len(JET_FIELDS)))).astype(np.float32),
            "labels": (np.arange(n) % 2).astype(np.int8),
            "substructure": rng.random((n, len(SUBSTRUCTURE_COLUMNS))).astype(np.float32),
        }
        for k, a in arrays.items():
            np.save(d / f"{k}.npy", a)
    card = {"task": "toy", "splits": dict(zip(("train", "val", "test"), sizes, strict=True))}
    (root / "card.json").write_text(json.dumps(card))
    return root


def spec_params(**train) -> dict:
    base = {"epochs": 2, "batch_size": 4, "device": "cpu", "progress_bar": False}
    return TrainTaggerSpec(
        task="toy",
        key="deepsets",
        seed=0,
        train={**base, **train},
        model_options={"phi_sizes": [8], "f_sizes": [8]},
        subjet_algorithm="ca",
    ).to_params()


def run_adapter(results: Path, dataset: Path, params: dict, code: str = "c0de") -> dict:
    """Run workflow_scripts/train_tagger.py as Snakemake would; return the history."""
    out = results / "tagging" / "toy"
    smk = SimpleNamespace(
        input=SimpleNamespace(dataset=str(dataset / "card.json")),
        output=SimpleNamespace(
            model=str(out / "models" / "deepsets_seed0.pt"),
            history=str(out / "deepsets" / "seed0.json"),
        ),
        params=SimpleNamespace(spec=params, code=code),
        log=[str(results / "train.log")],
        threads=1,
    )
    (results / "train.log").unlink(missing_ok=True)
    runpy.run_path(str(ADAPTER), init_globals={"snakemake": smk})
    return json.loads(Path(smk.output.history).read_text())


def log_text(results: Path) -> str:
    return (results / "train.log").read_text()


def model_bytes(results: Path) -> bytes:
    return (results / "tagging/toy/models/deepsets_seed0.pt").read_bytes()


@pytest.fixture
def first_run(tmp_path):
    """A finished 2-epoch training on dataset A, its checkpoint left behind."""
    data = write_dataset(tmp_path / "data")
    results = tmp_path / "results"
    history = run_adapter(results, data, spec_params())
    assert history["resumed_from_epoch"] == 0
    assert list((results / "tagging/toy/checkpoints").glob("*.ckpt"))
    return data, results


def test_same_job_resumes(first_run):
    data, results = first_run
    before = model_bytes(results)
    history = run_adapter(results, data, spec_params())
    assert history["resumed_from_epoch"] == 2
    assert IGNORED not in log_text(results)
    assert model_bytes(results) == before


@pytest.mark.parametrize(
    ("change", "part"),
    [
        ("dataset_content", "data"),  # e.g. jets.n_constituents: same sizes, other arrays
        ("split_sizes", "data"),
        ("card_only", "data"),
        ("code", "code"),  # e.g. an edit of lib/phenoflow/ml/train.py
        ("settings", "settings"),
    ],
)
def test_other_job_ignores_checkpoint(first_run, tmp_path, change, part):
    data, results = first_run
    params, code = spec_params(), "c0de"
    if change == "dataset_content":
        write_dataset(data, seed=1)
    elif change == "split_sizes":
        write_dataset(data, sizes=(15, 7, 7))
    elif change == "card_only":
        (data / "card.json").write_text(json.dumps({"task": "toy", "cuts": {"pt_min": 1}}))
    elif change == "code":
        code = "c0de2"
    else:
        params = spec_params(learning_rate=3e-3)

    history = run_adapter(results, data, params, code)
    assert history["resumed_from_epoch"] == 0
    (line,) = [ln for ln in log_text(results).splitlines() if IGNORED in ln]
    assert f"{part} changed" in line
    assert line.rstrip().endswith("training from scratch")
    assert [p for p in ("settings", "data", "code") if f"{p} changed" in line] == [part]
    assert "deepsets_seed0.ckpt" in line
    # what was written is exactly a run from scratch of the new job
    fresh = tmp_path / "fresh"
    h_fresh = run_adapter(fresh, data, params, code)
    assert model_bytes(results) == model_bytes(fresh)
    assert history["val_loss"] == h_fresh["val_loss"]
    # and the replaced checkpoint now belongs to the new job: it resumes
    assert run_adapter(results, data, params, code)["resumed_from_epoch"] == 2


def test_checkpoint_carries_its_job_key(first_run):
    _, results = first_run
    (ckpt,) = (results / "tagging/toy/checkpoints").glob("*.ckpt")
    saved = torch.load(ckpt, weights_only=True)
    assert set(saved["job"]) == {"settings", "data", "code"}
    assert saved["job"]["code"] == "c0de"


def test_dataset_fingerprint_sees_every_byte(tmp_path):
    data = write_dataset(tmp_path / "d")
    fp = dataset_fingerprint(data)
    assert fp == dataset_fingerprint(write_dataset(tmp_path / "copy"))  # content, not place
    arr = data / "val" / "features.npy"
    blob = bytearray(arr.read_bytes())
    blob[-1] ^= 1
    arr.write_bytes(bytes(blob))
    fp2 = dataset_fingerprint(data)
    assert fp2 != fp
    arr.rename(data / "val" / "features2.npy")
    assert dataset_fingerprint(data) != fp2
    (tmp_path / "copy" / "card.json").write_text("{}")
    assert dataset_fingerprint(tmp_path / "copy") != fp
    with pytest.raises(FileNotFoundError, match=r"card\.json"):
        dataset_fingerprint(tmp_path)


def test_resume_key_parts():
    key = resume_key({"b": 1, "a": [1, 2]}, "code1", "data1")
    assert key == resume_key({"a": [1, 2], "b": 1}, "code1", "data1")  # key order is no change
    assert key_differences(key, resume_key({"a": [1, 2], "b": 2}, "code1", "data1")) == ["settings"]
    assert key_differences(key, resume_key({"b": 1, "a": [1, 2]}, "code2", "data2")) == [
        "data",
        "code",
    ]
    assert key_differences(None, key) == ["settings", "data", "code"]


def test_every_resumable_adapter_keys_its_state():
    """An adapter that leaves resumable state keys it by settings, data and code."""
    for script in sorted((ROOT / "workflow_scripts").glob("*.py")):
        text = script.read_text()
        if "checkpoint" in text.lower() or "cache" in text.lower():
            assert "resume_key(spec.to_params(), snakemake.params.code" in text, script.name
