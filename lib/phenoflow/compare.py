"""Compare two results directories file by file: is a rerun the same run?

Parquet, NumPy, model weights and figures must be byte-identical; ROOT files
are compared by content (their headers carry a date and a UUID); JSON files
are compared with timings left out (keys about wall time, speed or
throughput, or metrics with a time unit); checkpoints by their tensors;
markdown tables are rendered from the JSON compared and skipped.

``python -m phenoflow.compare results-a results-b`` prints every difference and
exits 1 if there is one.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

TIMING = re.compile(r"wall|seconds|per_s|time|speed|latency", re.IGNORECASE)
SKIPPED_DIRS = ("logs", "benchmarks")
# describes the run (date, machine), not a result
SKIPPED_FILES = ("run_info.json",)


def is_timing(key: str, value: Any) -> bool:
    """Whether a JSON entry is a measured time or speed (differs from run to run)."""
    unit = value.get("unit", "") if isinstance(value, dict) else ""
    unit = unit if isinstance(unit, str) else ""
    return bool(TIMING.search(key)) or unit in ("s", "ms") or unit.endswith("/s")


def strip_timing(obj: Any) -> Any:
    """``obj`` without its timing entries, recursively."""
    if isinstance(obj, dict):
        return {k: strip_timing(v) for k, v in obj.items() if not is_timing(k, v)}
    if isinstance(obj, list):
        return [strip_timing(v) for v in obj]
    return obj


def _same_root(a: Path, b: Path) -> bool:
    import awkward as ak
    import uproot

    with uproot.open(a) as fa, uproot.open(b) as fb:
        if sorted(fa.keys()) != sorted(fb.keys()):
            return False
        return all(
            ak.to_list(fa[k].arrays()) == ak.to_list(fb[k].arrays())
            for k in fa.keys(cycle=False)
            if fa[k].classname.startswith("TTree")
        )


def _same_checkpoint(a: Path, b: Path) -> bool:
    import torch

    ca, cb = (torch.load(p, weights_only=False, map_location="cpu") for p in (a, b))
    for key in ("model", "best_state"):
        sa, sb = ca.get(key) or {}, cb.get(key) or {}
        if sa.keys() != sb.keys() or not all(torch.equal(sa[k], sb[k]) for k in sa):
            return False
    return True


def _same_json(a: Path, b: Path) -> bool:
    ja, jb = (json.loads(p.read_text()) for p in (a, b))
    # compared as text so that NaN equals NaN
    return json.dumps(strip_timing(ja), sort_keys=True) == json.dumps(
        strip_timing(jb), sort_keys=True
    )


def same_file(a: Path, b: Path) -> bool:
    """Whether two output files of the same name hold the same result."""
    if a.suffix == ".root":
        return _same_root(a, b)
    if a.suffix == ".ckpt":
        return _same_checkpoint(a, b)
    if a.suffix == ".json":
        return _same_json(a, b)
    if a.suffix in (".md", ".html"):
        return True
    return a.read_bytes() == b.read_bytes()


def output_files(root: Path) -> list[Path]:
    """Result files under ``root`` (relative), logs and benchmark timings left out."""
    return sorted(
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file()
        and p.relative_to(root).parts[0] not in SKIPPED_DIRS
        and p.name not in SKIPPED_FILES
    )


def compare_results(a: Path, b: Path, ignore: Iterable[str] = ()) -> list[str]:
    """Every difference between two results directories, one line each (empty: same run)."""
    a, b = Path(a), Path(b)
    skip = [re.compile(p) for p in ignore]
    fa, fb = (
        {f for f in output_files(d) if not any(s.search(str(f)) for s in skip)} for d in (a, b)
    )
    problems = [f"only in {a}: {f}" for f in sorted(fa - fb)]
    problems += [f"only in {b}: {f}" for f in sorted(fb - fa)]
    problems += [f"differs: {f}" for f in sorted(fa & fb) if not same_file(a / f, b / f)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--ignore", action="append", default=[], help="regex of paths to skip")
    args = parser.parse_args(argv)
    problems = compare_results(args.a, args.b, args.ignore)
    n = len(output_files(args.a))
    for line in problems:
        print(line)
    print(
        f"{n} files in {args.a}: {'identical' if not problems else f'{len(problems)} differences'}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
