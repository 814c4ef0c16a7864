"""Multi-modal event classifier with attention (Ban, Kong, Park, Park, arXiv:2311.16674).

An event is seen in two modalities: kinematics, a vector of K standardised numbers
(e.g. b-jet four-momentum features), and a radiation image of 1 x S x S pixels (the
stage feeds log(1 + pT/GeV) of the soft radiation).  Two branches map them to latent
vectors of M numbers each:

* image branch: convolutions (3 x 3, ReLU, 2 x 2 max pooling between them), adaptive
  average pooling to 2 x 2 (so any S >= 8 works), a linear map to ``z_img`` (M);
* kinematics branch: an MLP K -> hidden -> M giving ``z_kin`` (M).

The kinds (:data:`MULTIMODAL_KINDS`) differ in what the head sees:

==============  ==============================================================
``kinematics``  ``z_kin`` -> head (the image is not used)
``image``       ``z_img`` -> head (the kinematics are not used)
``concat``      ``z = [z_img : z_kin]`` (2M) -> head
``attention``   ``a = softmax(W z + b)`` over the 2M entries; ``2M * z * a`` -> head
==============  ==============================================================

The head is an MLP -> hidden -> 1 logit.  The attention values are ``z * a``; the head
reads them times the constant 2M, so that uniform scores (a = 1/2M, as at
initialisation) pass z on unchanged.  The constant is a reparametrisation of the head's
first layer (the same family of functions as the paper's), but without it the head
starts from inputs 2M times smaller than with ``concat`` and learns far more slowly.  For the attention kind an L2 term
``lambda * sum W^2`` on the attention layer's weight W (2M x 2M, acting as ``W z``)
balances the modalities.  The paper writes it over M of the 2M weights without saying
which; :data:`L2_TARGETS` names the variants: the weights of the image half are the
columns that read ``z_img``, ``W[:, :M]``; those of the kinematics half ``W[:, M:]``;
``"all"`` is the whole of W.  The bias is never penalised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from phenoflow.ml.models.mlp import mlp

MULTIMODAL_KINDS: tuple[str, ...] = ("kinematics", "image", "concat", "attention")
L2_TARGETS: tuple[str, ...] = ("image", "kinematics", "all")
MIN_IMAGE_SIZE = 8
_POOLED = 2  # the image branch's adaptive average pooling output: _POOLED x _POOLED


class ImageBranch(nn.Module):
    """CNN (B, 1, S, S) -> (B, latent): conv/ReLU blocks, max pooling between them."""

    def __init__(self, channels: Sequence[int], latent: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for i, c_out in enumerate(channels):
            layers += [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.ReLU()]
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
            c_in = c_out
        layers += [nn.AdaptiveAvgPool2d(_POOLED), nn.Flatten()]
        self.conv = nn.Sequential(*layers)
        self.out = nn.Linear(c_in * _POOLED * _POOLED, latent)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 1, S, S) -> (B, latent)."""
        return self.out(self.conv(image))


