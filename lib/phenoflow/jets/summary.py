"""Histograms and numbers of the jets stage (streamed file by file; plotting elsewhere)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import awkward as ak
import numpy as np

from phenoflow.io.parquet import open_parquet, read_metadata
from phenoflow.jets.pipeline import selection_efficiencies
from phenoflow.physics.kinematics import mass
from phenoflow.summary import metric

HISTOGRAMS: dict[str, tuple[float, float, int, str]] = {
    "jet_mass": (0.0, 300.0, 60, "jet mass [GeV]"),
    "sd_mass": (0.0, 300.0, 60, "soft-drop mass [GeV]"),
    "tau32": (0.0, 1.2, 48, r"$\tau_{32}$"),
    "w_candidate": (0.0, 200.0, 50, "min. pair mass of 3 leading CA subjets [GeV]"),
    "n_subjets_ca": (-0.5, 10.5, 11, "CA subjets with pT > 5% of the jet"),
    "n_subjets_antikt": (-0.5, 10.5, 11, "anti-kt subjets with pT > 5% of the jet"),
    "n_subjets_hdbscan": (-0.5, 10.5, 11, "HDBSCAN subjets with pT > 5% of the jet"),
}
# subjets softer than this fraction of the jet pT are not counted in the multiplicities
SUBJET_PT_FRACTION = 0.05
CLASS_NAMES = {0: "qcd", 1: "top", 2: "higgs"}


def min_pair_mass(p4: ak.Array, n_leading: int = 3) -> np.ndarray:
    """Smallest pairwise invariant mass among each jet's ``n_leading`` hardest subjets (NaN if fewer) [GeV]."""
    lead = p4[:, :n_leading]
    pairs = ak.combinations(lead, 2)
    a, b = pairs["0"], pairs["1"]
    m = mass(a.px + b.px, a.py + b.py, a.pz + b.pz, a.E + b.E)
    out = ak.to_numpy(ak.fill_none(ak.min(m, axis=1), np.nan))
    return np.where(ak.to_numpy(ak.num(lead)) >= n_leading, out, np.nan)


def _columns(jets: ak.Array) -> dict[str, np.ndarray]:
    """(n_jets,) values of the histogrammed quantities that the jets carry."""
    cols = {
        "jet_mass": ak.to_numpy(jets["jet_mass"]),
        "sd_mass": ak.to_numpy(jets["sd_mass"]),
        "tau32": ak.to_numpy(jets["tau32"]),
    }
    for algo in ("ca", "antikt", "hdbscan"):
        if f"subjets_{algo}" in ak.fields(jets):
            sj = jets[f"subjets_{algo}"]
            hard = np.hypot(sj.px, sj.py) > SUBJET_PT_FRACTION * jets["jet_pt"]
            cols[f"n_subjets_{algo}"] = ak.to_numpy(ak.sum(hard, axis=1))
    if "subjets_ca" in ak.fields(jets):
        cols["w_candidate"] = min_pair_mass(jets["subjets_ca"])
    return cols


@dataclass
class _ClassSums:
    """Running sums over the jets of one class."""

    n: int = 0
    hist: dict[str, np.ndarray] = field(
        default_factory=lambda: {k: np.zeros(b[2]) for k, b in HISTOGRAMS.items()}
    )
    image_sum: Any = 0  # (channels, size, size) once a jet was added
    values: dict[str, list[np.ndarray]] = field(
        default_factory=lambda: {"sd_mass": [], "tau32": [], "w_candidate": []}
    )

    def add(self, cols: Mapping[str, np.ndarray], images: np.ndarray, sel: np.ndarray) -> None:
        """Add the jets ``sel`` (bool mask) of one row group."""
        self.n += int(sel.sum())
        for k, (lo, hi, nb, _) in HISTOGRAMS.items():
            if k in cols:
                x = cols[k][sel]
                self.hist[k] += np.histogram(x[np.isfinite(x)], bins=nb, range=(lo, hi))[0]
        for k in self.values:
            if k in cols:
                self.values[k].append(cols[k][sel])
        self.image_sum = self.image_sum + images[sel].sum(axis=0)

    def summary(self) -> dict[str, Any]:
        """Histograms, mean image and peak / median numbers of the class."""
        n, hist = self.n, self.hist
        v = {k: np.concatenate(x) if x else np.zeros(0) for k, x in self.values.items()}
        centres = {
            k: 0.5 * (np.linspace(lo, hi, nb + 1)[1:] + np.linspace(lo, hi, nb + 1)[:-1])
            for k, (lo, hi, nb, _) in HISTOGRAMS.items()
        }
        w = v["w_candidate"][np.isfinite(v["w_candidate"])]
        return {
            "n_jets": n,
            "histograms": {k: h.tolist() for k, h in hist.items()},
            "mean_image": (self.image_sum / n).tolist(),
            "sd_mass_median": float(np.median(v["sd_mass"])),
            "sd_mass_peak": float(centres["sd_mass"][np.argmax(hist["sd_mass"])]),
            "tau32_mean": float(np.mean(v["tau32"])),
            "tau32_median": float(np.median(v["tau32"])),
            "w_candidate_peak": float(centres["w_candidate"][np.argmax(hist["w_candidate"])])
            if w.size
            else None,
            "w_candidate_median": float(np.median(w)) if w.size else None,
        }


