"""Figures of the event-variable study (the paper's FIG. 2 and ours); no computation beyond histograms."""

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

LABELS = {"m_bc": r"$m_{bc}$ [GeV]", "m_T": r"$m_T$ [GeV]", "m_T2": r"$m_{T2}$ [GeV]"}


def plot_eventvar(
    result: Mapping[str, Any], arrays: Mapping[str, Any], path: str | os.PathLike[str]
) -> None:
    """Heatmap of V against the reference variable (tau, r_s printed), V for four m_A, calibrated V, mass fits."""
    ref_name = result["reference"]
    fig, axes = plt.subplots(1, 4, figsize=(22, 4.8))
    ax = axes[0]
    h = ax.hist2d(arrays["reference"], arrays["v"], bins=80, norm=LogNorm(), cmap="viridis")
    fig.colorbar(h[3], ax=ax, label="events")
    ax.set_xlabel(LABELS.get(ref_name, ref_name))
    ax.set_ylabel("V")
    ax.set_title(
        f"{result['topology']}: Kendall τ = {result['kendall_tau']:.3f}, Spearman $r_s$ = {result['spearman_rs']:.3f}"
    )
    for m, c in arrays["curves"].items():
        label = f"$m_A$ = {m:.0f} GeV" + (
            "" if result["topology"] == "two_body" else ", $m_C$ = 100 GeV"
        )
        axes[1].hist(c["v"], bins=80, density=True, histtype="step", lw=1.5, label=label)
        axes[2].hist(c["calibrated"], bins=80, density=True, histtype="step", lw=1.5, label=label)
    axes[1].set_xlabel("V")
    axes[1].set_ylabel("unit-normalised")
    axes[1].legend(fontsize=8)
    axes[2].set_xlabel(f"calibrated V [GeV] (mass scale of {ref_name})")
    for cal in result["calibration"]:
        axes[2].axvline(cal["expected"], color="gray", ls=":", lw=1)
    axes[2].set_title("dotted: $m_A$ (peak) or $(m_A^2-m_C^2)/m_A$ (endpoint)", fontsize=9)
    ax = axes[3]
    fv, fr = result["mass_fit_v"], result["mass_fit_reference"]
    bins = np.linspace(
        min(fv["fitted"] + fr["fitted"]), max(fv["fitted"] + fr["fitted"]) + 1e-9, 30
    )
    ax.hist(
        fv["fitted"], bins=bins, histtype="step", lw=1.5, label=f"V: σ = {fv['resolution']:.2f} GeV"
    )
    ax.hist(
        fr["fitted"],
        bins=bins,
        histtype="step",
        lw=1.5,
        label=f"{ref_name}: σ = {fr['resolution']:.2f} GeV",
    )
    ax.axvline(fv["true_m_A"], color="gray", ls=":")
    ax.set_xlabel(r"fitted $m_A$ [GeV]")
    ax.set_ylabel("pseudo-experiments")
    ax.set_title(f"template fit, {fv['n_events']} events per pseudo-experiment", fontsize=9)
    ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_training(history: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(range(1, len(history["train_loss"]) + 1), history["train_loss"], label="train")
    ax.plot(range(1, len(history["val_loss"]) + 1), history["val_loss"], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("BCE loss")
    ax.legend()
    save_figure(fig, path)