class MultiModal(nn.Module):
    """The multi-modal classifier; build it with :func:`make_multimodal`."""

    def __init__(
        self,
        kind: str,
        n_kinematic: int,
        image_size: int,
        *,
        latent: int,
        channels: Sequence[int],
        hidden: int,
        dropout: float,
        l2: float,
        l2_on: str,
    ) -> None:
        super().__init__()
        self.kind, self.n_kinematic, self.image_size = kind, n_kinematic, image_size
        self.latent, self.l2, self.l2_on = latent, float(l2), l2_on
        self.uses_image = kind != "kinematics"
        self.uses_kinematics = kind != "image"
        if self.uses_image:
            self.image_branch = ImageBranch(channels, latent)
        if self.uses_kinematics:
            self.kinematics_branch = mlp(n_kinematic, (hidden, latent), dropout=dropout)
        n_z = latent * (int(self.uses_image) + int(self.uses_kinematics))
        if kind == "attention":
            self.attention_layer = nn.Linear(n_z, n_z)
        self.head = mlp(n_z, (hidden, 1), dropout=dropout)

    def _image(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The ``"image"`` input as (B, 1, S, S), shape-checked."""
        if "image" not in inputs:
            raise KeyError(f"{self.kind} model needs an 'image' input (got {sorted(inputs)})")
        x = inputs["image"]
        s = self.image_size
        if x.ndim == 3:
            x = x.unsqueeze(1)
        if x.ndim != 4 or x.shape[1:] != (1, s, s):
            raise ValueError(
                f"'image' must have shape (B, {s}, {s}) or (B, 1, {s}, {s}), got {tuple(x.shape)}"
            )
        return x

    def _kinematics(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The ``"kinematics"`` input (B, K), shape-checked."""
        if "kinematics" not in inputs:
            raise KeyError(f"{self.kind} model needs a 'kinematics' input (got {sorted(inputs)})")
        x = inputs["kinematics"]
        if x.ndim != 2 or x.shape[1] != self.n_kinematic:
            raise ValueError(
                f"'kinematics' must have shape (B, {self.n_kinematic}), got {tuple(x.shape)}"
            )
        return x

    def latents(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """z: (B, M) for one modality, (B, 2M) = [z_img : z_kin] for two."""
        parts = []
        if self.uses_image:
            parts.append(self.image_branch(self._image(inputs)))
        if self.uses_kinematics:
            parts.append(self.kinematics_branch(self._kinematics(inputs)))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)

    def forward(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Logits (B,) from ``"kinematics"`` (B, K) and/or ``"image"`` (B, [1,] S, S)."""
        z = self.latents(inputs)
        if self.kind == "attention":
            # 2M * z * a: see the module docstring
            z = z * torch.softmax(self.attention_layer(z), dim=-1) * (2 * self.latent)
        return self.head(z).squeeze(-1)

    def attention(self, inputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """What the attention layer does to a batch (attention kind only).

        Returns:
            ``"scores"`` a (B, 2M), softmax over the 2M entries (each row sums to 1);
            ``"values"`` z * a (B, 2M); ``"shares"`` (B, 2): [image, kinematics] share
            of sum |z * a| (each half's sum over the total; 0.5 each if the total is 0);
            ``"score_shares"`` (B, 2): sum of a over each half (rows sum to 1).
        """
        if self.kind != "attention":
            raise ValueError(f"attention() needs the 'attention' kind, not {self.kind!r}")
        m = self.latent
        z = self.latents(inputs)
        a = torch.softmax(self.attention_layer(z), dim=-1)
        values = z * a
        mag = values.abs()
        halves = torch.stack([mag[:, :m].sum(-1), mag[:, m:].sum(-1)], dim=-1)  # (B, 2)
        total = halves.sum(-1, keepdim=True)
        shares = torch.where(total > 0, halves / total.clamp_min(1e-30), 0.5)
        score_shares = torch.stack([a[:, :m].sum(-1), a[:, m:].sum(-1)], dim=-1)
        return {"scores": a, "values": values, "shares": shares, "score_shares": score_shares}

    def penalty(self) -> torch.Tensor:
        """The L2 term lambda * sum W^2 (scalar): over ``W[:, :M]`` ("image"),
        ``W[:, M:]`` ("kinematics") or all of W ("all"); exactly 0 for kinds without
        attention and for lambda = 0."""
        if self.kind != "attention" or self.l2 == 0.0:
            return torch.zeros((), device=next(self.parameters()).device)
        w, m = self.attention_layer.weight, self.latent
        part = {"image": w[:, :m], "kinematics": w[:, m:], "all": w}[self.l2_on]
        return self.l2 * part.square().sum()


def make_multimodal(
    kind: str,
    n_kinematic: int,
    image_size: int,
    *,
    latent: int = 16,
    channels: Sequence[int] = (16, 32, 32),
    hidden: int = 64,
    dropout: float = 0.1,
    l2: float = 0.0,
    l2_on: str = "image",
) -> MultiModal:
    """A multi-modal classifier {"kinematics": (B, K), "image": (B, [1,] S, S)} -> (B,) logits.

    Args:
        kind: one of :data:`MULTIMODAL_KINDS` (see the module docstring).
        n_kinematic: K, the number of kinematic features.
        image_size: S, the image side in pixels (>= 8; the image is 1 x S x S).
        latent: M, the width of each branch's latent vector.
        channels: output channels of the convolutions (2 x 2 max pooling between them).
        hidden: width of the hidden layer of the kinematics branch and of the head.
        dropout: dropout probability after hidden layers.
        l2: lambda of the attention L2 term (:meth:`MultiModal.penalty`), >= 0.
        l2_on: which weights it covers, one of :data:`L2_TARGETS`.

    Weights are drawn from torch's global generator; seed it (or wrap the call in
    ``torch.random.fork_rng``) for reproducible initialisation.
    """
    if kind not in MULTIMODAL_KINDS:
        raise ValueError(f"unknown multimodal kind {kind!r}; expected one of {MULTIMODAL_KINDS}")
    if l2_on not in L2_TARGETS:
        raise ValueError(f"unknown l2_on {l2_on!r}; expected one of {L2_TARGETS}")
    channels = tuple(channels)
    min_size = max(MIN_IMAGE_SIZE, 2 ** max(len(channels) - 1, 0))
    checks = {
        "n_kinematic": (n_kinematic, n_kinematic >= 1),
        "image_size": (image_size, image_size >= min_size),
        "latent": (latent, latent >= 1),
        "channels": (channels, len(channels) >= 1 and all(c >= 1 for c in channels)),
        "hidden": (hidden, hidden >= 1),
        "dropout": (dropout, 0.0 <= dropout < 1.0),
        "l2": (l2, l2 >= 0.0),
    }
    bad = [f"{name}={value!r}" for name, (value, ok) in checks.items() if not ok]
    if bad:
        raise ValueError(
            f"make_multimodal: bad {', '.join(bad)} "
            f"(need n_kinematic, latent, hidden, channels >= 1; image_size >= {min_size}; "
            "0 <= dropout < 1; l2 >= 0)"
        )
    return MultiModal(
        kind, n_kinematic, image_size, latent=latent, channels=channels, hidden=hidden,
        dropout=dropout, l2=l2, l2_on=l2_on,
    )  # fmt: skip


MULTIMODAL_OPTIONS: tuple[str, ...] = ("latent", "channels", "hidden", "dropout", "l2", "l2_on")


def build_multimodal(
    kind: str, n_kinematic: int, image_size: int, options: Mapping[str, Any] | None = None
) -> MultiModal:
    """:func:`make_multimodal` from a kind name and an options dict (keys in
    :data:`MULTIMODAL_OPTIONS`); an unknown kind or option raises ValueError."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(MULTIMODAL_OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown multimodal option(s) {unknown}; expected some of {MULTIMODAL_OPTIONS}"
        )
    return make_multimodal(kind, n_kinematic, image_size, **options)
