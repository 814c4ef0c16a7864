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
    two_d = "mass_fit_2d_v" in result
    n_panels = 5 if two_d else 4
    fig, axes = plt.subplots(1, n_panels, figsize=(5.5 * n_panels, 4.8))
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
    m_c = "" if result["topology"] == "two_body" else f", $m_C$ = {fv['m_C']:.0f} GeV known"
    ax.set_title(f"template fit, {fv['n_events']} events per pseudo-experiment{m_c}", fontsize=9)
    ax.legend(fontsize=8)
    if two_d:
        _plot_fit_2d(axes[4], result["mass_fit_2d_v"], result["mass_fit_2d_reference"], ref_name)
    save_figure(fig, path)


def _plot_fit_2d(ax: Any, fv: Mapping[str, Any], fr: Mapping[str, Any], ref_name: str) -> None:
    """Fitted (m_A, m_C) of every pseudo-experiment when m_C is unknown too, with the mu = const curve."""
    for f, name, marker in ((fr, ref_name, "x"), (fv, "V", "o")):
        ax.scatter(
            f["fitted"],
            f["fitted_m_C"],
            s=10,
            marker=marker,
            alpha=0.6,
            label=f"{name}: σ($m_A$) = {f['resolution']:.1f}, σ($m_C$) = {f['m_C']['resolution']:.1f} GeV",
        )
    a0, c0, mu = fv["true_m_A"], fv["true_m_C"], fv["true_mu"]
    ma = np.linspace(max(min(fv["grid_m_A"]), mu), max(fv["grid_m_A"]), 100)
    ax.plot(ma, np.sqrt(ma * (ma - mu)), color="gray", ls=":", label=r"$(m_A^2-m_C^2)/m_A$ = true")
    ax.plot([a0], [c0], "k*", ms=12)
    ax.set_xlim(min(fv["grid_m_A"]) - 2, max(fv["grid_m_A"]) + 2)
    ax.set_xlabel(r"fitted $m_A$ [GeV]")
    ax.set_ylabel(r"fitted $m_C$ [GeV]")
    ax.set_title("template fit with $m_C$ unknown (profiled)", fontsize=9)
    ax.legend(fontsize=7)


def plot_training(history: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(range(1, len(history["train_loss"]) + 1), history["train_loss"], label="train")
    ax.plot(range(1, len(history["val_loss"]) + 1), history["val_loss"], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("BCE loss")
    ax.legend()
    save_figure(fig, path)
