"""``results/summary.md``: the paper tables, gathered from every metrics.json."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def metric(value: Any, unit: str, description: str, uncertainty: Any = None) -> dict[str, Any]:
    """One named figure of a ``metrics.json``: value, unit, description (and uncertainty if known)."""
    out = {"value": value, "unit": unit, "description": description}
    if uncertainty is not None:
        out["uncertainty"] = uncertainty
    return out


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return "nan" if math.isnan(x) else f"{x:.5g}"
    return str(x)


def render_summary(metrics_files: Sequence[str | os.PathLike[str]]) -> str:
    """Markdown with one table per metrics.json (name, value ± uncertainty, unit, description)."""
    lines = ["# phenoflow results", ""]
    for path in sorted(map(str, metrics_files)):
        with open(path) as fh:
            data = json.load(fh)
        title = data.get("title", Path(path).parent.name)
        lines += [f"## {title}", "", f"Source: `{path}`", ""]
        lines += [
            "| quantity | value | uncertainty | unit | description |",
            "|---|---|---|---|---|",
        ]
        for name, m in sorted(data.get("metrics", {}).items()):
            lines.append(
                f"| {name} | {_fmt(m.get('value'))} | {_fmt(m.get('uncertainty'))} | "
                f"{m.get('unit', '')} | {m.get('description', '')} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_summary(
    metrics_files: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str]
) -> None:
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(render_summary(metrics_files))
    os.replace(tmp, output)