def _add_file(path: str | os.PathLike[str], sums: Mapping[str, _ClassSums]) -> None:
    """Add the jets of one file, row group by row group."""
    pf = open_parquet(path)
    for i in range(pf.num_row_groups):
        jets = ak.from_arrow(pf.read_row_group(i), highlevel=True)
        if not len(jets):
            continue
        cols = _columns(jets)
        labels = ak.to_numpy(jets["label"])
        images = ak.to_numpy(jets["image"])
        for lab, cls in CLASS_NAMES.items():
            sel = labels == lab
            if sel.any():
                sums[cls].add(cols, images, sel)


def jets_summary(files: Mapping[str, Sequence[str | os.PathLike[str]]]) -> dict[str, Any]:
    """Per-class histograms, mean images and per-process efficiencies from jet files.

    ``files``: process -> jet Parquet files.  Returns a JSON-serialisable dict.
    """
    sums = {cls: _ClassSums() for cls in CLASS_NAMES.values()}
    processes: dict[str, dict[str, Any]] = {}
    for proc, paths in files.items():
        p = processes.setdefault(
            proc,
            {
                "n_events": 0,
                "n_jets": 0,
                "n_jets_window": 0,
                "n_unmatched_dropped": 0,
                "n_events_with_jet": 0,
            },
        )
        for path in paths:
            meta = read_metadata(path)
            for k in p:
                p[k] += int(meta.get(k, 0))
            _add_file(path, sums)
    classes = {cls: acc.summary() for cls, acc in sums.items() if acc.n}
    for p in processes.values():
        p.update(selection_efficiencies(p))
    return {
        "binning": {
            k: {"low": lo, "high": hi, "bins": nb, "label": lab}
            for k, (lo, hi, nb, lab) in HISTOGRAMS.items()
        },
        "classes": classes,
        "processes": processes,
    }


def jets_metrics(summary: Mapping[str, Any]) -> dict[str, Any]:
    """``results/jets/metrics.json`` content."""
    m: dict[str, Any] = {}
    for proc, p in summary["processes"].items():
        m[f"jets_per_event_{proc}"] = metric(
            p["jets_per_event"], "", f"selected fat jets per {proc} event"
        )
        m[f"event_efficiency_{proc}"] = metric(
            p["event_efficiency"], "", f"fraction of {proc} events with a selected jet"
        )
        m[f"truth_match_efficiency_{proc}"] = metric(
            p["truth_match_efficiency"],
            "",
            f"fraction of {proc} window jets kept by truth matching",
        )
    for cls, c in summary["classes"].items():
        m[f"n_jets_{cls}"] = metric(c["n_jets"], "", f"{cls} jets")
        m[f"sd_mass_peak_{cls}"] = metric(
            c["sd_mass_peak"], "GeV", f"mode of the soft-drop mass of {cls} jets (5 GeV bins)"
        )
        m[f"tau32_median_{cls}"] = metric(c["tau32_median"], "", f"median tau32 of {cls} jets")
        if c["w_candidate_peak"] is not None:
            m[f"w_candidate_peak_{cls}"] = metric(
                c["w_candidate_peak"],
                "GeV",
                f"mode of the min. pair mass of the 3 leading CA subjets, {cls} jets (4 GeV bins)",
            )
    return {"title": "Jets", "metrics": m}


def efficiency_table(summary: Mapping[str, Any]) -> str:
    lines = [
        "| process | events | jets in window | truth-matched jets kept | jets / event | events with a jet |",
        "|---|---|---|---|---|---|",
    ]
    for proc, p in summary["processes"].items():
        lines.append(
            f"| {proc} | {p['n_events']} | {p['n_jets_window']} | {p['n_jets']} ({p['truth_match_efficiency']:.1%}) | "
            f"{p['jets_per_event']:.3f} | {p['event_efficiency']:.1%} |"
        )
    return "\n".join(lines) + "\n"
