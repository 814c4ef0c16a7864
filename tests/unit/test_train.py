"""The shared training loop: learning, determinism, interrupt-and-resume, early stopping, predict."""

import dataclasses

import numpy as np
import pytest
import torch

from phenoflow.ml.metrics import accuracy
from phenoflow.ml.models.deepsets import make_deepsets
from phenoflow.ml.train import (
    CHECKPOINT_FORMAT,
    EpochReport,
    TrainConfig,
    predict,
    train_classifier,
)

N_PARTICLES, N_FEATURES = 8, 13


def _jets(n: int, seed: int) -> dict[str, np.ndarray]:
    """Toy jets whose label is the sign of feature 0 of the first particle.

    The first particle's feature 0 is large (|x| >= 1) and the other particles' is small,
    so the sum over particles of a Deep Sets model can pick it out.
    """
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, N_PARTICLES, N_FEATURES)).astype(np.float32)
    features[:, 1:, 0] *= 0.1
    features[:, 0, 0] = np.sign(features[:, 0, 0]) * (1.0 + np.abs(features[:, 0, 0]))
    multiplicity = rng.integers(1, N_PARTICLES + 1, n)
    mask = np.arange(N_PARTICLES)[None, :] < multiplicity[:, None]
    features[~mask] = 0.0
    labels = (features[:, 0, 0] > 0).astype(np.int64)
    return {"features": features, "mask": mask, "labels": labels}


def _model(seed: int = 0, dropout: float = 0.0) -> torch.nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = make_deepsets(N_FEATURES)
    if dropout == 0.0:
        return net

    class WithDropout(torch.nn.Module):  # exercises the torch RNG state in checkpoints
        def __init__(self) -> None:
            super().__init__()
            self.drop, self.net = torch.nn.Dropout(dropout), net

        def forward(self, inputs):
            return self.net({**inputs, "features": self.drop(inputs["features"])})

    return WithDropout()


def _config(**kw) -> TrainConfig:
    base = {"epochs": 4, "batch_size": 64, "learning_rate": 3e-3, "device": "cpu"}
    return TrainConfig(**{**base, "progress_bar": False, "num_threads": 1, **kw})


def _assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


@pytest.fixture(scope="module")
def trained():
    train, val = _jets(512, seed=1), _jets(512, seed=2)
    reports: list[EpochReport] = []
    model = _model()
    history = train_classifier(model, train, val, _config(epochs=5), callback=reports.append)
    return model, history, reports, val


def test_loss_decreases_and_accuracy_is_high(trained):
    _, history, reports, _ = trained
    assert history["epoch"] == [1, 2, 3, 4, 5]
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert max(history["val_accuracy"]) > 0.9
    assert [r.epoch for r in reports] == history["epoch"]
    assert all(r.n_epochs == 5 and r.jets_per_s > 0 for r in reports)
    assert history["device"] == "cpu"
    assert history["amp"] == "off"  # amp is CUDA-only
    assert history["n_parameters"] == sum(
        a * b + b for a, b in [(13, 100), (100, 100), (100, 128), (128, 100), (100, 100), (100, 1)]
    )
    # the cosine schedule starts at the configured rate and decays
    assert history["lr"][0] == pytest.approx(3e-3)
    assert np.all(np.diff(history["lr"]) < 0)


def test_predict_gives_probabilities(trained):
    model, history, _, val = trained
    model.train()
    p = predict(
        model, {k: v for k, v in val.items() if k != "labels"}, batch_size=100, device="cpu"
    )
    assert p.shape == (512,)
    assert np.all((p >= 0) & (p <= 1))
    # the returned model holds the best epoch's weights
    assert accuracy(val["labels"], p) == pytest.approx(
        history["val_accuracy"][history["best_epoch"] - 1]
    )
    assert model.training  # the caller's mode is restored


def test_seeded_runs_are_identical_and_leave_global_rng_alone():
    train, val = _jets(256, seed=3), _jets(128, seed=4)
    before = torch.get_rng_state()
    a, b = _model(), _model()
    ha = train_classifier(a, train, val, _config(epochs=2))
    hb = train_classifier(b, train, val, _config(epochs=2))
    _assert_same_weights(a, b)
    assert ha["train_loss"] == hb["train_loss"]
    assert torch.equal(torch.get_rng_state(), before)
    c = _model()
    train_classifier(c, train, val, _config(epochs=2, seed=1))  # another batch order
    assert not torch.equal(a.state_dict()["f.0.weight"], c.state_dict()["f.0.weight"])


