"""``results/eventvars/metrics.json`` from evaluations and training histories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from phenoflow.summary import metric


def eventvars_metrics(
    evaluations: Sequence[Mapping[str, Any]], histories: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    m: dict[str, Any] = {}
    for ev, hist in zip(evaluations, histories, strict=True):
        t = ev["topology"]
        ref = ev["reference"]
        m[f"kendall_tau_{t}"] = metric(
            ev["kendall_tau"],
            "",
            f"Kendall tau of V vs {ref} ({ev['n_test']} test events)",
        )
        m[f"spearman_rs_{t}"] = metric(ev["spearman_rs"], "", f"Spearman r_s of V vs {ref}")
        m[f"training_time_{t}"] = metric(
            hist["wall_s"],
            "s",
            f"training wall time ({hist['device']}, {hist['epochs_run']} epochs)",
        )
        m[f"training_rate_{t}"] = metric(
            hist["events_per_s"], "events/s", f"training events per second ({hist['device']})"
        )
        for name, key in (("V", "mass_fit_v"), (ref, "mass_fit_reference")):
            f = ev[key]
            m[f"mass_resolution_{t}_{name}"] = metric(
                f["resolution"],
                "GeV",
                f"m_A template-fit resolution with {name} ({f['n_events']} events, m_A = {f['true_m_A']:.0f} GeV; bias {f['bias']:+.2f} GeV)",
                uncertainty=f["resolution_error"],
            )
        for name, key in (("V", "mass_fit_2d_v"), (ref, "mass_fit_2d_reference")):
            if key not in ev:
                continue
            f = ev[key]
            m[f"mass_resolution_2d_{t}_{name}"] = metric(
                f["resolution"],
                "GeV",
                f"m_A template-fit resolution with {name}, m_C unknown (profiled) "
                f"({f['n_events']} events, true (m_A, m_C) = ({f['true_m_A']:.0f}, {f['true_m_C']:.0f}) GeV; "
                f"bias {f['bias']:+.2f} GeV)",
                uncertainty=f["resolution_error"],
            )
            m[f"mass_resolution_2d_{t}_{name}_m_C"] = metric(
                f["m_C"]["resolution"],
                "GeV",
                f"m_C resolution of the same fit with {name} (bias {f['m_C']['bias']:+.2f} GeV)",
                uncertainty=f["m_C"]["resolution_error"],
            )
        if "calibrated_residual" in ev:
            r = ev["calibrated_residual"]
            m[f"calibrated_residual_{t}"] = metric(
                r["half_width_68"],
                "GeV",
                f"68% half-width of calibrated V minus {ref}, event by event (RMS {r['rms']:.2f} GeV)",
            )
        if "information" in ev:
            info = ev["information"]
            m[f"aux_bce_{t}_V"] = metric(
                info["bce_v"],
                "",
                "validation BCE of the auxiliary classifier given V alone (lower = more information on Theta)",
            )
            m[f"aux_bce_{t}_{ref}"] = metric(
                info["bce_reference"], "", f"the same given {ref} alone"
            )
        for j, comp in enumerate(ev.get("components", [])):
            if len(ev["components"]) > 1:
                best = max(comp, key=lambda k: abs(comp[k]))
                m[f"component{j}_{t}"] = metric(
                    comp[best], "", f"V{j}: largest |Kendall tau| is with {best}; all: {comp}"
                )
    return {"title": "Deep-learned event variables", "metrics": m}
