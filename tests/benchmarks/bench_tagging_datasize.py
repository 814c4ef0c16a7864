"""Learning curve of the taggers: how the Mixer-vs-ParT gap moves with training jets.

Trains the given taggers (default: the HDBSCAN Mixer and the default ParT, with
the options and training settings of config/config.yaml) on nested random
subsets of the training split of an existing dataset (25 %, 50 %, 100 % by
default; the validation and test splits stay whole) and prints test AUC, R50
and the AUC gap to ParT at every size.  If the gap shrinks as the training set
grows, the small default sample is what holds the Mixer back.

Usage:
    python tests/benchmarks/bench_tagging_datasize.py \
        [--dataset results/datasets/top_tagging] [--fractions 0.25 0.5 1.0] \
        [--models mixer_hdbscan part] [--seed 0] [--epochs N] [--json out.json]
--epochs overrides tagging.train.epochs (the cosine schedule spans them; early
stopping on the validation loss still applies), to see whether a model is
short of data or only of training time.
Needs the dataset: `snakemake --cores 2 results/datasets/top_tagging/card.json`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lib"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402

from phenoflow.analyses.tagging.run import (  # noqa: E402
    build_model,
    load_splits,
    parse_key,
    score_metrics,
)
from phenoflow.analyses.tagging.spec import TrainTaggerSpec  # noqa: E402
from phenoflow.ml.train import predict, train_classifier  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default=str(ROOT / "results/datasets/top_tagging"))
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    ap.add_argument("--models", nargs="+", default=["mixer_hdbscan", "part"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=None, help="override tagging.train.epochs")
    ap.add_argument("--json", default=None, help="also write the rows here")
    args = ap.parse_args()
    if not (Path(args.dataset) / "card.json").exists():
        sys.exit(f"{args.dataset}/card.json not found: build the dataset first (see --help)")
    if any(not 0 < f <= 1 for f in args.fractions):
        sys.exit(f"--fractions must lie in (0, 1], got {args.fractions}")
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    cfg = config["tagging"]
    if args.epochs is not None:
        cfg["train"]["epochs"] = args.epochs
    # the specs the workflow builds; bad settings (e.g. --epochs 0) stop here, before any training
    specs = {
        k: TrainTaggerSpec.from_config(config, cfg["dataset"], k, args.seed) for k in args.models
    }
    for spec in specs.values():
        spec.train_config()
    torch.set_num_threads(args.threads)
    rows = []
    for key in args.models:
        name, algo = parse_key(key)
        data = load_splits(args.dataset, algo or cfg["subjet_algorithm"])
        n_all = len(data["train"]["labels"])
        order = np.random.default_rng(12345).permutation(n_all)  # nested subsets
        for frac in sorted(args.fractions):
            idx = np.sort(order[: max(1, round(frac * n_all))])
            train = {k: np.asarray(v)[idx] for k, v in data["train"].items()}
            torch.manual_seed(args.seed)
            model = build_model(name, specs[key].model_options)
            tc = dataclasses.replace(specs[key].train_config(), progress_bar=False)
            start = time.perf_counter()
            hist = train_classifier(model, train, data["val"], tc)
            wall = time.perf_counter() - start
            scores = predict(model, data["test"], batch_size=512, device=torch.device("cpu"))
            r = score_metrics(data["test"]["labels"], scores)
            row = {
                "model": key,
                "fraction": frac,
                "n_train": len(idx),
                "wall_s": wall,
                "best_epoch": hist.get("best_epoch"),
                **r,
            }
            rows.append(row)
            print(
                f"{key:15s} {len(idx):6d} train jets: AUC {r['auc']:.4f}  R50 {r['r50']:7.1f}  "
                f"acc {r['accuracy']:.4f}  ({wall:.0f} s, best epoch {row['best_epoch']})",
                flush=True,
            )
    print("\n| training jets | " + " | ".join(f"AUC {m}" for m in args.models) + " | AUC gap |")
    print("|---|" + "---|" * (len(args.models) + 1))
    for frac in sorted(args.fractions):
        at = {r["model"]: r for r in rows if r["fraction"] == frac}
        aucs = [at[m]["auc"] for m in args.models]
        gap = aucs[-1] - aucs[0] if len(aucs) > 1 else float("nan")
        n = next(iter(at.values()))["n_train"]
        print(f"| {n} | " + " | ".join(f"{a:.4f}" for a in aucs) + f" | {gap:+.4f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
