"""Benchmark of the generation stage; prints its figures and goals.

1. Throughput of phenoflow's generation (Pythia nextBatch -> event record ->
   Parquet row groups) against a bare ``pythia.next()`` loop on the same
   process and seed, in the same run (goal: >= 85 %).
2. Peak memory (max RSS) of a generation job for growing shard sizes at a
   fixed chunk size, and for growing chunk sizes (goal: bounded by the chunk).
3. Wall time of ``snakemake -n`` on the default config with everything up
   to date (goal: < 3 s).  Runs the default workflow first if needed.

Usage: python tests/benchmarks/bench_generation.py [--events N] [--skip-dag]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lib"))

import yaml  # noqa: E402

from phenoflow.analyses.events.spec import GenerateSpec  # noqa: E402
from phenoflow.generation.pythia import bare_event_loop, generate_shard  # noqa: E402

CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())


def throughput(process: str, n_events: int, repeats: int) -> None:
    spec = GenerateSpec.from_config(CONFIG, process, 0).shard_spec()
    settings = list(spec.common_settings) + list(spec.settings)
    bare, ours = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            # alternate, so drifts of the machine hit both alike
            bare.append(bare_event_loop(settings, n_events, seed=spec.seed))
            rates: list[float] = []
            generate_shard(
                dataclasses.replace(spec, n_events=n_events),
                Path(tmp) / f"r{r}.parquet",
                progress=lambda done, total, rate, rates=rates: rates.append(rate),
            )
            ours.append(rates[-1])
    b, o = max(bare), max(ours)
    print(
        f"[throughput] {process}: bare pythia.next() loop {b:.1f} ev/s, phenoflow shard {o:.1f} ev/s "
        f"-> {100 * o / b:.1f} % (best of {repeats} x {n_events} events; goal >= 85 %)"
    )


_CHILD = """
import json, resource, sys, dataclasses, yaml
sys.path.insert(0, {lib!r})
from phenoflow.analyses.events.spec import GenerateSpec
from phenoflow.generation.pythia import generate_shard
cfg = yaml.safe_load(open({cfg!r}))
spec = dataclasses.replace(GenerateSpec.from_config(cfg, {process!r}, 0).shard_spec(), n_events={n}, chunk_size={chunk})
generate_shard(spec, {out!r})
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
"""


def peak_rss(process: str, n: int, chunk: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        code = _CHILD.format(
            lib=str(ROOT / "lib"),
            cfg=str(ROOT / "config/config.yaml"),
            process=process,
            n=n,
            chunk=chunk,
            out=str(Path(tmp) / "m.parquet"),
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        return float(out.stdout.strip().splitlines()[-1])


def memory(process: str) -> None:
    chunk = 100
    for n in (200, 800, 2400):
        print(
            f"[memory] {process}: {n:5d} events, chunk {chunk:4d}: peak RSS {peak_rss(process, n, chunk):7.1f} MiB"
        )
    for c in (50, 400, 1600):
        print(
            f"[memory] {process}: {1600:5d} events, chunk {c:4d}: peak RSS {peak_rss(process, 1600, c):7.1f} MiB"
        )


def dag_time(repeats: int) -> None:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    smk = [sys.executable, "-m", "snakemake", "--cores", "2"]
    status = subprocess.run([*smk, "-n", "-q"], cwd=ROOT, env=env, capture_output=True, text=True)
    if "Nothing to be done" not in status.stdout + status.stderr:
        print("[dag] default workflow not up to date: running it first (make run) ...", flush=True)
        subprocess.run(smk, cwd=ROOT, env=env, check=True, capture_output=True)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run([*smk, "-n"], cwd=ROOT, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        assert "Nothing to be done" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    print(
        f"[dag] snakemake -n, default config, up to date: median {statistics.median(times):.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f}, {repeats} runs; goal < 3 s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--events", type=int, default=600, help="events per throughput run (default 600)"
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--process", default="ttbar_had")
    ap.add_argument("--skip-dag", action="store_true", help="skip the snakemake -n timing")
    args = ap.parse_args()
    print(json.dumps({"python": sys.version.split()[0], "cpus": os.cpu_count()}))
    throughput(args.process, args.events, args.repeats)
    memory(args.process)
    if not args.skip_dag:
        dag_time(5)


if __name__ == "__main__":
    main()
