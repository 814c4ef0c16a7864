"""Event-variable network (EVN) and its auxiliary classifier (arXiv:2105.10126).

EVN: X (n, d_x) -> V (n, d_v); fully connected 128-64-64-64-32 with ReLU and
a linear output.  Auxiliary classifier: (V, Theta) (n, d_v + d_theta) -> one
logit (the paper's sigmoid output is applied inside the BCE loss for
numerical stability); 3 hidden layers of 16 with ReLU.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from phenoflow.ml.models.mlp import mlp

EVN_HIDDEN = (128, 64, 64, 64, 32)
AUX_HIDDEN = (16, 16, 16)


def make_evn(n_inputs: int, d_v: int = 1, hidden: Sequence[int] = EVN_HIDDEN) -> nn.Sequential:
    """The event-variable network: (n, n_inputs) -> (n, d_v)."""
    return mlp(n_inputs, (*hidden, d_v), activation=nn.ReLU)


def make_aux_classifier(
    d_v: int, n_theta: int, hidden: Sequence[int] = AUX_HIDDEN
) -> nn.Sequential:
    """The auxiliary classifier: (n, d_v + n_theta) -> (n, 1) logits."""
    return mlp(d_v + n_theta, (*hidden, 1), activation=nn.ReLU)
