"""Why the learned variable of topology 3 is not m_T2: information against rank correlation.

Trains the EVN of the default config on the same ``two_invisible`` events
(A1 A2 -> (b1 C1)(b2 C2), Theta = (m_A, m_C) from the prior) with three inputs:

* ``full``: the paper's X (E, px, py, pz of b1 and b2, missing px, py; 10 numbers);
* ``transverse``: only px, py of b1, b2 and the missing pT (6 numbers), the
  information m_T2 is built from;
* ``m_T2``: m_T2 alone (one number), so V is a monotone function of m_T2.

For each it prints the best validation loss of the auxiliary classifier
(binary cross-entropy: lower = V keeps more information about Theta) and
Kendall tau / Spearman r_s of V against m_T2 on an independent test set.
If the full and even the transverse inputs reach a lower loss than m_T2
alone, the variable that keeps the most information about (m_A, m_C) is not
a function of m_T2, and its rank correlation with m_T2 must stay below 1:
a high tau against m_T2 then asks for less information.

Usage:
    python tests/benchmarks/bench_eventvars_inputs.py [--n-train 800000] [--epochs 12]
        [--threads 1] [--inputs full transverse m_T2]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lib"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402

from phenoflow.analyses.eventvars.spec import TrainEventVariableSpec  # noqa: E402
from phenoflow.analyses.eventvars.train import correlations  # noqa: E402
from phenoflow.generation.toys import sample_topology  # noqa: E402
from phenoflow.ml.event_variable import train_event_variable  # noqa: E402

# columns of ToySample.X for two_invisible: (E, px, py, pz) of b1, of b2, then met_x, met_y
INPUTS = {
    "full": list(range(10)),
    "transverse": [1, 2, 5, 6, 8, 9],
}


def select(name: str, X: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return reference[:, None] if name == "m_T2" else X[:, INPUTS[name]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-train", type=int, default=800_000)
    ap.add_argument("--n-test", type=int, default=100_000)
    ap.add_argument("--epochs", type=int, default=None, help="default: config/config.yaml")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--inputs", nargs="+", default=["full", "transverse", "m_T2"])
    args = ap.parse_args()
    unknown = set(args.inputs) - {*INPUTS, "m_T2"}
    if unknown:
        sys.exit(f"unknown --inputs {sorted(unknown)}; choose from {[*INPUTS, 'm_T2']}")
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    spec = TrainEventVariableSpec.from_config(config, "two_invisible")
    cfg = dataclasses.replace(
        spec.evn_config(), epochs=args.epochs or spec.epochs, seed=0, device="cpu"
    )
    torch.set_num_threads(args.threads)
    train = sample_topology("two_invisible", args.n_train, np.random.default_rng(1))
    test = sample_topology("two_invisible", args.n_test, np.random.default_rng(2))
    print(
        f"# two_invisible, {args.n_train} training events ({cfg.epochs} epochs, batch "
        f"{cfg.batch_size}), {args.n_test} test events, {args.threads} thread(s)"
    )
    print("| input | d_x | best val BCE | Kendall tau vs m_T2 | Spearman r_s | training s |")
    print("|---|---|---|---|---|---|")
    for name in args.inputs:
        x_train = select(name, train.X, train.reference)
        start = time.perf_counter()
        ev, hist = train_event_variable((x_train, train.theta), cfg)
        wall = time.perf_counter() - start
        v = ev.transform(select(name, test.X, test.reference))
        tau, rs = correlations(v, test.reference)
        print(
            f"| {name} | {x_train.shape[1]} | {hist['best_val_loss']:.4f} | {abs(tau):.3f} | "
            f"{abs(rs):.3f} | {wall:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
