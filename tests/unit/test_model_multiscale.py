"""The multi-scale cross-attention encoder, its ablation, the kinematics MLP and two-jet ParT."""

import numpy as np
import pytest
import torch

from phenoflow.ml.models.multiscale import (
    MULTISCALE_KINDS,
    MULTISCALE_OPTIONS,
    build_multiscale,
    count_parameters,
    make_multiscale,
    make_two_jet_part,
    multiscale_input_keys,
    two_jet_part_inputs,
)
from phenoflow.ml.models.part import make_part
from phenoflow.ml.train import TrainConfig, predict, train_classifier

F, FK, K = 13, 7, 16
ATOL = 1e-6  # float32 summation order; padding that is trimmed gives exactly 0
# (kind, options) -> parameters with the default sizes
PINNED_COUNTS = {
    ("multiscale", "kin_to_jets"): 140_417,
    ("multiscale", "both"): 165_505,
    ("concat", "kin_to_jets"): 114_945,
    ("kinematics_mlp", "kin_to_jets"): 18_817,
}


def _batch(b: int = 6, n1: int = 10, n2: int = 8, t: int = 5, seed: int = 0) -> dict:
    """Random two-jet inputs; every event has at least one real slot of each kind."""
    g = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for name, n, f in (("jet1", n1, F), ("jet2", n2, F), ("kin", t, FK)):
        counts = torch.randint(1, n + 1, (b,), generator=g)
        counts[0] = n  # some event fills every slot
        mask = torch.arange(n)[None, :] < counts[:, None]
        x = torch.randn(b, n, f, generator=g)
        if name == "kin":
            out["kin_tokens"], out["kin_mask"] = x, mask
        else:
            out[f"{name}_features"], out[f"{name}_mask"] = x, mask
            p4 = torch.randn(b, n, 4, generator=g) * 20
            p4[..., 3] = p4[..., :3].norm(dim=-1) + torch.rand(b, n, generator=g)
            out[f"{name}_p4"] = p4
    out["kinematics"] = torch.randn(b, K, generator=g)
    out["mass"] = torch.full((b,), 1000.0)
    return out


def _model(kind: str = "multiscale", seed: int = 0, **options) -> torch.nn.Module:
    return make_multiscale(kind, F, FK, K, seed=seed, **options).eval()


def _pad(x: dict, key: str, mask_key: str, extra: int, fill: float, front: bool = False) -> dict:
    """Add `extra` padded slots holding `fill` (NaN welcome) to one token set, after the
    others or, with `front`, before them (where trimming trailing padding cannot drop them)."""
    out = dict(x)
    f = x[key]
    pad = torch.full((f.shape[0], extra, f.shape[2]), fill)
    no = torch.zeros(f.shape[0], extra, dtype=bool)
    out[key] = torch.cat((pad, f) if front else (f, pad), dim=1)
    out[mask_key] = torch.cat((no, x[mask_key]) if front else (x[mask_key], no), dim=1)
    return out


TRANSFORMERS = [("multiscale", {}), ("multiscale", {"cross": "both"}), ("concat", {})]
IDS = ["multiscale", "multiscale-both", "concat"]


def test_stream_shapes_and_output():
    model = _model(dim=32, n_heads=4)
    x = _batch(b=6, n1=10, n2=8, t=5)
    s = model.streams(x)
    assert s["jet1"].shape == (6, 10, 32)
    assert s["jet2"].shape == (6, 8, 32)
    assert s["kin"].shape == (6, 5, 32)
    # padded tokens are exactly zero in every stream
    for name in ("jet1", "jet2", "kin"):
        assert torch.all(s[name][~s[f"{name}_mask"]] == 0)
    for kind, options in TRANSFORMERS:
        assert _model(kind, **options)(x).shape == (6,)
    assert _model("kinematics_mlp")(x).shape == (6,)


@pytest.mark.parametrize(("kind", "options"), TRANSFORMERS, ids=IDS)
def test_padding_with_garbage_changes_nothing(kind, options):
    model = _model(kind, **options)
    x = _batch()
    with torch.no_grad():
        ref = model(x)
        # garbage in already-padded slots
        y = dict(x)
        for key, mask in (("jet1_features", "jet1_mask"), ("kin_tokens", "kin_mask")):
            y[key] = torch.where(x[mask][..., None], x[key], torch.tensor(1e4))
        assert torch.allclose(model(y), ref, rtol=0, atol=ATOL)
        # extra padded slots holding NaN or large values, after and before the real ones
        for front in (False, True):
            y = _pad(x, "jet1_features", "jet1_mask", 7, float("nan"), front)
            y = _pad(y, "jet2_features", "jet2_mask", 3, 1e6, front)
            y = _pad(y, "kin_tokens", "kin_mask", 4, float("nan"), front)
            out = model(y)
            assert torch.isfinite(out).all()
            assert torch.allclose(out, ref, rtol=0, atol=ATOL)


