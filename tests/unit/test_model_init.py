"""Every network built on :func:`phenoflow.ml.models.mlp.mlp` keeps its exact initial weights.

For each factory, with ``torch.manual_seed(0)`` before the call, the fingerprint of the
state_dict (number of keys, a hash of the key names in order, the sum of all weights and
a position-weighted sum) and the next draw of torch's global generator are pinned: the
values were recorded before the networks shared one MLP builder, so a moved module, a
changed construction order or an extra random draw makes this test fail.
"""

import hashlib

import pytest
import torch

from phenoflow.ml.models.deepsets import make_deepsets
from phenoflow.ml.models.evn import make_aux_classifier, make_evn
from phenoflow.ml.models.mixer import make_mixer
from phenoflow.ml.models.mlp import mlp
from phenoflow.ml.models.part import make_part
from phenoflow.scan.surrogate import make_mlp

BUILDERS = {
    "deepsets": make_deepsets,
    "mixer": make_mixer,
    "part": make_part,
    "evn": lambda: make_evn(6, 2),
    "aux": lambda: make_aux_classifier(2, 3),
    "surrogate": lambda: make_mlp(3, (16, 8), torch.Generator().manual_seed(1)),
    "surrogate_fourier": lambda: make_mlp(2, (8,), torch.Generator().manual_seed(2), 4, 0.5),
}

# (n_keys, key hash, sum of weights, weighted sum, next torch.rand() after construction)
PINNED = {
    "deepsets": (12, "2526f41b07381948", 4.992373652581591, -41.70135299107645, 0.29625898599624634),
    "mixer": (76, "f4a9cf637079ae6f", 576.8182764398362, 11729.434497755932, 0.7938258051872253),
    "part": (235, "f89383dd7db857ee", 11574.788763392327, 767945.137238027, 0.4784765839576721),
    "evn": (12, "3544d55d628337cf", 9.942283538417541, 54.544086765551526, 0.307820200920105),
    "aux": (8, "d41184cf03275eee", -2.133964111795649, -0.33933632026601135, 0.9603779315948486),
    "surrogate": (6, "0325a6c3e2e81bda", 3.1261184986215085, 5.1350285098985, 0.5633130073547363),
    "surrogate_fourier": (5, "bdd7adf946a47022", 0.1132728517986834, 1.0238320325152017, 0.944246232509613),
}  # fmt: skip


def fingerprint(state_dict: dict[str, torch.Tensor]) -> tuple[int, str, float, float]:
    keys = list(state_dict)
    total = weighted = 0.0
    for i, value in enumerate(state_dict.values()):
        t = value.detach().double().flatten()
        w = torch.arange(1, t.numel() + 1, dtype=torch.float64) / t.numel()
        total += float(t.sum())
        weighted += (i + 1) * float((t * w).sum())
    return len(keys), hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16], total, weighted


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_initial_weights_are_pinned(name):
    torch.manual_seed(0)
    model = BUILDERS[name]()
    n_keys, key_hash, total, weighted = fingerprint(model.state_dict())
    after = float(torch.rand(()))
    want = PINNED[name]
    assert (n_keys, key_hash) == want[:2]
    assert total == pytest.approx(want[2], rel=1e-12, abs=1e-12)
    assert weighted == pytest.approx(want[3], rel=1e-12, abs=1e-12)
    assert after == want[4]


def test_mlp_layer_sequence():
    net = mlp(4, (8, 2), activation=torch.nn.GELU, dropout=0.1)
    assert [type(m).__name__ for m in net] == ["Linear", "GELU", "Dropout", "Linear"]
    net = mlp(4, (8,), final_activation=True, final_dropout=True, dropout=0.0)
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Dropout"]
    net = mlp(
        3,
        (5, 6),
        norm=torch.nn.BatchNorm1d,
        norm_position="after",
        head=[torch.nn.Identity()],
    )
    assert [type(m).__name__ for m in net] == [
        "Identity", "Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d",
    ]  # fmt: skip
    assert net[4].in_features == 5
    assert net[5].num_features == 6
    with pytest.raises(ValueError, match="widths"):
        mlp(3, ())
