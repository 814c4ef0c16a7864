"""Validation figure of one event sample: multiplicity, leading pT, sigma table."""

from __future__ import annotations

import os
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from phenoflow.plotting import save_figure


def _fmt_sigma(v: float | None, e: float | None) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    return f"{v:.4g} ± {e:.2g}" if e is not None and np.isfinite(e) else f"{v:.4g}"


def plot_event_validation(stats: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Save the three-panel validation figure of ``stats`` (from ``sample_stats``)."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), gridspec_kw={"width_ratios": [1, 1, 1.1]})
    for ax, key, label in (
        (axes[0], "multiplicity", "visible final-state multiplicity"),
        (axes[1], "leading_pt", "leading-particle $p_T$ [GeV]"),
    ):
        h = stats[key]
        ax.stairs(h["counts"], h["edges"], fill=True, alpha=0.4)
        ax.stairs(h["counts"], h["edges"])
        ax.set_xlabel(label)
        ax.set_ylabel("events / bin")
        ax.set_title(f"mean = {h['mean']:.4g}")
    ax = axes[2]
    ax.axis("off")
    rows = [
        [r["file"], str(r["n_events"]), _fmt_sigma(r["sigma_pb"], r["sigma_err_pb"])]
        for r in stats["shards"]
    ]
    rows.append(
        ["combined", str(stats["n_events"]), _fmt_sigma(stats["sigma_pb"], stats["sigma_err_pb"])]
    )
    table = ax.table(cellText=rows, colLabels=["shard", "events", "σ [pb]"], loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.3)
    fig.suptitle(f"{stats['process']}: {stats['n_events']} events")
    save_figure(fig, path)