@pytest.mark.parametrize(("kind", "options"), TRANSFORMERS, ids=IDS)
def test_reordering_constituents_and_tokens_leaves_prediction_unchanged(kind, options):
    model = _model(kind, **options)
    x = _batch()
    g = torch.Generator().manual_seed(5)
    y = dict(x)
    for key, mask in (
        ("jet1_features", "jet1_mask"),
        ("jet2_features", "jet2_mask"),
        ("kin_tokens", "kin_mask"),
    ):
        perm = torch.randperm(x[mask].shape[1], generator=g)
        y[key], y[mask] = x[key][:, perm], x[mask][:, perm]
    with torch.no_grad():
        assert torch.allclose(model(y), model(x), rtol=0, atol=ATOL)


def _swap_jets(x: dict) -> dict:
    y = dict(x)
    for name in ("features", "mask", "p4"):
        y[f"jet1_{name}"], y[f"jet2_{name}"] = x[f"jet2_{name}"], x[f"jet1_{name}"]
    return y


@pytest.mark.parametrize(("kind", "options"), TRANSFORMERS, ids=IDS)
def test_jet_swap_is_not_a_symmetry_but_a_weight_relabelling(kind, options):
    """Jets come pT-ordered; swapping them changes the output, and swapping the jet identity
    embeddings and the head's jet 1 / jet 2 input columns undoes exactly that."""
    model = _model(kind, dim=32, **options)
    x = _batch(n1=9, n2=9)
    swapped = _swap_jets(x)
    with torch.no_grad():
        ref = model(x)
        assert (model(swapped) - ref).abs().max() > 1e-4
        if kind == "multiscale":
            model.jet_identity.copy_(model.jet_identity.flip(0))
        w = model.head[0].weight  # columns: [kin (32), jet 1 (32), jet 2 (32)]
        w.copy_(torch.cat((w[:, :32], w[:, 64:96], w[:, 32:64]), dim=1))
        assert torch.allclose(model(swapped), ref, rtol=0, atol=ATOL)


@pytest.mark.parametrize("cross", ["kin_to_jets", "both"])
def test_cross_attention_weights_are_a_distribution_over_real_constituents(cross):
    model = _model(cross=cross, n_cross_blocks=2)
    x = _pad(_batch(b=5, n1=10, n2=8, t=5), "jet2_features", "jet2_mask", 3, 7.0)
    keys = torch.cat((x["jet1_mask"], x["jet2_mask"]), dim=1)  # (B, 21)
    for block in (0, 1, -1):
        with torch.no_grad():
            w = model.cross_attention(x, block=block)
        assert w.shape == (5, 4, 5, 21)
        assert torch.all(w >= 0)
        assert torch.all(w.masked_select(~keys[:, None, None, :]) == 0)
        sums = w.sum(-1)  # (B, H, T)
        real = x["kin_mask"][:, None, :].expand_as(sums)
        torch.testing.assert_close(sums[real], torch.ones(int(real.sum())))
        assert torch.all(sums[~real] == 0)
    with pytest.raises(IndexError, match="cross block 2"):
        model.cross_attention(x, block=2)
    with pytest.raises(ValueError, match="'multiscale' kind"):
        _model("concat").cross_attention(x)


def test_an_event_with_empty_jets_gives_a_finite_output():
    model = _model(cross="both")
    x = _batch()
    x["jet1_mask"][1] = False
    x["jet2_mask"][1] = False
    x["jet1_features"][1] = float("nan")
    with torch.no_grad():
        assert torch.isfinite(model(x)).all()
        w = model.cross_attention(x)
    assert torch.all(w[1] == 0)


@pytest.mark.parametrize(("kind", "cross"), sorted(PINNED_COUNTS))
def test_parameter_counts_are_pinned_and_cpu_sized(kind, cross):
    n = count_parameters(make_multiscale(kind, F, FK, K, cross=cross))
    assert n == PINNED_COUNTS[kind, cross]
    if kind != "kinematics_mlp":
        assert 50_000 <= n <= 170_000
    # the parameterised head reads one more input
    extra = count_parameters(make_multiscale(kind, F, FK, K, cross=cross, parameterised=True))
    assert extra - n == (64 if kind != "kinematics_mlp" else 128)


def test_seeded_construction_is_reproducible_and_leaves_the_global_generator_alone():
    state = torch.get_rng_state()
    a = make_multiscale("multiscale", seed=3).state_dict()
    assert torch.equal(torch.get_rng_state(), state)
    b = make_multiscale("multiscale", seed=3).state_dict()
    c = make_multiscale("multiscale", seed=4).state_dict()
    assert list(a) == list(b)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("kind", MULTISCALE_KINDS)
