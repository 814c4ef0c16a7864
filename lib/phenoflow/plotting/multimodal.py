"""Figures of the multi-modal stage: ROC per task, AUC against lambda, attention shares,
mean radiation images, image-only AUC in pT_bb bins."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from phenoflow.plotting import save_figure


def _grid(n: int, width: float = 4.6, height: float = 4.0) -> tuple[Any, np.ndarray]:
    cols = min(n, 2) if n > 1 else 1
    rows = int(np.ceil(max(n, 1) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    return fig, axes.ravel()


def plot_roc(
    evaluations: Mapping[str, Mapping[str, Any]],
    models: Sequence[str],
    path: str | os.PathLike[str],
) -> None:
    """Background rejection 1/eps_B against eps_S for the listed models, one panel per task."""
    fig, axes = _grid(len(evaluations))
    for ax, (task, ev) in zip(axes, evaluations.items(), strict=False):
        for key in models:
            if key not in ev["models"]:
                continue
            r = ev["models"][key]
            eb = np.asarray(r["roc"]["eff_b"], dtype=float)
            rej = np.where(eb > 0, 1.0 / np.maximum(eb, 1e-300), np.nan)
            a = r["auc"]
            ax.plot(r["roc"]["eff_s"], rej, label=f"{key} ({a['mean']:.3f})")
        ax.set_yscale("log")
        ax.set_xlabel(r"signal efficiency $\epsilon_S$")
        ax.set_ylabel(r"$1/\epsilon_B$")
        ax.set_title(f"{task}" + (" (reweighted)" if ev.get("reweighted") else ""))
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, title="model (mean AUC)", title_fontsize=7)
    save_figure(fig, path)


def plot_auc_vs_lambda(
    scans: Mapping[str, Mapping[str, Sequence[Mapping[str, float]]]], path: str | os.PathLike[str]
) -> None:
    """AUC (mean +- spread over seeds) against lambda per L2 target, one panel per task.

    ``scans[task][half]`` is a list of ``{"lambda", "mean", "std"}``; lambda = 0 is drawn at
    the left edge of the log axis.
    """
    fig, axes = _grid(len(scans))
    for ax, (task, halves) in zip(axes, scans.items(), strict=False):
        lams = sorted({p["lambda"] for pts in halves.values() for p in pts if p["lambda"] > 0})
        zero = lams[0] / 10 if lams else 1e-5
        for half, pts in halves.items():
            x = [p["lambda"] if p["lambda"] > 0 else zero for p in pts]
            y = [p["mean"] for p in pts]
            e = [0.0 if p["std"] is None or np.isnan(p["std"]) else p["std"] for p in pts]
            ax.errorbar(x, y, yerr=e, marker="o", capsize=3, label=f"L2 on {half}")
        ax.set_xscale("log")
        ax.set_xlabel(r"$\lambda$ (leftmost point: $\lambda = 0$)")
        ax.set_ylabel("test AUC")
        ax.set_title(task)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_attention_shares(
    shares: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]], path: str | os.PathLike[str]
) -> None:
    """Image share of the attention values per model and class, one panel per task.

    ``shares[task][model][class]`` = (image, kinematics) mean share of sum |z * a|.
    """
    fig, axes = _grid(len(shares))
    for ax, (task, by_model) in zip(axes, shares.items(), strict=False):
        names = list(by_model)
        x = np.arange(len(names))
        for j, cls in enumerate(("signal", "background")):
            img = [by_model[m][cls][0] for m in names]
            ax.bar(x + (j - 0.5) * 0.38, img, 0.38, label=cls)
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_ylabel(r"image share of $\sum |z \odot a|$")
        ax.set_title(task)
        ax.legend(fontsize=8)
    save_figure(fig, path)


def plot_mean_images(
    images: Mapping[str, Mapping[str, np.ndarray]],
    extents: Mapping[str, Sequence[float]],
    path: str | os.PathLike[str],
) -> None:
    """Mean plain and Riemann images per class (rows: task x kind; columns: class)."""
    rows = [(task, kind) for task in images for kind in ("plain", "riemann")]
    fig, axes = plt.subplots(len(rows), 2, figsize=(8, 3.2 * len(rows)), squeeze=False)
    labels = {"plain": (r"$\eta'$", r"$\phi'$"), "riemann": (r"$\psi$", r"$\arcsin z$")}
    for (task, kind), row in zip(rows, axes, strict=True):
        vmax = max(float(images[task][f"{kind}_{c}"].max()) for c in ("signal", "background"))
        for ax, cls in zip(row, ("signal", "background"), strict=True):
            im = ax.imshow(
                images[task][f"{kind}_{cls}"], origin="lower", aspect="auto", cmap="viridis",
                extent=tuple(extents[kind]), vmin=0, vmax=vmax or 1.0,
            )  # fmt: skip
            ax.set_xlabel(labels[kind][0])
            ax.set_ylabel(labels[kind][1])
            ax.set_title(f"{task}, {kind}: {cls}", fontsize=9)
            fig.colorbar(im, ax=ax, label="mean pT per pixel [GeV]")
    save_figure(fig, path)


def plot_auc_vs_pt(
    binned: Mapping[str, Mapping[str, Mapping[str, Sequence[float | None]]]],
    edges: Sequence[float],
    path: str | os.PathLike[str],
) -> None:
    """Image-only AUC in pT_bb bins, plain against Riemann images, one panel per task."""
    fig, axes = _grid(len(binned))
    centres = 0.5 * (np.asarray(edges[:-1]) + np.asarray(edges[1:]))
    for ax, (task, by_model) in zip(axes, binned.items(), strict=False):
        for key, b in by_model.items():
            y = np.array([np.nan if v is None else v for v in b["mean"]], dtype=float)
            e = np.array([0.0 if v is None else v for v in b["std"]], dtype=float)
            ax.errorbar(
                centres,
                y,
                yerr=e,
                xerr=0.5 * np.diff(edges),
                marker="o",
                ls="",
                capsize=2,
                label=key,
            )
        ax.set_xlabel(r"$p_T^{bb}$ [GeV]")
        ax.set_ylabel("test AUC in the bin")
        ax.set_title(task)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, path)
