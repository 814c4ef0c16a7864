"""Figures of the tagging comparison: ROC curves and subjet attention maps."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from phenoflow.plotting import save_figure


def plot_roc(
    roc: Mapping[str, Mapping[str, list[float]]],
    table: Mapping[str, Any],
    path: str | os.PathLike[str],
) -> None:
    """1/eps_B against eps_S (log scale) for every model."""
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for key, r in roc.items():
        auc = table[key]["auc"]["mean"]
        rej = np.asarray(r["rejection"], dtype=float)
        # where no background jet survives, 1/eps_B is unbounded (stored as 1/1e-12): not drawn
        rej = np.where(rej < 1e11, rej, np.nan)
        ax.plot(r["eps_s"], rej, label=f"{key} (AUC {auc:.4f})")
    ax.set_yscale("log")
    ax.set_xlabel(r"signal efficiency $\epsilon_S$")
    ax.set_ylabel(r"background rejection $1/\epsilon_B$")
    ax.set_title("curves end where no background test jet is left", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_attention(
    att: Mapping[str, Any] | None, path: str | os.PathLike[str], n_particles: int = 40
) -> None:
    """Mean attention of the hardest particles over subjets, top vs QCD."""
    classes = [c for c in ("top", "qcd") if att and c in att]
    fig, axes = plt.subplots(
        1, max(len(classes), 1), figsize=(5.5 * max(len(classes), 1), 4.5), squeeze=False
    )
    for ax, cls in zip(axes[0], classes, strict=False):
        assert att is not None  # (classes is empty otherwise)
        a = np.asarray(att[cls])[:n_particles]
        im = ax.imshow(a.T, aspect="auto", origin="lower", cmap="magma", vmin=0)
        ax.set_xlabel("particle (pT rank)")
        ax.set_ylabel("subjet (pT rank)")
        ax.set_title(f"{att['model']}: {cls} jets")
        fig.colorbar(im, ax=ax, label="mean attention weight")
    if not classes:
        axes[0][0].text(0.5, 0.5, "no attention map", ha="center")
        axes[0][0].axis("off")
    save_figure(fig, path)
