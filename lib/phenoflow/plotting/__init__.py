"""Figures: one function per figure, no computation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def save_figure(fig: Any, path: str | os.PathLike[str]) -> None:
    """Lay out, save as a reproducible PNG (no software/date metadata) and close ``fig``."""
    import matplotlib.pyplot as plt

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
