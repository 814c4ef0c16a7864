"""Figures of the jets stage (from ``phenoflow.jets.summary.jets_summary``; no computation)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from phenoflow.plotting import save_figure

COLORS = {"top": "tab:red", "qcd": "tab:blue", "higgs": "tab:green"}


def plot_distributions(summary: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Unit-normalised distributions per class: masses, tau32, W candidate, subjet multiplicities."""
    keys = list(summary["binning"])
    fig, axes = plt.subplots(2, 4, figsize=(18, 8))
    for ax, key in zip(axes.flat, keys, strict=False):
        b = summary["binning"][key]
        edges = np.linspace(b["low"], b["high"], b["bins"] + 1)
        for cls, c in summary["classes"].items():
            h = np.asarray(c["histograms"][key], dtype=float)
            if h.sum() > 0:
                ax.stairs(
                    h / h.sum(),
                    edges,
                    label=f"{cls} ({c['n_jets']} jets)",
                    color=COLORS.get(cls),
                    linewidth=1.5,
                )
        ax.set_xlabel(b["label"])
        ax.set_ylabel("fraction of jets / bin")
        if key == "sd_mass":
            ax.axvline(172.5, color="gray", ls=":", lw=1)
        if key == "w_candidate":
            ax.axvline(80.4, color="gray", ls=":", lw=1)
        ax.legend(fontsize=8)
    axes.flat[-1].axis("off")
    save_figure(fig, path)


def plot_mean_images(
    summary: Mapping[str, Any], path: str | os.PathLike[str], half_width: float
) -> None:
    """Average preprocessed jet image per class (first channel), log colour scale."""
    classes = list(summary["classes"])
    fig, axes = plt.subplots(
        1, max(len(classes), 1), figsize=(5.5 * max(len(classes), 1), 4.8), squeeze=False
    )
    for ax, cls in zip(axes[0], classes, strict=False):
        img = np.asarray(summary["classes"][cls]["mean_image"])[0]
        positive = img[img > 0]
        norm = (
            LogNorm(vmin=max(positive.min(), positive.max() * 1e-5), vmax=positive.max())
            if positive.size
            else None
        )
        im = ax.imshow(
            img,
            origin="lower",
            extent=(-half_width, half_width, -half_width, half_width),
            norm=norm,
            cmap="viridis",
        )
        ax.set_title(f"{cls}: mean of {summary['classes'][cls]['n_jets']} images")
        ax.set_xlabel(r"$\Delta\eta'$ (centred, rotated, flipped)")
        ax.set_ylabel(r"$\Delta\phi'$")
        fig.colorbar(im, ax=ax, label="pT fraction per pixel")
    save_figure(fig, path)
