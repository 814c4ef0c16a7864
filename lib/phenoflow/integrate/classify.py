"""Level-set classes of an integrand and the small network that learns them.

LeStrat-Net (Ban, Park, Ramos, arXiv:2412.13982) stratifies the domain by the *height*
of the integrand: a point's class is the band of ``f`` it falls in.  Here a class is a
(sign, band) pair with geometric bands ``|f|`` in ``(M r^k, M r^(k-1)]`` below the
largest ``|f|`` seen, ``M``, plus one class for ``|f| <= M r^K`` ("small") which also
holds ``f = 0``.  :class:`LevelClassifier` (a torch MLP on the features ``(z, z^2)``,
``z`` the point scaled to [-1, 1]^d) learns x -> class from the pilot points; its argmax
regions partition the box exactly, whatever its accuracy.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class LevelClasses:
    """Class boundaries on the range of f.

    ``scale``   M, the largest |f| seen in the pilot.
    ``ratio``   r, the factor between consecutive levels (0 < r < 1).
    ``n_levels`` K, bands per sign; the small class is ``|f| <= M r^K``.
    ``labels``  the names of the classes in index order, e.g. ``("+0", "-0", "small")``.
    ``index``   (2, K) int: class index of (sign, band); -1 where the band was merged away.
    """

    scale: float
    ratio: float
    n_levels: int
    labels: tuple[str, ...]
    index: np.ndarray

    @property
    def n_classes(self) -> int:
        return len(self.labels)

    @property
    def small(self) -> int:
        """Index of the small-|f| class (always the last one)."""
        return len(self.labels) - 1

    def raw_band(self, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sign, band) of each value: sign 0 for f > 0, 1 for f < 0; band K = small."""
        a = np.abs(f)
        with np.errstate(divide="ignore"):
            k = np.floor(np.log(self.scale / np.maximum(a, 1e-300)) / np.log(1.0 / self.ratio))
        band = np.clip(k, 0, self.n_levels).astype(np.int64)
        band[a == 0] = self.n_levels
        return (f < 0).astype(np.int64), band

    def label(self, f: np.ndarray) -> np.ndarray:
        """(n,) class index of each f value."""
        sign, band = self.raw_band(f)
        out = np.full(f.shape, self.small, dtype=np.int64)
        ok = band < self.n_levels
        out[ok] = self.index[sign[ok], band[ok]]
        out[out < 0] = self.small
        return out


def make_classes(f: np.ndarray, ratio: float, n_levels: int, min_count: int) -> LevelClasses:
    """Classes from the pilot values ``f`` (n,): bands with fewer than ``min_count`` points
    are merged into the next lower band of the same sign (the lowest into "small")."""
    scale = float(np.max(np.abs(f))) if f.size else 0.0
    index = np.full((2, n_levels), -1, dtype=np.int64)
    if scale == 0.0:
        return LevelClasses(0.0, ratio, n_levels, ("small",), index)
    tmp = LevelClasses(scale, ratio, n_levels, ("small",), index)
    sign, band = tmp.raw_band(f)
    counts = np.zeros((2, n_levels + 1), dtype=np.int64)
    np.add.at(counts, (sign, band), 1)
    labels: list[str] = []
    for s, name in ((0, "+"), (1, "-")):
        carry = 0
        pending: list[int] = []
        for k in range(n_levels):
            carry += counts[s, k]
            pending.append(k)
            if carry >= min_count:
                for kk in pending:
                    index[s, kk] = len(labels)
                labels.append(f"{name}{k}")
                carry, pending = 0, []
        # leftover high bands with too few points join the last class of that sign, if any
        if pending and labels and labels[-1].startswith(name):
            for kk in pending:
                index[s, kk] = len(labels) - 1
    labels.append("small")
    return LevelClasses(scale, ratio, n_levels, tuple(labels), index)


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread (restored afterwards): for a network this small, thread
    hand-offs cost more than they save, and on a shared machine they contend."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _MLP(nn.Module):
    def __init__(self, n_in: int, hidden: tuple[int, ...], n_out: int, gen: torch.Generator):
        super().__init__()
        sizes = (n_in, *hidden, n_out)
        self.layers = nn.ModuleList(
            nn.Linear(a, b, dtype=torch.float32) for a, b in itertools.pairwise(sizes)
        )
        with torch.no_grad():
            for layer in cast("list[nn.Linear]", self.layers):
                bound = 1.0 / np.sqrt(layer.in_features)
                layer.weight.uniform_(-bound, bound, generator=gen)
                layer.bias.uniform_(-bound, bound, generator=gen)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            h = nn.functional.silu(layer(h))
        return self.layers[-1](h)


