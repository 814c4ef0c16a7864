"""Figures of the multi-scale stage: ROC, rejection per model, cross-attention map, inputs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from phenoflow.plotting import save_figure


def plot_roc(ev: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """1/eps_B against eps_S (log scale) per model, and the cut-based working point."""
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for key, r in ev["models"].items():
        eb = np.asarray(r["roc"]["eff_b"], dtype=float)
        rej = np.where(eb > 0, 1.0 / np.maximum(eb, 1e-300), np.nan)
        ax.plot(r["roc"]["eff_s"], rej, label=f"{key} (AUC {r['auc']['mean']:.3f})")
    c = ev["cut_based"]
    if c["eff_b"] > 0:
        ax.plot([c["eff_s"]], [1 / c["eff_b"]], "k*", ms=12, label="mass windows")
    ax.set_yscale("log")
    ax.set_xlabel(r"signal efficiency $\epsilon_S$")
    ax.set_ylabel(r"background rejection $1/\epsilon_B$")
    ax.set_title(f"H -> hh -> 4b, m_H = {ev['mass']:.0f} GeV (first seed)", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_rejection(ev: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """R30 and R50 per model: mean and seed spread (bars), bootstrap interval (black)."""
    keys = list(ev["models"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, wp in zip(axes, ("r30", "r50"), strict=True):
        r = [ev["models"][k][wp] for k in keys]
        mean = np.array([x["mean"] for x in r])
        std = np.array([0.0 if x["std"] is None or np.isnan(x["std"]) else x["std"] for x in r])
        x = np.arange(len(keys))
        ax.bar(
            x, mean, yerr=std, capsize=4, color="tab:blue", alpha=0.7, label="mean ± seed spread"
        )
        for i, k in enumerate(keys):
            b = ev["models"][k]["bootstrap_16_84"].get(wp)
            if b:
                ax.plot(
                    [i + 0.25, i + 0.25],
                    b,
                    "k-",
                    lw=2,
                    label="bootstrap 16-84 %" if i == 0 else None,
                )
        ax.set_xticks(x, keys, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(f"rejection at $\\epsilon_S$ = 0.{wp[1]}")
        ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_attention(ev: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Mean cross-attention of each kinematic token over the constituent slots, per class."""
    att = ev.get("attention")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, cls in zip(axes, ("signal", "background"), strict=True):
        if not att:
            ax.text(0.5, 0.5, "no multiscale model", ha="center")
            ax.axis("off")
            continue
        a = np.asarray(att[cls])
        im = ax.imshow(a, aspect="auto", origin="lower", cmap="magma", vmin=0)
        n = a.shape[1] // 2
        ax.axvline(n - 0.5, color="w", lw=1)
        ax.set_xlabel(f"constituent slot (pT rank; jet 1: 0-{n - 1}, jet 2: {n}-{2 * n - 1})")
        ax.set_ylabel("kinematic token (J1, its subjets, J2, its subjets, JJ)")
        ax.set_title(f"{cls} events", fontsize=10)
        fig.colorbar(im, ax=ax, label="mean attention weight")
    save_figure(fig, path)


def plot_inputs(ev: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Signal and background distributions of the key kinematic inputs (unit area)."""
    dist = ev["distributions"]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, (name, d) in zip(axes.ravel(), dist.items(), strict=False):
        e = np.asarray(d["edges"])
        for cls in ("signal", "background"):
            ax.stairs(d[cls], e, label=cls)
        ax.set_xlabel(name + (" [GeV]" if name.startswith(("m_", "sd_")) else ""))
        ax.set_ylabel("density")
        ax.legend(fontsize=8)
    save_figure(fig, path)