def test_parameterised_output_depends_on_the_mass(kind):
    model = _model(kind, parameterised=True)
    assert "mass" in model.input_keys
    x = _batch()
    with torch.no_grad():
        light = model(x)
        heavy = model({**x, "mass": torch.full((6,), 2500.0)})
    assert (light - heavy).abs().min() > 0
    with pytest.raises(KeyError, match="'mass'"):
        model({k: v for k, v in x.items() if k != "mass"})
    # the unparameterised model ignores it
    plain = _model(kind)
    with torch.no_grad():
        assert torch.equal(plain(x), plain({**x, "mass": torch.zeros(6)}))


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"unknown multiscale kind 'transformer'.*concat"):
        make_multiscale("transformer")
    with pytest.raises(ValueError, match="unknown multiscale kind 'mlp'"):
        build_multiscale("mlp", {})
    with pytest.raises(ValueError, match=r"unknown multiscale option\(s\) \['width'\].*n_heads"):
        build_multiscale("multiscale", {"width": 3})
    with pytest.raises(ValueError, match="cross='sideways'"):
        make_multiscale("multiscale", cross="sideways")
    with pytest.raises(ValueError, match="dim=30"):
        make_multiscale("multiscale", dim=30, n_heads=4)
    model = _model()
    x = _batch()
    with pytest.raises(KeyError, match="'kin_tokens'"):
        model({k: v for k, v in x.items() if k != "kin_tokens"})
    with pytest.raises(ValueError, match=r"'jet2_features' must be \(B, L, 13\)"):
        model({**x, "jet2_features": x["jet2_features"][..., :5]})
    with pytest.raises(ValueError, match="'jet1_mask' must be bool"):
        model({**x, "jet1_mask": x["jet1_mask"].float()})
    with pytest.raises(ValueError, match="'kinematics' must be"):
        _model("kinematics_mlp")({"kinematics": torch.zeros(3, 4)})
    assert set(MULTISCALE_OPTIONS) >= {"dim", "n_heads", "cross", "parameterised", "dropout"}
    assert build_multiscale("concat", {"dim": 32}).head[0].in_features == 96


def test_two_jet_part_equals_part_on_the_concatenated_arrays():
    options = {"embed_dims": (16, 16), "pair_embed_dims": (8,), "n_heads": 2, "n_blocks": 1}
    torch.manual_seed(0)
    wrapped = make_two_jet_part(**options).eval()
    torch.manual_seed(0)
    part = make_part(**options).eval()
    x = _batch(b=4, n1=6, n2=5)
    joint = two_jet_part_inputs(x)
    assert joint["features"].shape == (4, 11, F)
    assert torch.equal(joint["mask"][:, 6:], x["jet2_mask"])
    assert torch.equal(joint["p4"][:, :6], x["jet1_p4"])
    with torch.no_grad():
        assert torch.equal(wrapped(x), part(joint))
    as_numpy = two_jet_part_inputs({k: v.numpy() for k, v in x.items()})
    assert isinstance(as_numpy["features"], np.ndarray)
    np.testing.assert_array_equal(as_numpy["features"], joint["features"].numpy())
    with pytest.raises(KeyError, match="jet2_p4"):
        two_jet_part_inputs({k: v for k, v in x.items() if k != "jet2_p4"})


def _separable(n: int, seed: int) -> dict[str, np.ndarray]:
    """Signal shifts constituent feature 0, token feature 1 and kinematics[:, 0] by 1.5 (4.5)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    shift = 1.5 * labels.astype(np.float32)
    data = {k: v.numpy() for k, v in _batch(b=n, n1=8, n2=8, t=4, seed=seed).items()}
    data["jet1_features"][..., 0] += shift[:, None]
    data["jet2_features"][..., 0] += shift[:, None]
    data["kin_tokens"][..., 1] += shift[:, None]
    data["kinematics"][:, 0] += 3 * shift
    data["labels"] = labels
    return data


def _train(kind: str, seed: int = 0) -> tuple[torch.nn.Module, dict]:
    model = make_multiscale(kind, F, FK, K, dim=16, n_heads=2, n_blocks=1, seed=seed)
    config = TrainConfig(
        epochs=8, batch_size=64, learning_rate=1e-2, device="cpu", progress_bar=False,
        num_threads=1, patience=10,
    )  # fmt: skip
    history = train_classifier(
        model, _separable(512, 1), _separable(256, 2), config, input_keys=model.input_keys
    )
    return model, history


@pytest.mark.parametrize("kind", MULTISCALE_KINDS)
def test_a_separable_set_is_learned(kind):
    model, history = _train(kind)
    assert history["val_accuracy"][-1] > 0.9
    test = _separable(256, 3)
    p = predict(model, test, device="cpu", input_keys=multiscale_input_keys(kind))
    assert np.mean((p > 0.5) == (test["labels"] == 1)) > 0.9


def test_seeded_training_is_reproducible():
    a, ha = _train("multiscale", seed=7)
    b, hb = _train("multiscale", seed=7)
    assert ha["train_loss"] == hb["train_loss"]
    assert ha["val_loss"] == hb["val_loss"]
    sa, sb = a.state_dict(), b.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
