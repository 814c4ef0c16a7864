"""Deep Sets / PFN: shapes, permutation invariance, padding invariance."""

import torch

from phenoflow.ml.models.deepsets import make_deepsets


def _model() -> torch.nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return make_deepsets().eval()


def _jets(b: int = 6, n: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(b, n, 13, generator=gen)
    mask = torch.rand(b, n, generator=gen) < 0.7
    mask[:, 0] = True
    mask[-1] = False  # a jet with no particles at all
    return x, mask


def test_shape_and_layer_widths():
    model = _model()
    x, mask = _jets()
    out = model({"features": x, "mask": mask, "ignored": torch.zeros(1)})
    assert out.shape == (6,)
    assert out.dtype == torch.float32
    widths = [m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [100, 100, 128, 100, 100, 1]


def test_permutation_invariance():
    model = _model()
    x, mask = _jets()
    perm = torch.randperm(x.shape[1], generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        a = model({"features": x, "mask": mask})
        b = model({"features": x[:, perm], "mask": mask[:, perm]})
    # only the order of the floating-point sum changes
    torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)


def test_padding_changes_nothing():
    model = _model()
    x, mask = _jets()
    with torch.no_grad():
        ref = model({"features": x, "mask": mask})
        # garbage (even non-finite) in padded slots
        junk = torch.where(mask[..., None], x, torch.full_like(x, float("nan")))
        junk[:, :, 0] = torch.where(mask, junk[:, :, 0], torch.inf)
        out = model({"features": junk, "mask": mask})
        # extra padded slots
        pad = torch.full((x.shape[0], 5, 13), 1e6)
        longer = model(
            {
                "features": torch.cat([x, pad], dim=1),
                "mask": torch.cat([mask, torch.zeros(x.shape[0], 5, dtype=torch.bool)], dim=1),
            }
        )
    torch.testing.assert_close(out, ref, rtol=0, atol=0)
    torch.testing.assert_close(longer, ref, rtol=1e-6, atol=1e-6)


def test_gradients_stay_finite_with_nan_padding():
    model = _model().train()
    x, mask = _jets()
    x = torch.where(mask[..., None], x, torch.nan)
    model({"features": x, "mask": mask}).sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())
