"""Figures of the integration stage: error vs calls, pulls, the learnt strata, Drell-Yan."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from phenoflow.plotting import save_figure

COLORS = {"lestrat": "C0", "vegas": "C1", "vegas_classic": "C2", "plain": "C3", "madnis": "C4"}


def plot_comparison(
    ladders: Sequence[Mapping[str, Any]],
    pulls: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
) -> None:
    """Per integrand: |estimate - exact| and the quoted error vs calls; pull distributions."""
    import matplotlib.pyplot as plt

    n = len(ladders)
    fig, axes = plt.subplots(2, n, figsize=(4.6 * n, 8), squeeze=False)
    for k, lad in enumerate(ladders):
        ax = axes[0][k]
        scale = abs(lad["exact"]) or 1.0
        for method in dict.fromkeys(r["method"] for r in lad["rows"]):
            rows = [r for r in lad["rows"] if r["method"] == method]
            calls = [r["n_calls"] for r in rows]
            ax.plot(calls, [abs(r["mean"] - lad["exact"]) / scale for r in rows], "o-",
                    color=COLORS.get(method), label=f"{method} |error|")  # fmt: skip
            ax.plot(calls, [r["sdev"] / scale for r in rows], "s--", mfc="none",
                    color=COLORS.get(method), label=f"{method} quoted σ")  # fmt: skip
        ax.set(xscale="log", yscale="log", xlabel="integrand calls", ylabel="relative to |exact|",
               title=f"{lad['integrand']} (exact {lad['exact']:.4g} {lad['unit']})")  # fmt: skip
        ax.legend(fontsize=6, ncol=2)
    bins = np.linspace(-4, 4, 17)
    for k, p in enumerate(pulls[:n]):
        ax = axes[1][k]
        for method, v in p.items():
            if isinstance(v, dict):
                pv = np.clip(np.asarray(v["pulls"], dtype=float), -3.99, 3.99)
                ax.hist(pv, bins, histtype="step", lw=1.5, color=COLORS.get(method),
                        label=f"{method}: {v['pull_mean']:+.2f} ± {v['pull_std']:.2f}")  # fmt: skip
        x = np.linspace(-4, 4, 200)
        n_seeds = max(len(v["pulls"]) for v in p.values() if isinstance(v, dict))
        ax.plot(x, n_seeds * 0.5 * np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi), "k:", label="N(0, 1)")
        ax.set(xlabel="(estimate − exact) / σ", ylabel="seeds",
               title=f"{p['integrand']}: pulls at {p['n_calls']:,} calls")  # fmt: skip
        ax.legend(fontsize=7)
    save_figure(fig, path)


def plot_strata(
    gx: np.ndarray,
    gy: np.ndarray,
    fvals: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    result: Any,
    exact: float,
    path: str | os.PathLike[str],
) -> None:
    """The integrand (signed log) and the classifier's strata on a (n, n) grid."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    signed = np.sign(fvals) * np.log10(1.0 + np.abs(fvals) / 1e-6)
    im = axes[0].pcolormesh(gx, gy, signed, cmap="RdBu_r", shading="auto",
                            vmin=-np.abs(signed).max(), vmax=np.abs(signed).max())  # fmt: skip
    fig.colorbar(im, ax=axes[0], label="sign(f) log10(1 + |f| / 1e-6)")
    axes[0].set(title="2D fine-tuning integrand", xlabel="$x_1$", ylabel="$x_2$")
    k = len(names)
    cmap = ListedColormap(plt.get_cmap("tab20")(np.arange(k) % 20))
    im = axes[1].pcolormesh(gx, gy, labels, cmap=cmap, shading="auto", vmin=-0.5, vmax=k - 0.5)
    cb = fig.colorbar(im, ax=axes[1], ticks=range(k))
    cb.ax.set_yticklabels(names, fontsize=6)
    axes[1].set(
        title=f"learnt strata: {result.mean:.5f} ± {result.sdev:.5f} (exact {exact:.5f}), "
        f"{result.n_calls:,} calls",
        xlabel="$x_1$",
        ylabel="$x_2$",
    )
    axes[1].title.set_fontsize(8)
    save_figure(fig, path)


def plot_drell_yan(arrays: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """m_ee over many orders of magnitude, cos theta* and A_FB: events against quadrature."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(15, 8), gridspec_kw={"height_ratios": [3, 1]})
    mass = arrays["mass"]
    edges = mass["edges"]
    width = np.diff(edges)
    centers = np.sqrt(edges[1:] * edges[:-1])
    ax, rax = axes[0][0], axes[1][0]
    ax.stairs(mass["quadrature"] / width, edges, color="k", label="quadrature")
    for key, style in (("plain", "o"), ("zoomed", "s")):
        h, e = mass[key]
        ax.errorbar(
            centers, h / width, e / width, fmt=style, ms=3, label=f"unweighted events ({key})"
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            rax.errorbar(centers, h / mass["quadrature"], e / mass["quadrature"], fmt=style, ms=3)
    ax.set(
        xscale="log",
        yscale="log",
        ylabel="dσ/dm [pb/GeV]",
        title="pp → γ*/Z → e⁺e⁻, 13 TeV, with cuts",
    )
    ax.legend(fontsize=7)
    rax.axhline(1, color="k", lw=0.8)
    rax.set(xscale="log", xlabel="$m_{ee}$ [GeV]", ylabel="events / quadrature", ylim=(0.8, 1.2))
    for c, (ax, rax) in zip(arrays["cos"][:1], [(axes[0][1], axes[1][1])], strict=False):
        cedges = np.linspace(-1, 1, len(c["events"]) + 1)
        cc = 0.5 * (cedges[1:] + cedges[:-1])
        ax.stairs(c["quadrature"], cedges, color="k", label="quadrature")
        ax.errorbar(cc, c["events"], c["errors"], fmt="o", ms=3, label="events")
        ax.set(
            ylabel="σ per bin [pb]",
            title=f"cos θ*, {c['window_gev'][0]:g}–{c['window_gev'][1]:g} GeV",
        )
        ax.legend(fontsize=7)
        rax.errorbar(
            cc, c["events"] / c["quadrature"], c["errors"] / c["quadrature"], fmt="o", ms=3
        )
        rax.axhline(1, color="k", lw=0.8)
        rax.set(xlabel="cos θ*", ylim=(0.9, 1.1))
    afb = arrays["afb"]
    ae = afb["edges"]
    ac = np.sqrt(ae[1:] * ae[:-1])
    ax, rax = axes[0][2], axes[1][2]
    ax.stairs(afb["quadrature"], ae, color="k", label="quadrature")
    ax.errorbar(ac, afb["events"], afb["errors"], fmt="o", ms=3, label="events (zoomed sample)")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set(xscale="log", ylabel="$A_{FB}$", title="forward-backward asymmetry")
    ax.legend(fontsize=7)
    rax.errorbar(ac, afb["events"] - afb["quadrature"], afb["errors"], fmt="o", ms=3)
    rax.axhline(0, color="k", lw=0.8)
    rax.set(xscale="log", xlabel="$m_{ee}$ [GeV]", ylabel="events − quadrature")
    save_figure(fig, path)
