"""The multi-modal attention classifier: shapes, attention, the L2 term, learning, seeding."""

import numpy as np
import pytest
import torch

from phenoflow.ml.models.multimodal import (
    L2_TARGETS,
    MULTIMODAL_KINDS,
    build_multimodal,
    make_multimodal,
)
from phenoflow.ml.train import TrainConfig, train_classifier

K, M = 5, 16
KEYS = ("kinematics", "image")


def _inputs(n: int, size: int, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "kinematics": torch.randn(n, K, generator=g),
        "image": torch.log1p(torch.rand(n, size, size, generator=g) * 10),
    }


def _model(kind: str = "attention", size: int = 16, seed: int = 0, **options) -> torch.nn.Module:
    torch.manual_seed(seed)
    return make_multimodal(kind, K, size, **options)


def _config(**kw) -> TrainConfig:
    base = {"epochs": 4, "batch_size": 64, "learning_rate": 3e-3, "device": "cpu"}
    return TrainConfig(**{**base, "progress_bar": False, "num_threads": 1, **kw})


def test_attention_scores_values_and_shares():
    model = _model().eval()
    x = _inputs(7, 16)
    att = model.attention(x)
    z = model.latents(x)
    a = att["scores"]
    assert z.shape == a.shape == att["values"].shape == (7, 2 * M)
    torch.testing.assert_close(a.sum(-1), torch.ones(7))
    torch.testing.assert_close(att["values"], z * a)
    shares = att["shares"]
    assert shares.shape == att["score_shares"].shape == (7, 2)
    assert torch.all((shares >= 0) & (shares <= 1))
    torch.testing.assert_close(shares.sum(-1), torch.ones(7))
    img = (z * a)[:, :M].abs().sum(-1) / (z * a).abs().sum(-1)
    torch.testing.assert_close(shares[:, 0], img)
    torch.testing.assert_close(att["score_shares"][:, 0], a[:, :M].sum(-1))
    torch.testing.assert_close(att["score_shares"].sum(-1), torch.ones(7))
    # the forward pass is the head applied to 2M * z * a
    torch.testing.assert_close(model(x), model.head(2 * M * att["values"]).squeeze(-1))
    with pytest.raises(ValueError, match="'attention' kind"):
        _model("concat").attention(x)


@pytest.mark.parametrize("l2_on", L2_TARGETS)
def test_l2_term_is_lambda_times_the_squared_weights_of_its_half(l2_on):
    w = _model(l2=0.0, l2_on=l2_on).attention_layer.weight.detach().double()
    by_hand = {
        "image": float(w[:, :M].square().sum()),
        "kinematics": float(w[:, M:].square().sum()),
        "all": float(w.square().sum()),
    }
    assert by_hand["image"] + by_hand["kinematics"] == pytest.approx(by_hand["all"])
    assert float(_model(l2=0.0, l2_on=l2_on).penalty().detach()) == 0.0
    for lam in (0.5, 1.0, 3.0):
        model = _model(l2=lam, l2_on=l2_on)  # same seed: same weights
        penalty = model.penalty()
        assert penalty.shape == ()
        assert float(penalty.detach()) == pytest.approx(lam * by_hand[l2_on], rel=1e-6)
    # the gradient reaches exactly the penalised columns of W, and never the bias
    penalty.backward()
    grad = model.attention_layer.weight.grad
    touched = {"image": slice(0, M), "kinematics": slice(M, 2 * M), "all": slice(0, 2 * M)}
    mask = torch.zeros(2 * M, dtype=torch.bool)
    mask[touched[l2_on]] = True
    assert torch.all(grad[:, mask] != 0)
    assert torch.all(grad[:, ~mask] == 0)
    assert model.attention_layer.bias.grad is None


@pytest.mark.parametrize("kind", ["kinematics", "image", "concat"])
def test_kinds_without_attention_have_zero_penalty(kind):
    assert float(_model(kind, l2=1.0).penalty().detach()) == 0.0


@pytest.mark.parametrize("size", [8, 16, 32, 50])
@pytest.mark.parametrize("kind", MULTIMODAL_KINDS)
def test_empty_images_give_finite_logits_and_gradients(kind, size):
    model = _model(kind, size, l2=0.1)
    x = _inputs(3, size)
    x["image"] = torch.zeros(3, size, size)
    logits = model(x)
    assert logits.shape == (3,)
    assert torch.all(torch.isfinite(logits))
    (logits.sum() + model.penalty()).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.all(torch.isfinite(p.grad)), name
    # (B, S, S) and (B, 1, S, S) are the same input
    model.eval()
    torch.testing.assert_close(model(x), model({**x, "image": x["image"][:, None]}))


