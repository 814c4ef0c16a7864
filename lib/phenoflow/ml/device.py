"""Device choice: CUDA when present, else CPU (same results up to floating-point noise)."""

from __future__ import annotations

import torch


def pick_device(preference: str = "auto") -> torch.device:
    """``"auto"`` -> ``cuda`` if available else ``cpu``; ``"cpu"``/``"cuda"`` force one (error if unavailable)."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch.cuda.is_available() is False")
    if preference not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {preference!r}; expected 'auto', 'cpu' or 'cuda'")
    return torch.device(preference)
