"""Training datasets from jet files: deterministic splits, fixed-shape arrays, a card.

Layout: ``results/datasets/{task}/{train,val,test}/<array>.npy`` (memory-mapped
when loaded with ``np.load(..., mmap_mode="r")``) plus ``card.json`` and
``card.md``.  Jets are assigned to a split by a hash of (process, event_id),
so both jets of an event land in the same split and the split never changes
when more shards are added.  Arrays are filled file by file into memory-mapped
``.npy`` files: memory is bounded by one jet file, not the dataset.
"""

from __future__ import annotations

import json
import os
import shutil
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from phenoflow.io.parquet import open_parquet, read_metadata, read_table
from phenoflow.jets.pipeline import (
    JET_FIELDS,
    SCALAR_SUBSTRUCTURE,
    ChunkCounts,
    selection_efficiencies,
)
from phenoflow.physics.cross_sections import combine_cross_sections
from phenoflow.physics.kinematics import pt as transverse_momentum

SPLITS = ("train", "val", "test")
MAX_SUBJETS = 10
SUBSTRUCTURE_COLUMNS = ("jet_mass", *SCALAR_SUBSTRUCTURE)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def split_of(
    process: str, event_id: np.ndarray, fractions: Sequence[float], seed: int = 0
) -> np.ndarray:
    """Split index (0 train, 1 val, 2 test) of each jet, from a hash of (seed, process, event_id)."""
    salt = np.uint64(zlib.crc32(f"{seed}/{process}".encode()))
    u = _splitmix64(
        np.asarray(event_id, dtype=np.int64).view(np.uint64) ^ (salt << np.uint64(32))
    ) / np.float64(2**64)
    edges = np.cumsum(fractions)[:-1]
    return np.searchsorted(edges, u, side="right").astype(np.int8)


def _subjet_array(p4: ak.Array) -> tuple[np.ndarray, np.ndarray]:
    """(n, MAX_SUBJETS, 4) float32 subjet (px, py, pz, E), pT-ordered, and its mask."""
    padded = ak.pad_none(p4, MAX_SUBJETS, axis=1, clip=True)
    mask = ak.to_numpy(~ak.is_none(padded, axis=1))
    out = np.stack(
        [ak.to_numpy(ak.fill_none(padded[f], 0.0)) for f in ("px", "py", "pz", "E")], axis=-1
    )
    return out.astype(np.float32), mask