class LevelClassifier:
    """x -> class index; the argmax over classes partitions the box.

    ``bounds`` (d, 2); ``n_classes`` K.  With K = 1 it is the constant 0.
    """

    def __init__(
        self, bounds: np.ndarray, n_classes: int, hidden: tuple[int, ...] = (32, 32), seed: int = 0
    ) -> None:
        self.low = bounds[:, 0].copy()
        self.width = (bounds[:, 1] - bounds[:, 0]).copy()
        self.n_classes = n_classes
        gen = torch.Generator().manual_seed(int(seed) % (2**63))
        self.net = _MLP(2 * len(bounds), hidden, n_classes, gen) if n_classes > 1 else None
        self.train_accuracy = 1.0

    def features(self, x: np.ndarray) -> torch.Tensor:
        """(n, 2d) float32 features ``(z, z^2)`` with ``z`` in [-1, 1]^d."""
        z = 2.0 * (x - self.low) / self.width - 1.0
        return torch.from_numpy(np.concatenate([z, z * z], axis=1).astype(np.float32))

    def fit(
        self,
        x: np.ndarray,
        labels: np.ndarray,
        rng: np.random.Generator,
        steps: int = 600,
        batch: int = 512,
        lr: float = 1e-2,
    ) -> LevelClassifier:
        """Train with cross entropy on class-balanced batches (Adam, cosine-decayed ``lr``)."""
        if self.net is None:
            return self
        with single_thread():
            self._fit(x, labels, rng, steps, batch, lr)
        self.train_accuracy = float(np.mean(self.predict(x) == labels))
        return self

    def _fit(
        self,
        x: np.ndarray,
        labels: np.ndarray,
        rng: np.random.Generator,
        steps: int,
        batch: int,
        lr: float,
    ) -> None:
        assert self.net is not None
        feats = self.features(x)
        target = torch.from_numpy(labels.astype(np.int64))
        loss_fn = nn.CrossEntropyLoss()
        opt = torch.optim.Adam(self.net.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr * 0.02)
        n = len(x)
        # class-balanced batches: each class drawn equally often, so rare peaks are learnt
        by_class = [np.flatnonzero(labels == k) for k in range(self.n_classes)]
        present = [idx for idx in by_class if len(idx)]
        per = max(batch // len(present), 1)
        self.net.train()
        for _ in range(steps):
            pick = np.concatenate([idx[rng.integers(0, len(idx), per)] for idx in present])
            if n > len(pick):
                pick = np.concatenate([pick, rng.integers(0, n, per)])
            logits = self.net(feats[pick])
            loss = loss_fn(logits, target[pick])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        self.net.eval()

    def predict(self, x: np.ndarray, chunk: int = 262_144) -> np.ndarray:
        """(n,) int64 class index of each point of ``x`` (n, d)."""
        if self.net is None:
            return np.zeros(len(x), dtype=np.int64)
        out = np.empty(len(x), dtype=np.int64)
        with torch.inference_mode(), single_thread():
            for start in range(0, len(x), chunk):
                logits = self.net(self.features(x[start : start + chunk]))
                out[start : start + chunk] = torch.argmax(logits, dim=1).numpy()
        return out
