"""Tests of the MLP-Mixer tagger with subjet cross-attention (arXiv:2404.14677)."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from phenoflow.ml.models.mixer import make_mixer

N_PARTICLES = 128
N_SUBJETS = 10
ATOL = 1e-5


def make_inputs(
    n_real: list[int],
    n_real_subjets: list[int],
    seed: int = 0,
    n_slots: int = 100,
    n_subjet_slots: int = N_SUBJETS,
) -> dict[str, Tensor]:
    """Random jets in the common tagger format; padded slots hold zeros."""
    gen = torch.Generator().manual_seed(seed)
    batch = len(n_real)
    mask = torch.arange(n_slots)[None, :] < torch.tensor(n_real)[:, None]
    subjet_mask = torch.arange(n_subjet_slots)[None, :] < torch.tensor(n_real_subjets)[:, None]
    features = torch.randn(batch, n_slots, 13, generator=gen) * mask[..., None]
    subjet_features = torch.randn(batch, n_subjet_slots, 6, generator=gen) * subjet_mask[..., None]
    p4 = torch.randn(batch, n_slots, 4, generator=gen).abs() * 50.0 * mask[..., None]
    return {
        "features": features,
        "mask": mask,
        "p4": p4,
        "subjet_features": subjet_features,
        "subjet_mask": subjet_mask,
    }


def append_padding(
    inputs: dict[str, Tensor], n_extra: int, n_extra_subjets: int, seed: int = 1
) -> dict[str, Tensor]:
    """The same jets with extra padded particle/subjet slots holding garbage values."""
    gen = torch.Generator().manual_seed(seed)
    batch = inputs["mask"].shape[0]

    def garbage(*shape: int) -> Tensor:
        return 1e3 * torch.randn(*shape, generator=gen)

    return {
        "features": torch.cat([inputs["features"], garbage(batch, n_extra, 13)], dim=1),
        "mask": torch.cat([inputs["mask"], torch.zeros(batch, n_extra, dtype=torch.bool)], 1),
        "p4": torch.cat([inputs["p4"], garbage(batch, n_extra, 4)], dim=1),
        "subjet_features": torch.cat(
            [inputs["subjet_features"], garbage(batch, n_extra_subjets, 6)], dim=1
        ),
        "subjet_mask": torch.cat(
            [inputs["subjet_mask"], torch.zeros(batch, n_extra_subjets, dtype=torch.bool)], 1
        ),
    }


@pytest.fixture
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return make_mixer().eval()


@pytest.fixture
def inputs() -> dict[str, Tensor]:
    return make_inputs(n_real=[30, 7, 100, 1, 64], n_real_subjets=[3, 1, 10, 0, 2])


def test_output_shape_and_finite(model: torch.nn.Module, inputs: dict[str, Tensor]) -> None:
    out = model(inputs)
    assert out.shape == (5,)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_parameter_count_at_defaults(model: torch.nn.Module) -> None:
    n_params = sum(p.numel() for p in model.parameters())
    assert 60_000 <= n_params <= 100_000
    assert n_params == 85_825  # recorded; update deliberately if the architecture changes


def test_garbage_in_padded_particle_slots_changes_nothing(
    model: torch.nn.Module, inputs: dict[str, Tensor]
) -> None:
    dirty = dict(inputs)
    padded = ~inputs["mask"][..., None]
    gen = torch.Generator().manual_seed(4)
    garbage = 1e3 * torch.randn(inputs["features"].shape, generator=gen)
    dirty["features"] = torch.where(padded, garbage, 0.0)
    dirty["features"] = dirty["features"] + inputs["features"]
    dirty["features"][0, -1, 0] = float("nan")  # even NaN padding is harmless
    torch.testing.assert_close(model(dirty), model(inputs), atol=ATOL, rtol=0.0)


@pytest.mark.parametrize("n_extra", [28, 60])  # up to n_particles, and beyond (truncated)
def test_appended_padded_particles_change_nothing(
    model: torch.nn.Module, inputs: dict[str, Tensor], n_extra: int
) -> None:
    padded = append_padding(inputs, n_extra=n_extra, n_extra_subjets=0)
    torch.testing.assert_close(model(padded), model(inputs), atol=ATOL, rtol=0.0)


def test_appended_padded_subjets_change_nothing(
    model: torch.nn.Module, inputs: dict[str, Tensor]
) -> None:
    padded = append_padding(inputs, n_extra=0, n_extra_subjets=5)
    torch.testing.assert_close(model(padded), model(inputs), atol=ATOL, rtol=0.0)


def test_permuting_real_subjets_changes_nothing(
    model: torch.nn.Module, inputs: dict[str, Tensor]
) -> None:
    gen = torch.Generator().manual_seed(3)
    permuted = dict(inputs)
    order = torch.stack([torch.randperm(N_SUBJETS, generator=gen) for _ in range(5)])
    # permute all slots (real and padded together): masks move with their features
    permuted["subjet_features"] = torch.take_along_dim(
        inputs["subjet_features"], order[..., None], dim=1
    )
    permuted["subjet_mask"] = torch.take_along_dim(inputs["subjet_mask"], order, dim=1)
    assert not torch.equal(permuted["subjet_mask"], inputs["subjet_mask"])
    torch.testing.assert_close(model(permuted), model(inputs), atol=ATOL, rtol=0.0)
    # the attention map is equivariant: its subjet columns move with the subjets
    torch.testing.assert_close(
        model.attention_map(permuted),
        torch.take_along_dim(model.attention_map(inputs), order[:, None, :], dim=2),
        atol=ATOL,
        rtol=0.0,
    )


def test_permuting_constituents_is_not_invariant(
    model: torch.nn.Module, inputs: dict[str, Tensor]
) -> None:
    """Documents the known limitation: token mixing relies on the canonical pT order."""
    swapped = dict(inputs)
    order = torch.arange(100)
    order[[0, 1]] = order[[1, 0]]
    swapped["features"] = inputs["features"][:, order]
    assert not torch.allclose(model(swapped)[0], model(inputs)[0], atol=1e-4)


def test_jet_without_subjets_is_finite_and_ignores_subjet_garbage(
    model: torch.nn.Module,
) -> None:
    jets = make_inputs(n_real=[20, 20], n_real_subjets=[0, 0])
    jets["features"][1] = jets["features"][0]  # the same jet twice ...
    gen = torch.Generator().manual_seed(5)
    jets["subjet_features"][1] = 1e3 * torch.randn(N_SUBJETS, 6, generator=gen)  # ... + garbage
    out = model(jets)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[1], out[0], atol=ATOL, rtol=0.0)
    assert torch.equal(model.attention_map(jets), torch.zeros(2, 100, N_SUBJETS))


def test_jet_without_constituents_is_finite(model: torch.nn.Module) -> None:
    assert torch.isfinite(model(make_inputs(n_real=[0, 5], n_real_subjets=[2, 0]))).all()


def test_attention_map_rows_sum_to_one_over_real_subjets(
    model: torch.nn.Module, inputs: dict[str, Tensor]
) -> None:
    attention = model.attention_map(inputs)
    assert attention.shape == (5, 100, N_SUBJETS)
    assert (attention >= 0).all()
    mask, subjet_mask = inputs["mask"], inputs["subjet_mask"]
    assert (attention * ~subjet_mask[:, None, :]).abs().max() == 0.0
    row_sums = attention.sum(dim=-1)
    has_subjets = subjet_mask.any(dim=1)[:, None]
    expected = (mask & has_subjets).float()
    torch.testing.assert_close(row_sums, expected, atol=ATOL, rtol=0.0)


def test_gradients_reach_every_parameter(inputs: dict[str, Tensor]) -> None:
    torch.manual_seed(0)
    net = make_mixer(dropout=0.1).train()
    target = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0])
    loss = torch.nn.functional.binary_cross_entropy_with_logits(net(inputs), target)
    loss.backward()
    for name, param in net.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_seeded_initialisation_is_reproducible(inputs: dict[str, Tensor]) -> None:
    torch.manual_seed(7)
    first = make_mixer().eval()
    torch.manual_seed(7)
    second = make_mixer().eval()
    torch.manual_seed(8)
    other = make_mixer().eval()
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert torch.equal(first(inputs), second(inputs))
    assert not torch.equal(first(inputs), other(inputs))


def test_bad_inputs_raise_helpful_errors(model: torch.nn.Module) -> None:
    jets = make_inputs(n_real=[3], n_real_subjets=[1])
    with pytest.raises(KeyError, match="subjet_mask"):
        model({k: v for k, v in jets.items() if k != "subjet_mask"})
    jets["features"] = jets["features"][..., :12]
    with pytest.raises(ValueError, match=r"features.*expected 13"):
        model(jets)
    with pytest.raises(ValueError, match="divisible"):
        make_mixer(dim=50, n_heads=4)
