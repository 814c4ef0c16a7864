"""Benchmark of the jets stage; prints its figures and goals.

1. Events per second per core of the whole stage (clustering, labels, three
   subjet algorithms, features, substructure, images) on Pythia tt events
   (~550 visible particles), and the time of each part; anti-kt alone per event.
2. Peak memory (max RSS) of ``cluster_shard`` for shards of growing size at a
   fixed chunk, and for growing chunks (goal: bounded by the chunk).

Usage: python tests/benchmarks/bench_jets.py [--events N]
Runs single-threaded (OMP/BLAS threads = 1) so the figures are per core.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lib"))
sys.path.insert(0, str(ROOT))

import awkward as ak  # noqa: E402
import yaml  # noqa: E402

from phenoflow.analyses.events.spec import GenerateSpec  # noqa: E402
from phenoflow.generation.pythia import generate_shard  # noqa: E402
from phenoflow.io.parquet import iter_events  # noqa: E402
from phenoflow.jets import cluster, features, images, subjets, substructure  # noqa: E402
from phenoflow.jets.pipeline import JetsConfig, process_events  # noqa: E402

CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())


def make_events(n: int, tmp: Path) -> Path:
    spec = dataclasses.replace(
        GenerateSpec.from_config(CONFIG, "ttbar_had", 0).shard_spec(), n_events=n, chunk_size=250
    )
    path = tmp / "ttbar.parquet"
    print(f"[setup] generating {n} tt events with Pythia ...", flush=True)
    generate_shard(spec, path)
    return path


def timed(fn, *args, repeat: int = 3, **kw):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args, **kw)
        best = min(best, time.perf_counter() - t0)
    return best, out


def speed(path: Path, cfg: JetsConfig) -> None:
    events = ak.concatenate(list(iter_events(path)))
    n_ev = len(events)
    n_part = float(ak.mean(ak.num(events.particles)))
    t_all, _ = timed(
        lambda: [
            process_events(events[i : i + cfg.chunk_size], "top", cfg)
            for i in range(0, n_ev, cfg.chunk_size)
        ]
    )
    fat = cfg.fat_jet
    t_cl, (jets, const) = timed(cluster.cluster_fat_jets, cluster.check_particles(events), fat)
    t_lab, labels = timed(cluster.label_jets, jets, events.partons, "top", fat.r)
    keep = labels >= 0
    jets, const = ak.flatten(jets[keep]), ak.flatten(const[keep])
    n_jets = len(jets)
    jet_eta, jet_phi = ak.to_numpy(jets.eta), ak.to_numpy(jets.phi)
    parts = {
        "anti-kt fat jets (FastJet, incl. awkward I/O)": t_cl,
        "truth labels": t_lab,
        "substructure": timed(substructure.substructure, const, cfg.substructure)[0],
        "features": timed(features.constituent_features, const, jets, cfg.n_constituents)[0],
        "images": timed(images.jet_images, const, jets, cfg.image, jet_eta, jet_phi)[0],
    }
    for algo in cfg.algorithms:
        kw = (
            {
                "min_cluster_size": cfg.hdbscan_min_cluster_size,
                "min_pt_fraction": cfg.hdbscan_min_pt_fraction,
            }
            if algo == "hdbscan"
            else {}
        )
        parts[f"subjets {algo}"] = timed(
            subjets.subjets, const, algo, r_sub=cfg.r_sub, jet_eta=jet_eta, jet_phi=jet_phi, **kw
        )[0]
    print(
        f"[speed] {n_ev} tt events, {n_part:.0f} visible particles/event, {n_jets} kept jets ({n_jets / n_ev:.2f}/event)"
    )
    print(
        f"[speed] whole stage: {n_ev / t_all:.0f} events/s per core ({1e3 * t_all / n_ev:.2f} ms/event; goal >= 500 events/s)"
    )
    print(f"[speed] anti-kt alone: {1e3 * t_cl / n_ev:.3f} ms/event (goal: sub-millisecond)")
    for name, t in parts.items():
        per = f"{1e3 * t / n_ev:.3f} ms/event" + (
            f", {1e3 * t / max(n_jets, 1):.3f} ms/jet"
            if "fat jets" not in name and "labels" not in name
            else ""
        )
        print(f"[speed]   {name:48s} {per}")


_CHILD = """
import json, resource, sys
sys.path.insert(0, {lib!r}); sys.path.insert(0, {root!r})
from phenoflow.jets.pipeline import JetsConfig, cluster_shard
import dataclasses, yaml
cfg = JetsConfig.from_config(yaml.safe_load(open({cfg!r}))["jets"])
cfg = dataclasses.replace(cfg, chunk_size={chunk})
cluster_shard({events!r}, {out!r}, "top", cfg)
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
"""


def memory(path: Path, tmp: Path) -> None:
    from phenoflow.io.parquet import EventWriter, read_metadata

    events = ak.concatenate(list(iter_events(path)))
    sizes = (len(events) // 4, len(events))
    for n in sizes:
        sub = tmp / f"ev{n}.parquet"
        with EventWriter(sub) as w:
            for i in range(0, n, 100):
                w.write(events[i : min(n, i + 100)])
            w.close(read_metadata(path))
    runs = [(sizes[0], 100), (sizes[1], 100), (sizes[1], 25), (sizes[1], 400)]
    for n, chunk in runs:
        code = _CHILD.format(
            lib=str(ROOT / "lib"),
            root=str(ROOT),
            cfg=str(ROOT / "config/config.yaml"),
            chunk=chunk,
            events=str(tmp / f"ev{n}.parquet"),
            out=str(tmp / "jets.parquet"),
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        rss = float(out.stdout.strip().splitlines()[-1])
        print(f"[memory] cluster_shard: {n:5d} events, chunk {chunk:4d}: peak RSS {rss:7.1f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--events", type=int, default=1000, help="tt events to generate (default 1000)")
    args = ap.parse_args()
    print(json.dumps({"python": sys.version.split()[0], "threads": 1}))
    cfg = JetsConfig.from_config(CONFIG["jets"])
    with tempfile.TemporaryDirectory() as tmp:
        path = make_events(args.events, Path(tmp))
        speed(path, cfg)
        memory(path, Path(tmp))


if __name__ == "__main__":
    main()