def test_extend_finished_run_equals_uninterrupted_run(tmp_path):
    train, val = _jets(256, seed=5), _jets(128, seed=6)
    ref = _model()
    h_ref = train_classifier(ref, train, val, _config(lr_schedule="constant"))

    ckpt = tmp_path / "sub" / "ckpt.pt"
    first = _model()
    train_classifier(first, train, val, _config(epochs=2, lr_schedule="constant"), checkpoint=ckpt)
    saved = torch.load(ckpt, weights_only=True)
    assert saved["format"] == CHECKPOINT_FORMAT
    assert saved["epoch"] == 2
    assert not (tmp_path / "sub" / "ckpt.pt.tmp").exists()

    resumed = _model(seed=99)  # different init: everything must come from the checkpoint
    h = train_classifier(resumed, train, val, _config(lr_schedule="constant"), checkpoint=ckpt)
    _assert_same_weights(ref, resumed)
    assert h["resumed_from_epoch"] == 2
    assert h["epoch"] == [1, 2, 3, 4]
    assert h["val_loss"] == h_ref["val_loss"]
    assert h["best_epoch"] == h_ref["best_epoch"]


def test_interrupted_run_resumes_exactly(tmp_path):
    # cosine schedule and dropout: the schedule and both RNG states must be restored
    train, val = _jets(256, seed=7), _jets(128, seed=8)
    cfg = _config()
    ref = _model(dropout=0.2)
    h_ref = train_classifier(ref, train, val, cfg)

    def interrupt_after_2(report: EpochReport) -> None:
        if report.epoch == 2:
            raise KeyboardInterrupt

    ckpt = tmp_path / "ckpt.pt"
    with pytest.raises(KeyboardInterrupt):
        train_classifier(_model(dropout=0.2), train, val, cfg, checkpoint=ckpt,
                         callback=interrupt_after_2)  # fmt: skip
    resumed = _model(seed=5, dropout=0.2)
    h = train_classifier(resumed, train, val, cfg, checkpoint=ckpt)
    _assert_same_weights(ref, resumed)
    assert h["train_loss"] == h_ref["train_loss"]
    assert h["lr"] == h_ref["lr"]

    # a finished checkpoint resumes to "nothing left to do" with the same best weights
    again = _model(seed=6, dropout=0.2)
    h2 = train_classifier(again, train, val, cfg, checkpoint=ckpt)
    _assert_same_weights(ref, again)
    assert h2["epoch"] == [1, 2, 3, 4]

    # other optimisation settings: another job's checkpoint, ignored and replaced
    other = dataclasses.replace(cfg, learning_rate=1e-2)
    ref_other = _model(dropout=0.2)
    train_classifier(ref_other, train, val, other)
    got = _model(dropout=0.2)
    h3 = train_classifier(got, train, val, other, checkpoint=ckpt)
    assert h3["resumed_from_epoch"] == 0
    _assert_same_weights(ref_other, got)
    assert torch.load(ckpt, weights_only=True)["config"]["learning_rate"] == 1e-2


KEY = {"settings": "s0", "data": "d0", "code": "c0"}


@pytest.mark.parametrize("part", ["settings", "data", "code"])
def test_checkpoint_of_another_job_key_is_ignored(tmp_path, caplog, part):
    train, val = _jets(128, seed=11), _jets(64, seed=12)
    cfg, ckpt = _config(epochs=2), tmp_path / "ckpt.pt"
    train_classifier(_model(), train, val, cfg, checkpoint=ckpt, resume_key=KEY)
    assert torch.load(ckpt, weights_only=True)["job"] == KEY
    fresh = _model()
    h_fresh = train_classifier(fresh, train, val, cfg)

    other = {**KEY, part: "changed"}
    got = _model(seed=3)  # another init: a fresh run must not be what comes out
    with caplog.at_level("WARNING", logger="phenoflow.ml.train"):
        h = train_classifier(got, train, val, cfg, checkpoint=ckpt, resume_key=other)
    assert h["resumed_from_epoch"] == 0
    assert f"checkpoint ignored: made by a different job ({part} changed)" in caplog.text
    assert torch.load(ckpt, weights_only=True)["job"] == other
    assert h["val_loss"] != h_fresh["val_loss"]  # another init, trained from scratch
    # the same key resumes (finished: nothing left to do)
    again = train_classifier(_model(seed=4), train, val, cfg, checkpoint=ckpt, resume_key=other)
    assert again["resumed_from_epoch"] == 2


