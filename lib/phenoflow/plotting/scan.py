"""Figures of the scan stage: efficiency, coverage, found points, SMOTE, the Z' region."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from phenoflow.plotting import save_figure
from phenoflow.scan.result import ScanResult

COLORS = {"ml_regressor": "C0", "ml_classifier": "C1", "random": "C2", "mcmc": "C3", "ml": "C0"}


def plot_function_scan(
    study: Mapping[str, Any],
    scans: Mapping[str, ScanResult],
    cell_labels: np.ndarray,
    path: str | os.PathLike[str],
) -> None:
    """Efficiency per iteration, cell populations and a corner plot of the ML scanner's points.

    ``cell_labels`` (n,) the cell index of each in-target point of the first ML scan.
    """
    import matplotlib.pyplot as plt

    methods = study["methods"]
    ml = next(m for m in scans if m.startswith("ml_"))
    pts = scans[ml].target_points
    d = pts.shape[1]
    pairs = list(combinations(range(d), 2))
    fig, axes = plt.subplots(1, 2 + len(pairs), figsize=(4.2 * (2 + len(pairs)), 4))
    ax = axes[0]
    for m, s in methods.items():
        eff = np.asarray(s["efficiency_per_iteration"], dtype=float)
        if len(eff) > 1:
            ax.plot(np.arange(len(eff)), eff, "o-", ms=3, color=COLORS.get(m), label=m)
        else:
            ax.axhline(
                s["efficiency_overall"], ls="--", color=COLORS.get(m), label=f"{m} (overall)"
            )
    ax.axhline(0.9, color="k", lw=0.8, ls=":")
    ax.set(
        xlabel="iteration", ylabel="in-target fraction", ylim=(0, 1.02), title=study["objective"]
    )
    ax.legend(fontsize=7)
    ax = axes[1]
    width = 0.8 / len(methods)
    for i, (m, s) in enumerate(methods.items()):
        counts = np.asarray(s["cell_counts"], dtype=float)
        dev = counts / counts.mean() if counts.mean() > 0 else counts
        ax.bar(np.arange(len(dev)) + i * width, dev, width, color=COLORS.get(m), label=m)
    ax.axhspan(0.5, 1.5, color="0.9", zorder=0)
    ax.set(xlabel="target cell", ylabel="population / mean", title="coverage (band: ±50%)")
    ax.legend(fontsize=7)
    for ax, (i, j) in zip(axes[2:], pairs, strict=True):
        ax.scatter(pts[:, i], pts[:, j], c=cell_labels, s=1, cmap="tab20", rasterized=True)
        lo, hi = scans[ml].bounds[i], scans[ml].bounds[j]
        ax.set(xlim=lo, ylim=hi, xlabel=f"$x_{i + 1}$", ylabel=f"$x_{j + 1}$")
        ax.set_title(f"{ml}: {len(pts)} in-target points", fontsize=9)
    save_figure(fig, path)


def plot_smote(study: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """In-target fraction per iteration with and without SMOTE, one line per seed."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for variant, color in (("without_smote", "C2"), ("with_smote", "C0")):
        for k, row in enumerate(study["runs"][variant]):
            eff = row["efficiency_per_iteration"]
            ax.plot(range(len(eff)), eff, color=color, alpha=0.6, label=variant if k == 0 else None)
    ax.set(
        xlabel="iteration",
        ylabel="in-target fraction",
        ylim=(0, 1.02),
        title=f"rare target: {study['volume_fraction']:.2%} of a {study['dim']}D box",
    )
    ax.legend()
    save_figure(fig, path)


def plot_zprime(
    scans: Mapping[str, ScanResult],
    names: Sequence[str],
    truth: Sequence[float],
    path: str | os.PathLike[str],
) -> None:
    """Allowed Z' points (in target) of each method in every pair of parameters."""
    import matplotlib.pyplot as plt

    d = len(names)
    pairs = list(combinations(range(d), 2))
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.3 * len(pairs), 4), squeeze=False)
    for ax, (i, j) in zip(axes[0], pairs, strict=True):
        for m, r in scans.items():
            allowed = r.target_points
            ax.scatter(allowed[:, i], allowed[:, j], s=2, color=COLORS.get(m, "C4"), alpha=0.5,
                       label=f"{m} ({len(allowed)} allowed / {r.n_calls} calls)", rasterized=True)  # fmt: skip
        ax.plot(truth[i], truth[j], "k*", ms=10, label="truth")
        r0 = next(iter(scans.values()))
        ax.set(xlim=r0.bounds[i], ylim=r0.bounds[j], xlabel=names[i], ylabel=names[j])
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Z' parameters allowed at 95% CL by pseudo-data of σ(pp → e+e−) in mass bins")
    save_figure(fig, path)
