"""Multi-scale cross-attention transformer encoder for two-fat-jet events (arXiv:2401.00452).

Hammad, Moretti and Nojiri classify events with two fat jets (gg -> H -> hh -> 4b against
QCD and t tbar) by looking at them at two scales at once: the constituents of each jet,
and event-level kinematic objects (the two fat jets, their subjets, the dijet system).
This is a reimplementation from the paper's description; all kinds in
:data:`MULTISCALE_KINDS` map a dict of tensors to (B,) logits.

Inputs (B events, N constituent slots per jet, T kinematic-token slots):

====================================  ===================================================
``jet1_features``, ``jet2_features``  (B, N, F) constituent features (F = 13, the ParT set)
``jet1_mask``, ``jet2_mask``          (B, N) bool, True for real constituents
``kin_tokens``                        (B, T, Fk) event-level kinematic tokens
``kin_mask``                          (B, T) bool, True for real tokens
``kinematics``                        (B, K) flat high-level features (``kinematics_mlp``)
``mass``                              (B,) hypothesised m_H [GeV] (``parameterised`` only)
====================================  ===================================================

(``jet1_p4``/``jet2_p4`` are not used by these kinds; :class:`TwoJetPart` uses them.)
The two jets may have different N. Padded slots may hold anything, NaN included.

Kinds:

* ``multiscale``: three self-attention streams, (1) over jet 1's constituents, (2) over
  jet 2's constituents, (3) over the kinematic tokens; then ``n_cross_blocks``
  cross-attention blocks in which the kinematic tokens query the union of both jets'
  constituents (2N keys: jet 1's slots, then jet 2's), each constituent token carrying a
  learned jet-identity embedding (one vector per jet, added before the cross-attention).
  With ``cross="both"`` the constituent tokens also query the kinematic tokens in the
  same block (both updates are computed from the states before the block).  Each stream
  is layer-normed and mean-pooled over its real tokens; the head (an MLP) reads
  ``[kin, jet 1, jet 2]`` (3 dim) and gives one logit.
* ``concat``: the same three encoders and the same head, without cross-attention (and
  without the identity embedding): the ablation that isolates what cross-attention adds.
* ``kinematics_mlp``: an MLP on ``kinematics``.

Weights.  Streams 1 and 2 share one encoder (the same embedding and blocks): both see a
fat jet, and sharing halves the parameters.  The model is nevertheless NOT symmetric
under swapping the jets (they arrive ordered in pT, so it need not be): the head reads
the pooled jet 1 and jet 2 vectors in fixed places, and in ``multiscale`` the identity
embeddings tell the kinematic tokens which jet a constituent belongs to.  Swapping the
jets' inputs is equivalent to swapping the two identity vectors and the jet 1 / jet 2
input columns of the head's first layer (tested).

Blocks are pre-LayerNorm transformer blocks: ``x + Attn(LN(x))``, then
``x + FFN(LN(x))`` with a GELU FFN of width ``ffn_ratio * dim``; no positional
encoding, so every stream is invariant under reordering its tokens.  Constituent and
token features are embedded by one linear map each.

Padding is masked everywhere: padded inputs are zeroed with ``masked_fill`` (so NaN is
harmless), padded keys get -inf attention scores (weight exactly 0), padded tokens are
re-zeroed after every block and excluded from pooling.  Appending padded slots with any
values therefore leaves the output unchanged up to floating-point summation order.  A
set with no real key (an empty jet, or both) gives a zero attention update; an empty set
pools to zero.

Parameterised network (``parameterised=True``): the hypothesised mass m_H enters the
head as one extra input, ``mass / MASS_SCALE_GEV`` (m / 1000 GeV), appended to the
pooled vector (for ``kinematics_mlp``: appended to ``kinematics``).

Parameter counts with the defaults (F = 13, Fk = 7, K = 16, dim 64, 4 heads, 2 blocks per
stream, 1 cross block, ffn_ratio 1): ``multiscale`` 140,417 (``cross="both"``: 165,505),
``concat`` 114,945, ``kinematics_mlp`` 18,817.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from phenoflow.ml.models.mlp import mlp
from phenoflow.ml.models.part import make_part

MULTISCALE_KINDS: tuple[str, ...] = ("multiscale", "concat", "kinematics_mlp")
CROSS_MODES: tuple[str, ...] = ("kin_to_jets", "both")
MASS_SCALE_GEV = 1000.0  # the parameterised network reads mass / MASS_SCALE_GEV
DEFAULT_N_KIN_FEATURES = 7
DEFAULT_N_KINEMATICS = 16
JET_KEYS: tuple[str, ...] = ("jet1_features", "jet1_mask", "jet2_features", "jet2_mask")
TOKEN_KEYS: tuple[str, ...] = ("kin_tokens", "kin_mask")


def multiscale_input_keys(kind: str, parameterised: bool = False) -> tuple[str, ...]:
    """The input keys a model of ``kind`` reads (for ``train_classifier(input_keys=...)``)."""
    _check_kind(kind)
    keys = ("kinematics",) if kind == "kinematics_mlp" else (*JET_KEYS, *TOKEN_KEYS)
    return (*keys, "mass") if parameterised else keys


def _check_kind(kind: str) -> None:
    if kind not in MULTISCALE_KINDS:
        raise ValueError(f"unknown multiscale kind {kind!r}; expected one of {MULTISCALE_KINDS}")


# --------------------------------------------------------------------------------------------
# building blocks


def _masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean over real tokens: x (B, L, D), mask (B, L) bool -> (B, D); zero if none is real."""
    total = x.masked_fill(~mask[..., None], 0.0).sum(dim=1)
    return total / mask.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)


