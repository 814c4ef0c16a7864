"""Small, fast scan settings shared by the scan tests."""

from __future__ import annotations

import numpy as np
import pytest

# few training steps and a small pool: enough to learn a 2D box in a few iterations
FAST = {"train_steps": 60, "n_pool": 4000, "hidden": (32, 32), "fourier_features": 8}


class Recorder:
    """Wraps an objective and keeps every batch it was called with."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.batches: list[np.ndarray] = []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.batches.append(np.array(x, copy=True))
        return self.fn(x)

    @property
    def n_points(self) -> int:
        return sum(len(b) for b in self.batches)

    def all_points(self) -> np.ndarray:
        return np.concatenate(self.batches)


@pytest.fixture
def recorder():
    return Recorder