def _arrays(jets: ak.Array, algorithms: Sequence[str], n_max: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {
        "features": ak.to_numpy(jets["features"]).astype(np.float32),
        "mask": ak.to_numpy(jets["mask"]).astype(bool),
        "images": ak.to_numpy(jets["image"]).astype(np.float32),
        "substructure": np.stack(
            [ak.to_numpy(jets[c]).astype(np.float32) for c in SUBSTRUCTURE_COLUMNS], axis=-1
        ),
        "jet": np.stack(
            [ak.to_numpy(jets[f"jet_{f}"]).astype(np.float32) for f in JET_FIELDS], axis=-1
        ),
        "event_id": ak.to_numpy(jets["event_id"]).astype(np.int64),
    }
    const = jets["constituents"]
    order = ak.argsort(transverse_momentum(const.px, const.py), axis=1, ascending=False)
    # constituent four-momenta aligned with `features` (pT-ordered, zero-padded): for pairwise inputs
    padded = ak.pad_none(const[order], n_max, axis=1, clip=True)
    out["p4"] = np.stack(
        [ak.to_numpy(ak.fill_none(padded[f], 0.0)) for f in ("px", "py", "pz", "E")], axis=-1
    ).astype(np.float32)
    for algo in algorithms:
        out[f"subjets_{algo}"], out[f"subjets_{algo}_mask"] = _subjet_array(jets[f"subjets_{algo}"])
        idx = ak.pad_none(const[f"subjet_{algo}"][order], n_max, axis=1, clip=True)
        out[f"constituent_subjet_{algo}"] = ak.to_numpy(ak.fill_none(idx, -1)).astype(np.int16)
    return out


def build_dataset(
    task: str,
    inputs: Mapping[str, Sequence[str | os.PathLike[str]]],
    labels: Mapping[str, int],
    fractions: Sequence[float],
    outdir: str | os.PathLike[str],
    seed: int = 0,
    cuts: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the dataset of ``task`` from jet files per process; return its card.

    ``inputs``: process -> jet Parquet files; ``labels``: process -> class
    label (1 signal, 0 background).  Writes ``{outdir}/{split}/*.npy``,
    ``card.json`` and ``card.md`` (into a temporary directory first).
    """
    outdir = Path(outdir)
    tmp = outdir.with_name(outdir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        card = _build(task, inputs, labels, fractions, tmp, seed, cuts or {})
        shutil.rmtree(outdir, ignore_errors=True)
        os.replace(tmp, outdir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return card


@dataclass
class _ProcessStats:
    """What the jet files of one process add up to (for the card)."""

    label: int
    counts: ChunkCounts = field(default_factory=ChunkCounts)
    sigma_pb: list[tuple[Any, Any, int]] = field(default_factory=list)  # per file: sigma, err, n
    files: int = 0

    def add(self, meta: Mapping[str, Any]) -> None:
        """Add one jet file's metadata."""
        c = self.counts
        c.add(ChunkCounts(**{k: int(meta.get(k, 0)) for k in vars(c)}))
        self.sigma_pb.append(
            (meta.get("sigma_pb"), meta.get("sigma_err_pb"), int(meta.get("n_events", 0)))
        )
        self.files += 1


@dataclass
class _Survey:
    """Pass 1 over the jet files: each file's split, split sizes, array shapes, metadata."""

    per_file: list[tuple[str, Path, np.ndarray]]  # (process, path, split index per jet)
    counts: np.ndarray  # jets per split
    processes: dict[str, _ProcessStats]
    algorithms: Sequence[str]
    shapes: dict[str, tuple[int, ...]]
    dtypes: dict[str, np.dtype]


def _survey(
    task: str,
    files: list[tuple[str, Path]],
    labels: Mapping[str, int],
    fractions: Sequence[float],
    seed: int,
) -> _Survey:
    """Read every file's metadata and event ids: sizes, splits and the array shapes."""
    counts = np.zeros(len(SPLITS), dtype=np.int64)
    per_file = []
    processes: dict[str, _ProcessStats] = {}
    algorithms: Sequence[str] | None = None
    shapes: dict[str, tuple[int, ...]] = {}
    dtypes: dict[str, np.dtype] = {}
    for proc, path in files:
        meta = read_metadata(path)
        algos = meta.get("subjet_algorithms", [])
        if algorithms is None:
            algorithms = algos
        elif list(algorithms) != list(algos):
            raise ValueError(f"{path}: subjet algorithms {algos} differ from {list(algorithms)}")
        ids = read_table(path, columns=["event_id"]).column("event_id").to_numpy()
        split = split_of(proc, ids, fractions, seed)
        per_file.append((proc, path, split))
        counts += np.bincount(split, minlength=len(SPLITS))
        processes.setdefault(proc, _ProcessStats(labels[proc])).add(meta)
        if not shapes and len(ids):
            first = _arrays(
                ak.from_arrow(read_table(path).slice(0, 1), highlevel=True), algos, _n_max(path)
            )
            shapes = {k: v.shape[1:] for k, v in first.items()}
            dtypes = {k: v.dtype for k, v in first.items()}
    if not shapes:
        raise ValueError(f"dataset {task!r}: the jet files hold no jets")
    assert algorithms is not None
    return _Survey(per_file, counts, processes, algorithms, shapes, dtypes)


def _open_arrays(out: Path, survey: _Survey) -> dict[str, dict[str, np.memmap]]:
    """Memory-mapped ``.npy`` files of every split, sized by the survey."""
    arrays: dict[str, dict[str, np.memmap]] = {}
    for s, name in enumerate(SPLITS):
        (out / name).mkdir()
        n = int(survey.counts[s])
        arrays[name] = {
            k: np.lib.format.open_memmap(
                out / name / f"{k}.npy", mode="w+", dtype=survey.dtypes[k], shape=(n, *shape)
            )
            for k, shape in survey.shapes.items()
        }
        for extra, dt in (("labels", np.int8), ("process", np.int8)):
            arrays[name][extra] = np.lib.format.open_memmap(
                out / name / f"{extra}.npy", mode="w+", dtype=dt, shape=(n,)
            )
    return arrays


def _fill(
    arrays: dict[str, dict[str, np.memmap]],
    survey: _Survey,
    labels: Mapping[str, int],
    proc_index: Mapping[str, int],
) -> dict[str, dict[str, int]]:
    """Pass 2: copy the jets file by file into their splits; returns jets per split and class."""
    filled = np.zeros(len(SPLITS), dtype=np.int64)
    class_counts: dict[str, dict[str, int]] = {name: {} for name in SPLITS}
    for proc, path, split in survey.per_file:
        if not len(split):
            continue
        jets = ak.from_arrow(read_table(path), highlevel=True)
        data = _arrays(jets, survey.algorithms, _n_max(path))
        data["labels"] = np.full(len(split), labels[proc], dtype=np.int8)
        data["process"] = np.full(len(split), proc_index[proc], dtype=np.int8)
        for s, name in enumerate(SPLITS):
            sel = split == s
            n = int(sel.sum())
            lo = filled[s]
            for k, arr in arrays[name].items():
                arr[lo : lo + n] = data[k][sel]
            filled[s] += n
            key = str(labels[proc])
            class_counts[name][key] = class_counts[name].get(key, 0) + n
    for name in SPLITS:
        for arr in arrays[name].values():
            arr.flush()
    return class_counts


def _build(
    task: str,
    inputs: Mapping[str, Sequence[str | os.PathLike[str]]],
    labels: Mapping[str, int],
    fractions: Sequence[float],
    out: Path,
    seed: int,
    cuts: Mapping[str, Any],
) -> dict[str, Any]:
    files = [(proc, Path(f)) for proc, fs in inputs.items() for f in fs]
    if not files:
        raise ValueError(f"dataset {task!r}: no jet files given")
    survey = _survey(task, files, labels, fractions, seed)
    arrays = _open_arrays(out, survey)
    proc_index = {p: i for i, p in enumerate(survey.processes)}
    class_counts = _fill(arrays, survey, labels, proc_index)
    card = _card(task, survey, proc_index, class_counts, fractions, cuts, files)
    (out / "card.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    (out / "card.md").write_text(render_card(card))
    return card


def _n_max(path: Path) -> int:
    schema = open_parquet(path).schema_arrow
    return schema.field("mask").type.list_size


def _card(
    task: str,
    survey: _Survey,
    proc_index: Mapping[str, int],
    class_counts: Mapping[str, Mapping[str, int]],
    fractions: Sequence[float],
    cuts: Mapping[str, Any],
    files: Sequence[tuple[str, Path]],
) -> dict[str, Any]:
    procs = {}
    for name, p in survey.processes.items():
        sig = [(s, e or 0.0, n) for s, e, n in p.sigma_pb if s is not None]
        sigma = sigma_err = None
        if sig and sum(n for _, _, n in sig):
            sigma, sigma_err = combine_cross_sections(*zip(*sig, strict=True))
        eff = selection_efficiencies(vars(p.counts))
        procs[name] = {
            "index": proc_index[name],
            "label": p.label,
            "files": p.files,
            "n_events": p.counts.n_events,
            "n_jets": p.counts.n_jets,
            "sigma_pb": sigma,
            "sigma_err_pb": sigma_err,
            **eff,
            "n_unmatched_dropped": p.counts.n_unmatched_dropped,
            "fiducial_sigma_pb": None if sigma is None else sigma * eff["jets_per_event"],
        }
    return {
        "task": task,
        "splits": {
            name: {"n_jets": sum(class_counts[name].values()), "per_class": class_counts[name]}
            for name in SPLITS
        },
        "split_fractions": list(fractions),
        "processes": procs,
        "cuts": dict(cuts),
        "arrays": {k: list(v) for k, v in survey.shapes.items()},
        "subjet_algorithms": list(survey.algorithms),
        "labels": {"1": "signal", "0": "background"},
    }


def render_card(card: Mapping[str, Any]) -> str:
    lines = [
        f"# Dataset card: {card['task']}",
        "",
        "## Splits",
        "",
        "| split | jets | per class (label: count) |",
        "|---|---|---|",
    ]
    for name, s in card["splits"].items():
        per = ", ".join(f"{k}: {v}" for k, v in sorted(s["per_class"].items()))
        lines.append(f"| {name} | {s['n_jets']} | {per} |")
    lines += [
        "",
        "## Processes",
        "",
        "| process | label | events | jets | σ [pb] | jets/event | events with a jet | truth-matched |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, p in card["processes"].items():
        sigma = "n/a" if p["sigma_pb"] is None else f"{p['sigma_pb']:.4g} ± {p['sigma_err_pb']:.2g}"
        lines.append(
            f"| {name} | {p['label']} | {p['n_events']} | {p['n_jets']} | {sigma} | {p['jets_per_event']:.3f} | "
            f"{p['event_efficiency']:.3f} | {p['truth_match_efficiency']:.3f} |"
        )
    lines += ["", "## Cuts", ""] + [f"- {k}: {v}" for k, v in card["cuts"].items()]
    lines += ["", "## Arrays (per jet)", ""] + [
        f"- `{k}`: {tuple(v)}" for k, v in card["arrays"].items()
    ]
    lines += ["- `labels`: (), `process`: ()", ""]
    return "\n".join(lines)


def load_split(directory: str | os.PathLike[str], mmap: bool = True) -> dict[str, np.ndarray]:
    """All arrays of one split directory (memory-mapped by default)."""
    d = Path(directory)
    return {p.stem: np.load(p, mmap_mode="r" if mmap else None) for p in sorted(d.glob("*.npy"))}
