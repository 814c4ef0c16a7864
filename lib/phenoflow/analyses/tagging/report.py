"""The tagging table (markdown, like the paper's) and ``metrics.json``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from phenoflow.analyses.tagging.speed import speedups
from phenoflow.summary import metric


def _pm(d: Mapping[str, float] | None, fmt: str = ".4f") -> str:
    if not d:
        return "–"
    if d.get("n", 1) > 1:
        return f"{d['mean']:{fmt}} ± {d['std']:{fmt}}"
    return f"{d['mean']:{fmt}}"


def tagging_table(table: Mapping[str, Any]) -> str:
    lines = [
        "| tagger | parameters | accuracy | AUC | R30 | R50 | s/epoch | CPU jets/s (batch 1024) | CPU latency batch 1 [ms] | GPU jets/s (batch 1024) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, row in table.items():
        speed = row.get("speed", {})
        cpu, gpu = speed.get("cpu", {}), speed.get("cuda", {})
        if row.get("speed_only"):
            key = f"{key} (untrained, speed only)"
        lines.append(
            f"| {key} | {row['n_parameters']:,} | {_pm(row.get('accuracy'))} | {_pm(row.get('auc'))} | "
            f"{_pm(row.get('r30'), '.1f')} | {_pm(row.get('r50'), '.1f')} | "
            f"{_pm(row.get('seconds_per_epoch'), '.1f')} | "
            f"{cpu.get('batch_1024', {}).get('jets_per_s', float('nan')):.0f} | "
            f"{cpu.get('batch_1', {}).get('latency_ms', float('nan')):.2f} | "
            f"{gpu.get('batch_1024', {}).get('jets_per_s', float('nan')):.0f} |"
        )
    ratios = speedups(table)
    if ratios:
        lines.append("")
        lines.append(
            "CPU throughput ratios at batch 1024: "
            + ", ".join(f"{k} {v:.1f}×" for k, v in ratios.items())
        )
    return "\n".join(lines) + "\n"


def tagging_metrics(table: Mapping[str, Any], task: str) -> dict[str, Any]:
    m: dict[str, Any] = {}
    for key, row in table.items():
        for name in ("accuracy", "auc", "r30", "r50"):
            if name not in row:  # speed-only reference rows
                continue
            d = row[name]
            m[f"{name}_{key}"] = metric(
                d["mean"],
                "",
                f"{name.upper()} of {key} on the {task} test split ({d['n']} seed(s))",
                uncertainty=d["std"] if d["n"] > 1 else None,
            )
        m[f"parameters_{key}"] = metric(row["n_parameters"], "", f"trainable parameters of {key}")
        for dev, s in row.get("speed", {}).items():
            m[f"inference_{key}_{dev}_batch1024"] = metric(
                s["batch_1024"]["jets_per_s"],
                "jets/s",
                f"{key} inference throughput, {dev}, batch 1024",
            )
            m[f"latency_{key}_{dev}_batch1"] = metric(
                s["batch_1"]["latency_ms"], "ms", f"{key} latency, {dev}, batch 1"
            )
        if row.get("seconds_per_epoch"):
            m[f"seconds_per_epoch_{key}"] = metric(
                row["seconds_per_epoch"]["mean"],
                "s",
                f"{key} training time per epoch ({row.get('training_device')})",
            )
    for pair, ratio in speedups(table).items():
        fast, slow = pair.split("/")
        m[f"speedup_{fast}_over_{slow}_cpu_batch1024"] = metric(
            ratio, "", f"CPU inference throughput of {fast} over {slow}, batch 1024"
        )
    return {"title": f"Top tagging ({task})", "metrics": m, "table": dict(table)}
