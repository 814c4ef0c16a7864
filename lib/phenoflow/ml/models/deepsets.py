"""Deep Sets / Particle Flow Network (Komiske, Metodiev, Thaler, arXiv:1810.05165).

A per-particle network Φ maps each particle's features to a latent vector; the latent
vectors of the real (unmasked) particles are summed; a network F maps the sum to one
logit.  The sum makes the output invariant under any permutation of the particles, and
padded particles contribute exactly zero whatever their (even non-finite) features.

Defaults follow the PFN of the paper: Φ = 100-100-128, F = 100-100, ReLU after every
hidden layer including Φ's last (as in the ``energyflow`` package), linear output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from phenoflow.ml.models.mlp import mlp


class DeepSets(nn.Module):
    """Particle Flow Network; build it with :func:`make_deepsets`."""

    def __init__(self, n_features: int, phi_sizes: Sequence[int], f_sizes: Sequence[int]):
        super().__init__()
        if not phi_sizes:
            raise ValueError("phi_sizes must name at least one layer width")
        self.n_features = n_features
        self.phi = mlp(n_features, phi_sizes, activation=nn.ReLU, final_activation=True)
        self.f = mlp(phi_sizes[-1], [*f_sizes, 1], activation=nn.ReLU)

    def forward(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Logits for a batch of jets.

        Args:
            inputs: ``"features"`` (B, N, n_features) float per-particle features and
                ``"mask"`` (B, N) bool, True for real particles, False for padding.
                Other keys are ignored.

        Returns:
            (B,) logits (apply a sigmoid for the signal probability).
        """
        x, mask = inputs["features"], inputs["mask"]
        if x.ndim != 3 or x.shape[-1] != self.n_features:
            raise ValueError(
                f"'features' must have shape (B, N, {self.n_features}), got {tuple(x.shape)}"
            )
        if mask.shape != x.shape[:2]:
            raise ValueError(
                f"'mask' must have shape (B, N) = {tuple(x.shape[:2])}, got {tuple(mask.shape)}"
            )
        m = mask.to(torch.bool).unsqueeze(-1)  # (B, N, 1)
        # zero the padded inputs too, so non-finite padding cannot leak NaN into gradients
        x = torch.where(m, x, torch.zeros((), dtype=x.dtype, device=x.device))
        latent = self.phi(x)  # (B, N, L)
        latent = torch.where(m, latent, torch.zeros((), dtype=latent.dtype, device=x.device))
        return self.f(latent.sum(dim=1)).squeeze(-1)  # (B, L) -> (B,)


def make_deepsets(
    n_features: int = 13,
    phi_sizes: Sequence[int] = (100, 100, 128),
    f_sizes: Sequence[int] = (100, 100),
) -> DeepSets:
    """A Deep Sets / PFN jet classifier: {"features": (B, N, n_features), "mask": (B, N)} -> (B,).

    Weights are drawn from torch's global generator; seed it (or wrap the call in
    ``torch.random.fork_rng``) for reproducible initialisation.
    """
    return DeepSets(n_features, tuple(phi_sizes), tuple(f_sizes))