class Attention(nn.Module):
    """Multi-head attention of queries (B, Lq, D) over keys/values (B, Lk, D) with a key mask.

    Written with explicit matmuls so that :meth:`weights` returns exactly the weights the
    forward pass uses.  Masked keys get weight 0; a row with no real key gets all-zero
    weights and a zero update (instead of the NaN of a softmax over nothing).
    """

    def __init__(self, dim: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)
        self.attention_dropout = nn.Dropout(dropout)

    def weights(self, queries: Tensor, keys: Tensor, key_mask: Tensor) -> Tensor:
        """(B, H, Lq, Lk) softmax weights over the real keys (0 on masked keys)."""
        b, n_q, d = queries.shape
        n_k, h = keys.shape[1], self.n_heads
        q = self.q_proj(queries).view(b, n_q, h, d // h).transpose(1, 2)
        k = self.k_proj(keys).view(b, n_k, h, d // h).transpose(1, 2)
        scores = (q @ k.transpose(-1, -2)) * (d // h) ** -0.5
        has_keys = key_mask.any(dim=1)
        # a row with no real key: unmask slot 0 to keep the softmax finite, zero it below
        padding = ~key_mask
        if n_k:
            padding[:, 0] &= has_keys
        scores = scores.masked_fill(padding[:, None, None, :], float("-inf"))
        return scores.softmax(dim=-1).masked_fill(~has_keys[:, None, None, None], 0.0)

    def forward(self, queries: Tensor, keys: Tensor, key_mask: Tensor) -> Tensor:
        """queries (B, Lq, D), keys (B, Lk, D), key_mask (B, Lk) bool -> update (B, Lq, D)."""
        b, n_q, d = queries.shape
        h = self.n_heads
        w = self.attention_dropout(self.weights(queries, keys, key_mask))
        v = self.v_proj(keys).view(b, keys.shape[1], h, d // h).transpose(1, 2)
        mixed = (w @ v).transpose(1, 2).reshape(b, n_q, d)
        return self.out_proj(mixed).masked_fill(~key_mask.any(dim=1)[:, None, None], 0.0)


class _FeedForward(nn.Module):
    """Pre-LN GELU FFN update: (B, L, D) -> (B, L, D) (the residual is the caller's)."""

    def __init__(self, dim: int, ffn_ratio: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.net = mlp(
            dim, (ffn_ratio * dim, dim), activation=nn.GELU, dropout=dropout, final_dropout=True
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(self.norm(x))


class SelfAttentionBlock(nn.Module):
    """Pre-LN transformer block over one set of tokens: (B, L, D), mask (B, L) -> (B, L, D)."""

    def __init__(self, dim: int, n_heads: int, ffn_ratio: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attention = Attention(dim, n_heads, dropout)
        self.ffn = _FeedForward(dim, ffn_ratio, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        h = self.norm(x)
        x = x + self.dropout(self.attention(h, h, mask))
        x = x + self.ffn(x)
        return x.masked_fill(~mask[..., None], 0.0)


class CrossAttentionBlock(nn.Module):
    """Kinematic tokens query constituents (and, with ``both``, constituents query tokens).

    ``forward(kin (B, T, D), kin_mask, jets (B, 2N, D), jets_mask)`` -> updated
    (kin, jets); both updates use the states before the block.  Each updated side gets a
    residual attention update and a residual FFN; without ``both`` the jets pass through.
    """

    def __init__(self, dim: int, n_heads: int, ffn_ratio: int, dropout: float, both: bool):
        super().__init__()
        self.kin_norm = nn.LayerNorm(dim)
        self.jet_norm = nn.LayerNorm(dim)
        self.kin_to_jets = Attention(dim, n_heads, dropout)
        self.kin_ffn = _FeedForward(dim, ffn_ratio, dropout)
        self.jets_to_kin = Attention(dim, n_heads, dropout) if both else None
        self.jet_ffn = _FeedForward(dim, ffn_ratio, dropout) if both else None
        self.dropout = nn.Dropout(dropout)

    def weights(self, kin: Tensor, jets: Tensor, jets_mask: Tensor) -> Tensor:
        """(B, H, T, 2N) weights of the kinematic-token queries over the constituents."""
        return self.kin_to_jets.weights(self.kin_norm(kin), self.jet_norm(jets), jets_mask)

    def forward(
        self, kin: Tensor, kin_mask: Tensor, jets: Tensor, jets_mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        k_in, j_in = self.kin_norm(kin), self.jet_norm(jets)
        new_kin = kin + self.dropout(self.kin_to_jets(k_in, j_in, jets_mask))
        new_kin = (new_kin + self.kin_ffn(new_kin)).masked_fill(~kin_mask[..., None], 0.0)
        if self.jets_to_kin is None or self.jet_ffn is None:
            return new_kin, jets
        new_jets = jets + self.dropout(self.jets_to_kin(j_in, k_in, kin_mask))
        new_jets = (new_jets + self.jet_ffn(new_jets)).masked_fill(~jets_mask[..., None], 0.0)
        return new_kin, new_jets


class Encoder(nn.Module):
    """Linear embedding + ``n_blocks`` self-attention blocks over one set of tokens.

    (B, L, F) features, (B, L) bool mask -> (B, L, D), padded tokens zero.
    """

    def __init__(
        self, n_in: int, dim: int, n_heads: int, n_blocks: int, ffn_ratio: int, dropout: float
    ) -> None:
        super().__init__()
        self.n_in = n_in
        self.embed = nn.Linear(n_in, dim)
        self.blocks = nn.ModuleList(
            SelfAttentionBlock(dim, n_heads, ffn_ratio, dropout) for _ in range(n_blocks)
        )

    def forward(self, features: Tensor, mask: Tensor) -> Tensor:
        x = self.embed(features.masked_fill(~mask[..., None], 0.0))
        x = x.masked_fill(~mask[..., None], 0.0)
        for block in self.blocks:
            x = block(x, mask)
        return x


# --------------------------------------------------------------------------------------------
# inputs


def _trim(features: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Drop the slots after the batch's last real one (padding only costs time there)."""
    n = mask.shape[1]
    if mask.shape[0] == 0 or n == 0:
        return features, mask
    slots = torch.arange(1, n + 1, device=mask.device)
    last = max(int((slots * mask).amax()), 1)
    return features[:, :last], mask[:, :last]


def _get(inputs: Mapping[str, Tensor], key: str, kind: str) -> Tensor:
    if key not in inputs:
        raise KeyError(f"{kind} model needs input {key!r} (got {sorted(inputs)})")
    return inputs[key]


def _token_set(
    inputs: Mapping[str, Tensor], features_key: str, mask_key: str, n_in: int, kind: str
) -> tuple[Tensor, Tensor]:
    """Checked (features (B, L, n_in) float, mask (B, L) bool) of one token set."""
    features, mask = _get(inputs, features_key, kind), _get(inputs, mask_key, kind)
    if features.ndim != 3 or features.shape[-1] != n_in:
        raise ValueError(
            f"{kind} input {features_key!r} must be (B, L, {n_in}), got {tuple(features.shape)}"
        )
    if mask.dtype != torch.bool or mask.shape != features.shape[:2]:
        raise ValueError(
            f"{kind} input {mask_key!r} must be bool {tuple(features.shape[:2])}, got "
            f"{mask.dtype} {tuple(mask.shape)}"
        )
    return features, mask


def _mass(inputs: Mapping[str, Tensor], batch: int, kind: str) -> Tensor:
    """The scaled mass input (B, 1) = mass / MASS_SCALE_GEV."""
    mass = _get(inputs, "mass", kind)
    if mass.shape != (batch,):
        raise ValueError(f"{kind} input 'mass' must be ({batch},) [GeV], got {tuple(mass.shape)}")
    return (mass / MASS_SCALE_GEV)[:, None]


# --------------------------------------------------------------------------------------------
# the networks


class MultiScale(nn.Module):
    """The ``multiscale`` and ``concat`` kinds (see the module docstring).

    ``forward(inputs) -> (B,)`` logits; ``streams(inputs)`` the encoded streams;
    ``cross_attention(inputs)`` the cross-attention weights (``multiscale`` only).
    """

    def __init__(
        self,
        kind: str,
        n_features: int,
        n_kin_features: int,
        *,
        dim: int,
        n_heads: int,
        n_blocks: int,
        n_cross_blocks: int,
        cross: str,
        ffn_ratio: int,
        parameterised: bool,
        dropout: float,
    ) -> None:
        super().__init__()
        self.kind, self.cross, self.parameterised = kind, cross, parameterised
        self.input_keys = multiscale_input_keys(kind, parameterised)
        self.jet_encoder = Encoder(n_features, dim, n_heads, n_blocks, ffn_ratio, dropout)
        self.kin_encoder = Encoder(n_kin_features, dim, n_heads, n_blocks, ffn_ratio, dropout)
        self.cross_blocks = nn.ModuleList()
        if kind == "multiscale":
            self.jet_identity = nn.Parameter(torch.empty(2, dim))
            nn.init.trunc_normal_(self.jet_identity, std=0.02)
            self.cross_blocks.extend(
                CrossAttentionBlock(dim, n_heads, ffn_ratio, dropout, both=cross == "both")
                for _ in range(n_cross_blocks)
            )
        self.kin_norm = nn.LayerNorm(dim)
        self.jet_norm = nn.LayerNorm(dim)
        self.head = mlp(3 * dim + int(parameterised), (dim, 1), activation=nn.GELU, dropout=dropout)

    def _inputs(self, inputs: Mapping[str, Tensor]) -> list[tuple[Tensor, Tensor]]:
        """Checked, trimmed (features, mask) of jet 1, jet 2 and the kinematic tokens."""
        n_f, n_k = self.jet_encoder.n_in, self.kin_encoder.n_in
        sets = [
            _token_set(inputs, "jet1_features", "jet1_mask", n_f, self.kind),
            _token_set(inputs, "jet2_features", "jet2_mask", n_f, self.kind),
            _token_set(inputs, "kin_tokens", "kin_mask", n_k, self.kind),
        ]
        batches = {f.shape[0] for f, _ in sets}
        if len(batches) != 1:
            raise ValueError(f"{self.kind} inputs disagree on the batch size: {sorted(batches)}")
        return [_trim(f, m) for f, m in sets]

    def streams(self, inputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """The self-attention streams before any cross-attention, on the trimmed slots:
        ``"jet1"`` (B, N1', D), ``"jet2"`` (B, N2', D), ``"kin"`` (B, T', D) and their
        masks ``"jet1_mask"``, ``"jet2_mask"``, ``"kin_mask"``; N' (T') is the batch's
        last real slot."""
        (f1, m1), (f2, m2), (tok, tm) = self._inputs(inputs)
        return {
            "jet1": self.jet_encoder(f1, m1),
            "jet2": self.jet_encoder(f2, m2),
            "kin": self.kin_encoder(tok, tm),
            "jet1_mask": m1,
            "jet2_mask": m2,
            "kin_mask": tm,
        }

    def _joint(self, s: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
        """Both jets' tokens with their identity embeddings (B, N1' + N2', D), and mask."""
        jets = torch.cat((s["jet1"] + self.jet_identity[0], s["jet2"] + self.jet_identity[1]), 1)
        return jets, torch.cat((s["jet1_mask"], s["jet2_mask"]), dim=1)

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        """inputs (see the module docstring) -> (B,) logits."""
        s = self.streams(inputs)
        kin, kin_mask, jet1, jet2 = s["kin"], s["kin_mask"], s["jet1"], s["jet2"]
        if self.kind == "multiscale":
            jets, jets_mask = self._joint(s)
            for block in self.cross_blocks:
                kin, jets = block(kin, kin_mask, jets, jets_mask)
            jet1, jet2 = jets.split((jet1.shape[1], jet2.shape[1]), dim=1)
        pooled = [
            _masked_mean(self.kin_norm(kin), kin_mask),
            _masked_mean(self.jet_norm(jet1), s["jet1_mask"]),
            _masked_mean(self.jet_norm(jet2), s["jet2_mask"]),
        ]
        if self.parameterised:
            pooled.append(_mass(inputs, kin.shape[0], self.kind).to(kin.dtype))
        return self.head(torch.cat(pooled, dim=-1)).squeeze(-1)

    def cross_attention(self, inputs: Mapping[str, Tensor], block: int = -1) -> Tensor:
        """Weights of the kinematic tokens over both jets' constituents in cross block ``block``.

        Returns:
            (B, H, T, N1 + N2), per head (average over dim 1 for a head-averaged map), T, N1
            and N2 those of the inputs; keys are jet 1's slots, then jet 2's.  A row of a
            real token sums to 1 over the real constituents; masked keys, rows of padded
            tokens and rows of events without constituents are 0.
        """
        if self.kind != "multiscale":
            raise ValueError(f"cross_attention() needs the 'multiscale' kind, not {self.kind!r}")
        blocks: list[CrossAttentionBlock] = list(self.cross_blocks)  # type: ignore[arg-type]
        if not -len(blocks) <= block < len(blocks):
            raise IndexError(f"cross block {block} out of range for {len(blocks)} block(s)")
        index = block % len(blocks)
        s = self.streams(inputs)
        kin, kin_mask = s["kin"], s["kin_mask"]
        jets, jets_mask = self._joint(s)
        for b in blocks[:index]:
            kin, jets = b(kin, kin_mask, jets, jets_mask)
        w = blocks[index].weights(kin, jets, jets_mask)
        w = w.masked_fill(~kin_mask[:, None, :, None], 0.0)
        n1, n2 = s["jet1"].shape[1], s["jet2"].shape[1]
        w1, w2 = w.split((n1, n2), dim=-1)
        pad = [
            inputs["jet1_mask"].shape[1] - n1,
            inputs["jet2_mask"].shape[1] - n2,
            inputs["kin_mask"].shape[1] - kin.shape[1],
        ]
        w1 = nn.functional.pad(w1, (0, pad[0], 0, pad[2]))
        w2 = nn.functional.pad(w2, (0, pad[1], 0, pad[2]))
        return torch.cat((w1, w2), dim=-1)


class KinematicsMLP(nn.Module):
    """The ``kinematics_mlp`` kind: MLP K (+1 with the mass) -> 2 dim -> 2 dim -> 1 logit."""

    def __init__(self, n_kinematics: int, *, dim: int, parameterised: bool, dropout: float):
        super().__init__()
        self.kind, self.parameterised = "kinematics_mlp", parameterised
        self.n_kinematics = n_kinematics
        self.input_keys = multiscale_input_keys(self.kind, parameterised)
        self.net = mlp(
            n_kinematics + int(parameterised),
            (2 * dim, 2 * dim, 1),
            activation=nn.GELU,
            dropout=dropout,
        )

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        """{'kinematics': (B, K)[, 'mass': (B,) GeV]} -> (B,) logits."""
        x = _get(inputs, "kinematics", self.kind)
        if x.ndim != 2 or x.shape[1] != self.n_kinematics:
            raise ValueError(
                f"{self.kind} input 'kinematics' must be (B, {self.n_kinematics}), got "
                f"{tuple(x.shape)}"
            )
        if self.parameterised:
            x = torch.cat((x, _mass(inputs, x.shape[0], self.kind).to(x.dtype)), dim=-1)
        return self.net(x).squeeze(-1)


# --------------------------------------------------------------------------------------------
# factories


def make_multiscale(
    kind: str,
    n_features: int = 13,
    n_kin_features: int = DEFAULT_N_KIN_FEATURES,
    n_kinematics: int = DEFAULT_N_KINEMATICS,
    *,
    dim: int = 64,
    n_heads: int = 4,
    n_blocks: int = 2,
    n_cross_blocks: int = 1,
    cross: str = "kin_to_jets",
    ffn_ratio: int = 1,
    parameterised: bool = False,
    dropout: float = 0.1,
    seed: int | None = None,
) -> nn.Module:
    """A two-jet event classifier of ``kind`` (:data:`MULTISCALE_KINDS`): inputs -> (B,) logits.

    Args:
        kind: ``"multiscale"``, ``"concat"`` or ``"kinematics_mlp"`` (module docstring).
        n_features: F, per-constituent features of ``jet1/2_features`` (B, N, F).
        n_kin_features: Fk, features per kinematic token in ``kin_tokens`` (B, T, Fk).
        n_kinematics: K, flat features in ``kinematics`` (B, K) (``kinematics_mlp`` only).
        dim: token width D and the head's hidden width (the kinematics MLP's: 2 D).
        n_heads: attention heads (must divide ``dim``).
        n_blocks: self-attention blocks per stream (the two jet streams share them).
        n_cross_blocks: cross-attention blocks (``multiscale`` only, >= 1).
        cross: ``"kin_to_jets"`` (tokens query constituents) or ``"both"`` (and back).
        ffn_ratio: FFN width / D in every block.
        parameterised: feed ``mass`` / 1000 GeV (input ``mass`` (B,) [GeV]) to the head.
        dropout: dropout on attention weights, residual updates and MLP activations.
        seed: if given, initialise from this seed without touching torch's global generator;
            otherwise draw from the global generator.

    Options a kind does not use are ignored.  The model's ``input_keys`` attribute lists the
    inputs it reads.
    """
    _check_kind(kind)
    checks = {
        "n_features": (n_features, n_features >= 1),
        "n_kin_features": (n_kin_features, n_kin_features >= 1),
        "n_kinematics": (n_kinematics, n_kinematics >= 1),
        "dim": (dim, dim >= 1 and dim % max(n_heads, 1) == 0),
        "n_heads": (n_heads, n_heads >= 1),
        "n_blocks": (n_blocks, n_blocks >= 0),
        "n_cross_blocks": (n_cross_blocks, n_cross_blocks >= 1),
        "cross": (cross, cross in CROSS_MODES),
        "ffn_ratio": (ffn_ratio, ffn_ratio >= 1),
        "dropout": (dropout, 0.0 <= dropout < 1.0),
    }
    bad = [f"{name}={value!r}" for name, (value, ok) in checks.items() if not ok]
    if bad:
        raise ValueError(
            f"make_multiscale: bad {', '.join(bad)} (need n_features, n_kin_features, "
            "n_kinematics, n_heads, n_cross_blocks, ffn_ratio >= 1; n_blocks >= 0; dim a "
            f"multiple of n_heads; cross one of {CROSS_MODES}; 0 <= dropout < 1)"
        )

    def build() -> nn.Module:
        if kind == "kinematics_mlp":
            return KinematicsMLP(
                n_kinematics, dim=dim, parameterised=parameterised, dropout=dropout
            )
        return MultiScale(
            kind, n_features, n_kin_features, dim=dim, n_heads=n_heads, n_blocks=n_blocks,
            n_cross_blocks=n_cross_blocks, cross=cross, ffn_ratio=ffn_ratio,
            parameterised=parameterised, dropout=dropout,
        )  # fmt: skip

    if seed is None:
        return build()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


MULTISCALE_OPTIONS: tuple[str, ...] = (
    "n_features", "n_kin_features", "n_kinematics", "dim", "n_heads", "n_blocks",
    "n_cross_blocks", "cross", "ffn_ratio", "parameterised", "dropout", "seed",
)  # fmt: skip


def build_multiscale(kind: str, options: Mapping[str, Any] | None = None) -> nn.Module:
    """:func:`make_multiscale` from a kind name and an options dict (keys in
    :data:`MULTISCALE_OPTIONS`); an unknown kind or option raises ValueError."""
    _check_kind(kind)
    options = dict(options or {})
    unknown = sorted(set(options) - set(MULTISCALE_OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown multiscale option(s) {unknown}; expected some of {MULTISCALE_OPTIONS}"
        )
    return make_multiscale(kind, **options)


# --------------------------------------------------------------------------------------------
# the single-stream baseline: ParT on both jets' constituents


TWO_JET_PART_KEYS: tuple[str, ...] = (
    "jet1_features", "jet1_mask", "jet1_p4", "jet2_features", "jet2_mask", "jet2_p4",
)  # fmt: skip


def two_jet_part_inputs(batch: Mapping[str, Any]) -> dict[str, Any]:
    """ParT's inputs from a two-jet batch: both jets' constituents along the particle axis.

    Args:
        batch: ``jet{1,2}_features`` (B, N_j, F), ``jet{1,2}_mask`` (B, N_j) bool,
            ``jet{1,2}_p4`` (B, N_j, 4) [GeV]; torch tensors or numpy arrays.

    Returns:
        ``{"features": (B, N1 + N2, F), "mask": (B, N1 + N2), "p4": (B, N1 + N2, 4)}``,
        jet 1's slots first (padding stays where it was; ParT masks it), of the input type.
    """
    missing = [k for k in TWO_JET_PART_KEYS if k not in batch]
    if missing:
        raise KeyError(f"two-jet ParT inputs lack {missing} (got {sorted(batch)})")
    out: dict[str, Any] = {}
    for name in ("features", "mask", "p4"):
        a, b = batch[f"jet1_{name}"], batch[f"jet2_{name}"]
        if isinstance(a, Tensor):
            out[name] = torch.cat((a, b), dim=1)
        else:
            out[name] = np.concatenate((np.asarray(a), np.asarray(b)), axis=1)
    return out


class TwoJetPart(nn.Module):
    """A ParT tagger (``self.part``) fed both jets' constituents concatenated (no jet label).

    ``forward(inputs)`` = ``part(two_jet_part_inputs(inputs))``: (B,) logits.
    """

    input_keys: tuple[str, ...] = TWO_JET_PART_KEYS

    def __init__(self, part: nn.Module) -> None:
        super().__init__()
        self.part = part

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        return self.part(two_jet_part_inputs(inputs))


def make_two_jet_part(**part_options: Any) -> TwoJetPart:
    """:class:`TwoJetPart` around ``make_part(**part_options)`` (see ``part.make_part``)."""
    return TwoJetPart(make_part(**part_options))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
