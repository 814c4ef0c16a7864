"""The small torch MLP that learns where the target is: a classifier or a regressor.

Inputs are the scan parameters mapped to [-1, 1]^d by the box bounds.  The network is
built from an explicit ``torch.Generator`` and every minibatch is drawn from it, so a
given seed gives bit-identical weights on CPU (with a fixed number of torch threads).
Training is warm-started: each :meth:`Surrogate.fit` continues from the previous weights
and optimiser state with a fixed number of steps, so the cost per iteration does not grow
with the number of evaluated points.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.special import expit
from torch import nn

from phenoflow.ml.models.mlp import mlp

MODEL_KINDS = ("classifier", "regressor")


class FourierFeatures(nn.Module):
    """(B, d) in [-1, 1]^d -> (B, 2m): [sin(pi u W), cos(pi u W)] with fixed W (d, m).

    W ~ N(0, scale^2) (random Fourier features, Tancik et al. 2020, arXiv:2006.10739):
    they let a small MLP learn sharp, thin structures (narrow shells) that a plain MLP on
    raw coordinates smooths over.  ``scale`` 1 means wavelengths of about the box width.
    """

    weight: torch.Tensor  # (d, m), a buffer

    def __init__(self, d_in: int, m: int, scale: float, generator: torch.Generator) -> None:
        super().__init__()
        self.register_buffer("weight", scale * torch.randn(d_in, m, generator=generator))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        z = math.pi * (u @ self.weight)
        return torch.cat([torch.sin(z), torch.cos(z)], dim=-1)


def make_mlp(
    d_in: int,
    hidden: tuple[int, ...],
    generator: torch.Generator,
    fourier_features: int = 0,
    fourier_scale: float = 1.0,
) -> nn.Sequential:
    """MLP (B, d_in) -> (B, 1): [Fourier features], Linear+SiLU blocks ``hidden``, Linear.

    With ``fourier_features`` m > 0 the inputs first go through :class:`FourierFeatures`
    (2m outputs).  Weights are drawn from ``generator`` (PyTorch's default Linear
    initialisation: Kaiming-uniform weights, uniform biases of scale 1/sqrt(fan_in)).
    """
    head: list[nn.Module] = []
    if fourier_features > 0:
        head.append(FourierFeatures(d_in, fourier_features, fourier_scale, generator))
        d_in = 2 * fourier_features
    net = mlp(d_in, (*hidden, 1), activation=nn.SiLU, head=head)
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
                bound = 1.0 / math.sqrt(layer.in_features)
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return net


class Surrogate:
    """Classifier (in target or not) or regressor (the score) on normalised parameters.

    ``bounds`` (d, 2) maps parameters to [-1, 1]^d.  ``fit`` takes (n, d) parameters and
    (n,) labels (classifier: bool) or scores (regressor: float); ``predict`` returns (n,)
    probabilities in [0, 1] (classifier) or predicted scores (regressor).
    """

    def __init__(
        self,
        kind: str,
        bounds: np.ndarray,
        hidden: tuple[int, ...],
        learning_rate: float,
        batch_size: int,
        train_steps: int,
        max_class_weight: float,
        generator: torch.Generator,
        fourier_features: int = 0,
        fourier_scale: float = 1.0,
    ) -> None:
        if kind not in MODEL_KINDS:
            raise ValueError(f"unknown model {kind!r}; expected one of {MODEL_KINDS}")
        self.kind = kind
        self.low = torch.as_tensor(bounds[:, 0], dtype=torch.float32)
        self.span = torch.as_tensor(bounds[:, 1] - bounds[:, 0], dtype=torch.float32)
        self.batch_size = batch_size
        self.train_steps = train_steps
        self.max_class_weight = max_class_weight
        self.generator = generator
        self.net = make_mlp(len(bounds), hidden, generator, fourier_features, fourier_scale)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=learning_rate)
        self.y_mean, self.y_std = 0.0, 1.0
        self.last_loss = math.nan

    def _inputs(self, x: np.ndarray) -> torch.Tensor:
        xt = torch.as_tensor(x, dtype=torch.float32)
        return 2.0 * (xt - self.low) / self.span - 1.0

    def fit(self, x: np.ndarray, y: np.ndarray) -> float:
        """``train_steps`` Adam steps on (n, d) ``x`` and (n,) ``y``; return the mean loss."""
        xt = self._inputs(x)
        weight: torch.Tensor | None = None
        if self.kind == "classifier":
            yt = torch.as_tensor(np.asarray(y, dtype=np.float32))
            n_pos = float(yt.sum())
            n_neg = len(yt) - n_pos
            # balance the classes (either may be the rare one: in-target points are rare
            # at first, out-of-target ones once the scan is efficient), with the weight
            # ratio capped so that a handful of points cannot dominate
            ratio = n_neg / n_pos if n_pos > 0 and n_neg > 0 else 1.0
            ratio = min(max(ratio, 1.0 / self.max_class_weight), self.max_class_weight)
            weight = torch.where(yt > 0, torch.tensor(ratio**0.5), torch.tensor(ratio**-0.5))
            loss_fn: nn.Module = nn.BCEWithLogitsLoss(reduction="none")
        else:
            y64 = np.asarray(y, dtype=np.float64)
            self.y_mean = float(y64.mean())
            self.y_std = float(y64.std()) or 1.0
            yt = torch.as_tensor(((y64 - self.y_mean) / self.y_std).astype(np.float32))
            loss_fn = nn.MSELoss(reduction="none")
        n = len(xt)
        batch = min(self.batch_size, n)
        total = 0.0
        self.net.train()
        for _ in range(self.train_steps):
            idx = torch.randint(n, (batch,), generator=self.generator)
            self.optimizer.zero_grad(set_to_none=True)
            per_point = loss_fn(self.net(xt[idx]).squeeze(-1), yt[idx])
            loss = (per_point * weight[idx]).mean() if weight is not None else per_point.mean()
            loss.backward()
            self.optimizer.step()
            total += float(loss.detach())
        self.last_loss = total / max(self.train_steps, 1)
        return self.last_loss

    @torch.no_grad()
    def predict(self, x: np.ndarray, chunk: int = 65536) -> np.ndarray:
        """(n,) float64: probability of being in target, or the predicted score."""
        self.net.eval()
        out = []
        for i in range(0, len(x), chunk):
            out.append(self.net(self._inputs(x[i : i + chunk])).squeeze(-1))
        z = torch.cat(out).double().numpy() if out else np.zeros(0)
        if self.kind == "classifier":
            return expit(z)
        return z * self.y_std + self.y_mean