def test_single_modality_kinds_ignore_the_other_input():
    x = _inputs(4, 16)
    kin, img = _model("kinematics").eval(), _model("image").eval()
    torch.testing.assert_close(kin(x), kin({"kinematics": x["kinematics"]}))
    torch.testing.assert_close(img(x), img({"image": x["image"]}))
    torch.testing.assert_close(img(x), img({**x, "kinematics": 100 + x["kinematics"]}))
    with pytest.raises(KeyError, match="'image'"):
        _model("concat")({"kinematics": x["kinematics"]})


def test_parameter_count_and_seeded_construction():
    a, b = _model(size=32, seed=3), _model(size=32, seed=3)
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k
    conv = (1 * 16 + 16 * 32 + 32 * 32) * 9 + (16 + 32 + 32)
    image_branch = conv + (32 * 4 * M + M)
    kin_branch = (K * 64 + 64) + (64 * M + M)
    attention = 2 * M * 2 * M + 2 * M
    head = (2 * M * 64 + 64) + (64 + 1)
    n = sum(p.numel() for p in a.parameters())
    assert n == image_branch + kin_branch + attention + head
    assert 10_000 < n < 50_000  # CPU-friendly


def test_build_from_options_and_errors_name_the_problem():
    torch.manual_seed(1)
    a = build_multimodal("attention", K, 16, {"latent": 8, "l2": 0.2, "l2_on": "kinematics"})
    b = _model(latent=8, l2=0.2, l2_on="kinematics", seed=1)
    assert a.state_dict().keys() == b.state_dict().keys()
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    with pytest.raises(ValueError, match=r"'transformer'.*'kinematics', 'image', 'concat'"):
        build_multimodal("transformer", K, 16)
    with pytest.raises(ValueError, match=r"'bias'.*'image', 'kinematics', 'all'"):
        build_multimodal("attention", K, 16, {"l2_on": "bias"})
    with pytest.raises(ValueError, match=r"\['width'\].*'latent'"):
        build_multimodal("attention", K, 16, {"width": 3})
    with pytest.raises(ValueError, match=r"image_size=4"):
        make_multimodal("image", K, 4)
    with pytest.raises(ValueError, match=r"l2=-1"):
        make_multimodal("attention", K, 16, l2=-1.0)
    with pytest.raises(ValueError, match=r"'image' must have shape \(B, 16, 16\)"):
        _model()(_inputs(2, 17))
    with pytest.raises(ValueError, match=r"'kinematics' must have shape \(B, 5\)"):
        _model()({**_inputs(2, 16), "kinematics": torch.zeros(2, 4)})


def _toy(n: int, size: int, seed: int, by: str) -> dict[str, np.ndarray]:
    """Events whose label is decided by the image's mean (brighter signal) or kinematics[:, 0]."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    kin = rng.normal(size=(n, K)).astype(np.float32)
    scale = 1.0 + (0.5 * labels if by == "image" else 0.0 * labels)
    image = np.log1p(rng.exponential(size=(n, size, size)) * scale[..., None, None])
    if by == "kinematics":
        kin[:, 0] = np.where(labels == 1, 1.0, -1.0) + 0.3 * kin[:, 0]
    return {"kinematics": kin, "image": image.astype(np.float32), "labels": labels}


@pytest.mark.parametrize(("kind", "by"), [("attention", "image"), ("attention", "kinematics"),
                                          ("image", "image"), ("kinematics", "kinematics")])  # fmt: skip
def test_learns_a_separable_toy(kind, by):
    train, val = _toy(512, 16, seed=1, by=by), _toy(256, 16, seed=2, by=by)
    model = _model(kind, 16, l2=1e-3)
    h = train_classifier(model, train, val, _config(epochs=8), input_keys=KEYS)
    assert max(h["val_accuracy"]) > 0.95
    assert h["penalty"][-1] > 0 if kind == "attention" else h["penalty"] == [0.0] * 8


def test_seeded_training_is_reproducible():
    train, val = _toy(256, 16, seed=3, by="image"), _toy(128, 16, seed=4, by="image")
    a, b = _model(l2=0.01), _model(l2=0.01)
    ha = train_classifier(a, train, val, _config(epochs=2), input_keys=KEYS)
    hb = train_classifier(b, train, val, _config(epochs=2), input_keys=KEYS)
    assert ha["train_loss"] == hb["train_loss"]
    assert ha["penalty"] == hb["penalty"]
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k