def test_fresh_run_after_ignored_checkpoint_equals_run_without_one(tmp_path):
    train, val = _jets(128, seed=13), _jets(64, seed=14)
    cfg, ckpt = _config(epochs=2), tmp_path / "ckpt.pt"
    train_classifier(_model(seed=1), train, val, cfg, checkpoint=ckpt, resume_key=KEY)
    ref = _model(dropout=0.2)
    h_ref = train_classifier(ref, train, val, cfg)
    got = _model(dropout=0.2)
    h = train_classifier(got, train, val, cfg, checkpoint=ckpt, resume_key={**KEY, "code": "x"})
    _assert_same_weights(ref, got)
    assert (h["train_loss"], h["val_loss"]) == (h_ref["train_loss"], h_ref["val_loss"])


def test_older_checkpoint_format_is_ignored_and_foreign_file_refused(tmp_path, caplog):
    train, val = _jets(128, seed=15), _jets(64, seed=16)
    cfg, ckpt = _config(epochs=2), tmp_path / "ckpt.pt"
    train_classifier(_model(), train, val, cfg, checkpoint=ckpt)
    old = torch.load(ckpt, weights_only=True)
    old["format"] = "phenoflow.train/1"
    del old["job"]
    torch.save(old, ckpt)
    with caplog.at_level("WARNING", logger="phenoflow.ml.train"):
        h = train_classifier(_model(), train, val, cfg, checkpoint=ckpt, resume_key=KEY)
    assert h["resumed_from_epoch"] == 0
    assert "made by a different job (format changed" in caplog.text

    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(ValueError, match=r"not a phenoflow\.train"):
        train_classifier(_model(), train, val, cfg, checkpoint=foreign)
    assert foreign.exists()  # not ours: never deleted


def test_early_stopping_keeps_best_weights():
    train, val = _jets(256, seed=9), _jets(256, seed=10)
    val["labels"] = np.random.default_rng(11).integers(0, 2, 256)  # nothing to learn
    model = _model()
    cfg = _config(epochs=30, patience=1, learning_rate=1e-2)
    h = train_classifier(model, train, val, cfg)
    n = len(h["epoch"])
    assert h["stopped_early"]
    assert n < 30
    assert h["best_epoch"] == n - 1  # patience 1: stop at the first epoch without improvement
    assert h["val_loss"][-1] >= h["best_val_loss"] == min(h["val_loss"])
    p = predict(model, val, device="cpu").astype(np.float64)
    bce = -np.mean(val["labels"] * np.log(p) + (1 - val["labels"]) * np.log1p(-p))
    assert bce == pytest.approx(h["best_val_loss"], rel=1e-4)


def test_read_only_memmaps_are_accepted(tmp_path):
    data = _jets(128, seed=12)
    mm = {}
    for k, v in data.items():
        np.save(tmp_path / f"{k}.npy", v)
        mm[k] = np.load(tmp_path / f"{k}.npy", mmap_mode="r")
    h = train_classifier(_model(), mm, mm, _config(epochs=1))
    assert h["n_train"] == 128
    assert len(h["seconds_per_epoch"]) == 1
    assert predict(_model(), mm, device=torch.device("cpu")).shape == (128,)


def test_bad_inputs_name_the_problem():
    data = _jets(16, seed=13)
    with pytest.raises(KeyError, match="labels"):
        train_classifier(_model(), {"features": data["features"]}, data, _config())
    short = {**data, "mask": data["mask"][:8]}
    with pytest.raises(ValueError, match=r"train\['mask'\]"):
        train_classifier(_model(), short, data, _config())
    with pytest.raises(ValueError, match="lr_schedule"):
        TrainConfig(lr_schedule="linear")


# --------------------------------------------------------------------------------------------
# per-event weights and model penalties


def test_unit_weights_equal_no_weights():
    train, val = _jets(256, seed=17), _jets(128, seed=18)
    ref, got = _model(), _model()
    h_ref = train_classifier(ref, train, val, _config(epochs=2))
    weighted = {**train, "weights": np.ones(256)}
    h = train_classifier(got, weighted, {**val, "weights": np.ones(128)}, _config(epochs=2))
    for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert h[k] == pytest.approx(h_ref[k], rel=1e-6), k
    for k, v in ref.state_dict().items():
        torch.testing.assert_close(got.state_dict()[k], v, rtol=1e-5, atol=1e-6)
    assert "penalty" not in h  # a model without penalty(): the history keeps its keys


