"""Benchmark of the colour singlet / octet b bbar samples; prints events per second.

1. Writing Les Houches events gg -> S -> b bbar (sampling and LHEF text).
2. Pythia showering (generate_shard: shower, hadronisation, Parquet) of the
   LHE samples s1_bb, s8_bb and of the built-in zprime_bb, kkgluon_bb.

Usage: python tests/benchmarks/bench_lhe.py [--events N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lib"))

import yaml  # noqa: E402

from phenoflow.analyses.events.spec import GenerateSpec, WriteLHESpec  # noqa: E402
from phenoflow.generation.pythia import generate_shard  # noqa: E402

CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500, help="events per sample")
    n = parser.parse_args().events
    cfg = {**CONFIG, "processes": dict(CONFIG["processes"])}
    with tempfile.TemporaryDirectory() as tmp:
        for process in ("s1_bb", "s8_bb", "zprime_bb", "kkgluon_bb"):
            cfg["processes"][process] = {**cfg["processes"][process], "events_per_shard": n}
            lhe = None
            if "lhe" in cfg["processes"][process]:
                lhe = str(Path(tmp) / f"{process}.lhe")
                spec = WriteLHESpec.from_config(cfg, process, 0)
                start = time.perf_counter()
                written = spec.write(lhe)
                rate = written / (time.perf_counter() - start)
                print(f"{process:<11} LHE writing    {rate:9.0f} events/s ({written} events)")
            shard = GenerateSpec.from_config(cfg, process, 0).shard_spec(lhe)
            start = time.perf_counter()
            meta = generate_shard(shard, Path(tmp) / f"{process}.parquet")
            rate = meta["n_events"] / (time.perf_counter() - start)
            print(f"{process:<11} Pythia shower  {rate:9.1f} events/s (incl. init, {n} events)")


if __name__ == "__main__":
    main()
