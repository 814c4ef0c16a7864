"""Validation numbers of generated (or imported) event samples.

Streams every shard row group by row group, so memory stays bounded by a
chunk whatever the sample size.  Histograms are computed here; plotting
lives in ``phenoflow.plotting.events``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from phenoflow.io.parquet import iter_events, read_metadata
from phenoflow.physics.cross_sections import combine_cross_sections
from phenoflow.physics.kinematics import pt
from phenoflow.summary import metric


def sample_stats(shards: Sequence[str | os.PathLike[str]], bins: int) -> dict[str, Any]:
    """Histograms and cross section of one process from its shard files."""
    mult: list[np.ndarray] = []
    lead: list[np.ndarray] = []
    shard_rows: list[dict[str, Any]] = []
    process = None
    sum_w = 0.0
    for path in shards:
        meta = read_metadata(path)
        process = meta.get("process", process)
        n = 0
        for chunk in iter_events(path):
            p = chunk.particles
            mult.append(ak.to_numpy(ak.num(p)))
            pts = pt(p.px, p.py)
            lead.append(ak.to_numpy(ak.fill_none(ak.max(pts, axis=1), 0.0)))
            sum_w += float(ak.sum(chunk.weight))
            n += len(chunk)
        shard_rows.append(
            {
                "file": Path(path).name,
                "n_events": n,
                "sigma_pb": meta.get("sigma_pb"),
                "sigma_err_pb": meta.get("sigma_err_pb"),
            }
        )
    m = np.concatenate(mult) if mult else np.zeros(0)
    lp = np.concatenate(lead) if lead else np.zeros(0)
    known = [r for r in shard_rows if r["sigma_pb"] is not None]
    sigma, sigma_err = combine_cross_sections(
        [r["sigma_pb"] for r in known],
        [r["sigma_err_pb"] or 0.0 for r in known],
        [r["n_events"] for r in known],
    )
    m_edges = np.histogram_bin_edges(m, bins=bins) if m.size else np.linspace(0, 1, bins + 1)
    top = float(np.quantile(lp, 0.995)) if lp.size else 1.0
    l_edges = np.linspace(0.0, max(top, 1e-6), bins + 1)
    return {
        "process": process,
        "n_events": int(m.size),
        "sum_weights": sum_w,
        "sigma_pb": sigma,
        "sigma_err_pb": sigma_err,
        "shards": shard_rows,
        "multiplicity": {
            "mean": float(m.mean()) if m.size else math.nan,
            "edges": m_edges.tolist(),
            "counts": np.histogram(m, m_edges)[0].tolist(),
        },
        "leading_pt": {
            "mean": float(lp.mean()) if lp.size else math.nan,
            "edges": l_edges.tolist(),
            "counts": np.histogram(np.minimum(lp, l_edges[-1]), l_edges)[0].tolist(),
            "unit": "GeV",
        },
    }


def events_metrics(stats: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The ``results/events/metrics.json`` content from per-process stats."""
    metrics: dict[str, Any] = {}
    for s in stats:
        p = s["process"]
        metrics[f"sigma_{p}"] = metric(
            s["sigma_pb"],
            "pb",
            f"cross section of {p} (Pythia estimate, shards combined)",
            uncertainty=s["sigma_err_pb"],
        )
        metrics[f"n_events_{p}"] = metric(s["n_events"], "", f"events of {p}")
        metrics[f"mean_multiplicity_{p}"] = metric(
            s["multiplicity"]["mean"], "", f"mean visible final-state multiplicity of {p}"
        )
    return {"title": "Event generation", "metrics": metrics}