def test_zero_weights_equal_training_on_the_other_events():
    # one batch per epoch: the zero-weight events change neither the loss nor the gradient
    train, val = _jets(256, seed=19), _jets(128, seed=20)
    keep_train, keep_val = np.arange(256) % 2 == 0, np.arange(128) < 64
    half_train = {k: v[keep_train] for k, v in train.items()}
    half_val = {k: v[keep_val] for k, v in val.items()}
    cfg = _config(epochs=3, batch_size=256)
    ref, got = _model(), _model()
    h_ref = train_classifier(ref, half_train, half_val, cfg)
    train_w = {**train, "weights": keep_train.astype(np.float64)}
    val_w = {**val, "weights": 3.0 * keep_val}  # the scale of the weights drops out
    h = train_classifier(got, train_w, val_w, cfg)
    assert h["train_loss"][0] == pytest.approx(h_ref["train_loss"][0], rel=1e-6)
    assert h["train_loss"] == pytest.approx(h_ref["train_loss"], rel=1e-4)
    assert h["val_loss"] == pytest.approx(h_ref["val_loss"], rel=1e-4)
    assert h["val_accuracy"] == pytest.approx(h_ref["val_accuracy"])
    # and the weighted validation BCE is sum w * bce / sum w of the returned model
    p = predict(got, val, device="cpu").astype(np.float64)
    y, w = val["labels"], val_w["weights"]
    bce = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    assert np.sum(w * bce) / np.sum(w) == pytest.approx(h["best_val_loss"], rel=1e-5)


def test_bad_weights_name_the_problem():
    data = _jets(16, seed=21)
    with pytest.raises(ValueError, match=r"train\['weights'\] must have shape \(16,\)"):
        train_classifier(_model(), {**data, "weights": np.ones(8)}, data, _config())
    with pytest.raises(ValueError, match=r"val\['weights'\] must be >= 0"):
        train_classifier(_model(), data, {**data, "weights": -np.ones(16)}, _config())
    with pytest.raises(ValueError, match="positive sum"):
        train_classifier(_model(), {**data, "weights": np.zeros(16)}, data, _config())
    with pytest.raises(ValueError, match="finite"):
        train_classifier(_model(), {**data, "weights": np.full(16, np.nan)}, data, _config())


class _ConstantPenalty(torch.nn.Module):
    """A Deep Sets model whose penalty() is a constant: it shifts the loss, not the gradient."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.net, self.value = _model(), value

    def forward(self, inputs):
        return self.net(inputs)

    def penalty(self) -> torch.Tensor:
        return torch.tensor(self.value)


def test_penalty_enters_the_training_loss_only():
    train, val = _jets(256, seed=22), _jets(128, seed=23)
    reports: list[EpochReport] = []
    ref, got = _ConstantPenalty(0.0), _ConstantPenalty(2.5)
    h_ref = train_classifier(ref, train, val, _config(epochs=2))
    h = train_classifier(got, train, val, _config(epochs=2), callback=reports.append)
    assert h["penalty"] == pytest.approx([2.5, 2.5])
    assert h_ref["penalty"] == [0.0, 0.0]
    assert [r.penalty for r in reports] == h["penalty"]
    assert np.subtract(h["train_loss"], h_ref["train_loss"]) == pytest.approx([2.5, 2.5])
    assert h["val_loss"] == h_ref["val_loss"]  # early stopping never sees the penalty
    _assert_same_weights(ref, got)


def test_l2_penalty_pulls_its_weights_down():
    from phenoflow.ml.models.multimodal import make_multimodal

    rng = np.random.default_rng(24)
    kin = rng.normal(size=(256, 4)).astype(np.float32)
    data = {"kinematics": kin, "image": rng.random((256, 8, 8), dtype=np.float32),
            "labels": (kin[:, 0] > 0).astype(np.int64)}  # fmt: skip
    norms = {}
    for l2 in (0.0, 1.0):
        torch.manual_seed(0)
        model = make_multimodal("attention", 4, 8, l2=l2, l2_on="all", dropout=0.0)
        h = train_classifier(model, data, data, _config(epochs=2),
                             input_keys=("kinematics", "image"))  # fmt: skip
        norms[l2] = float(model.attention_layer.weight.detach().square().sum())
        assert len(h["penalty"]) == 2
    assert h["penalty"][-1] > 0
    assert norms[1.0] < 0.8 * norms[0.0]
