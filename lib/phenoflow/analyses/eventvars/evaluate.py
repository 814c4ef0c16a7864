"""Deep-learned event variables: train, orient, calibrate, evaluate, measure a mass.

Uses the toy topologies of ``phenoflow.generation.toys`` and the EVN of
``phenoflow.ml.event_variable``.  Everything here is plain numpy/torch and runs
outside Snakemake; the workflow adapters call ``train_topology`` and
``evaluate_topology``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from phenoflow.analyses.eventvars.train import correlations, train_topology
from phenoflow.generation.toys import ToySample, sample_topology, simulate
from phenoflow.ml.event_variable import EventVariable, EVNConfig, train_event_variable
from phenoflow.physics.variables import invariant_mass
from phenoflow.seeds import derive_seed

log = logging.getLogger(__name__)

FIG2_MASSES = (200.0, 280.0, 320.0, 400.0)
FIG2_M_C = 100.0


@dataclass
class Calibration:
    """Monotone map of V onto the reference variable's mass scale (quantile matching)."""

    v_knots: np.ndarray
    mass_knots: np.ndarray

    @classmethod
    def fit(cls, v: np.ndarray, reference: np.ndarray, n_knots: int = 512) -> Calibration:
        q = np.linspace(0.0, 1.0, n_knots)
        vk = np.quantile(v, q)
        mk = np.quantile(reference, q)
        # strictly increasing knots for np.interp
        vk = vk + np.arange(n_knots) * 1e-12 * max(1.0, float(np.ptp(vk)))
        return cls(vk, mk)

    def __call__(self, v: np.ndarray) -> np.ndarray:
        return np.interp(v, self.v_knots, self.mass_knots)


def known_variables(sample: ToySample) -> dict[str, np.ndarray]:
    """Physics variables to compare learned components with (GeV)."""
    X = sample.X
    out = {sample.reference_name: sample.reference}
    if sample.X.shape[1] == 8:  # two_body: two 4-vectors
        p1, p2 = X[:, 0:4], X[:, 4:8]
        out["E_total"] = p1[:, 0] + p2[:, 0]
        out["pT_sum"] = np.hypot(p1[:, 1] + p2[:, 1], p1[:, 2] + p2[:, 2])
    elif sample.X.shape[1] == 6:  # one_invisible: p_b, MET
        out["E_b"] = X[:, 0]
        out["pT_b"] = np.hypot(X[:, 1], X[:, 2])
        out["MET"] = np.hypot(X[:, 4], X[:, 5])
    else:  # two_invisible: p_b1, p_b2, MET
        p1, p2 = X[:, 0:4], X[:, 4:8]
        out["m_b1b2"] = invariant_mass(p1, p2)
        out["MET"] = np.hypot(X[:, 8], X[:, 9])
        out["E_b1+E_b2"] = p1[:, 0] + p2[:, 0]
    return out


def _binned_templates(templates: Sequence[np.ndarray], bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Quantile bin edges of the pooled templates and each template's log bin probabilities."""
    pooled = np.concatenate(templates)
    edges = np.unique(np.quantile(pooled, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    probs = np.array([np.histogram(t, edges)[0] + 0.5 for t in templates], dtype=float)
    return edges, np.log(probs / probs.sum(axis=1, keepdims=True))


def _parabola_peak(ll: np.ndarray, grid: np.ndarray) -> float:
    """Grid maximum of ``ll`` refined by a parabola through the best three points."""
    finite = np.isfinite(ll)
    i = int(np.argmax(np.where(finite, ll, -np.inf)))
    if i == 0 or i == len(grid) - 1 or not (finite[i - 1] and finite[i + 1]):
        return float(grid[i])
    y0, y1, y2 = ll[i - 1], ll[i], ll[i + 1]
    denom = y0 - 2 * y1 + y2
    step = grid[i + 1] - grid[i]
    shift = 0.5 * (y0 - y2) / denom * step if denom < 0 else 0.0
    return float(grid[i] + np.clip(shift, -step, step))


def _spread(fitted: np.ndarray, truth: float) -> dict[str, float]:
    n = len(fitted)
    return {
        "mean": float(fitted.mean()),
        "bias": float(fitted.mean() - truth),
        "resolution": float(fitted.std(ddof=1)),
        "resolution_error": float(fitted.std(ddof=1) / np.sqrt(2 * (n - 1))),
    }


def mass_fit(
    values: Callable[[np.ndarray], np.ndarray],
    topology: str,
    true_m_A: float,
    m_C: float,
    grid: Sequence[float],
    n_events: int,
    n_pseudo: int,
    n_template: int,
    bins: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Template likelihood fit of m_A on pseudo-data, using ``values(X)`` as the observable.

    Templates: ``n_template`` events at each grid mass (m_C fixed), histogrammed
    in ``bins`` quantile bins of the pooled templates.  ``n_pseudo`` pseudo-
    experiments of ``n_events`` events at ``true_m_A``; each is fitted by
    maximising the multinomial log-likelihood over the grid with a parabola
    through the best three points.  Returns the fitted masses, bias and
    resolution (standard deviation) [GeV].
    """
    masses = np.asarray(sorted(grid), dtype=float)
    mc = None if topology == "two_body" else m_C
    templ = [
        values(sample_topology(topology, n_template, rng, m_A=float(m), m_C=mc).X) for m in masses
    ]
    edges, logp = _binned_templates(templ, bins)
    fitted = np.empty(n_pseudo)
    for k in range(n_pseudo):  # pseudo-experiments, each a vectorised histogram
        data = values(sample_topology(topology, n_events, rng, m_A=true_m_A, m_C=mc).X)
        fitted[k] = _parabola_peak(logp @ np.histogram(data, edges)[0], masses)
    return {
        "true_m_A": true_m_A,
        "m_C": m_C,
        "n_events": n_events,
        "n_pseudo": n_pseudo,
        **_spread(fitted, true_m_A),
        "fitted": fitted.tolist(),
    }


def mu_of(m_A: float | np.ndarray, m_C: float | np.ndarray) -> float | np.ndarray:
    """The endpoint scale mu = (m_A^2 - m_C^2)/m_A of m_T and m_T2 (test mass 0) [GeV]."""
    return (m_A**2 - m_C**2) / m_A


def mass_fit_2d(
    values: Callable[[np.ndarray], np.ndarray],
    topology: str,
    true_m_A: float,
    true_m_C: float,
    grid: Sequence[float],
    d_mu: Sequence[float],
    n_events: int,
    n_pseudo: int,
    n_template: int,
    bins: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Template fit of m_A when m_C is unknown too (the realistic case): m_C is profiled.

    The grid is laid out in (m_A, mu) with mu = (m_A^2 - m_C^2)/m_A, the
    combination that the m_T and m_T2 endpoints measure: templates at every
    m_A of ``grid`` and every mu = mu_true + ``d_mu`` (m_C = sqrt(m_A (m_A -
    mu)), points with mu > m_A dropped).  Every m_A column therefore holds a
    point on the true constant-mu curve, and a variable that depends on mu
    alone sees identical templates along it: its profile likelihood in m_A is
    flat, and its fitted m_A wanders over the grid, which is the physics (m_T
    cannot measure m_A when m_C is unknown), not an artefact of where the
    grid points happen to fall.  Each pseudo-experiment's log-likelihood is
    maximised over mu at every m_A (the profile); the profile's peak
    (parabola through the best three points) is the fitted m_A, and m_C
    follows from the best mu at that m_A.
    """
    if topology == "two_body":
        raise ValueError("mass_fit_2d: two_body has no m_C; use mass_fit")
    ga = np.asarray(sorted(grid), dtype=float)
    mu0 = float(mu_of(true_m_A, true_m_C))
    gmu = mu0 + np.asarray(sorted(d_mu), dtype=float)
    if not np.any(np.isclose(gmu, mu0)):
        raise ValueError("mass_fit_2d: d_mu must contain 0 (the true mu)")
    points = [(i, j) for i in range(len(ga)) for j in range(len(gmu)) if 0 < gmu[j] <= ga[i]]
    if not points:
        raise ValueError("mass_fit_2d: no grid point has 0 < mu <= m_A")
    m_c = {(i, j): float(np.sqrt(ga[i] * (ga[i] - gmu[j]))) for i, j in points}
    templ = [
        values(sample_topology(topology, n_template, rng, m_A=float(ga[i]), m_C=m_c[i, j]).X)
        for i, j in points
    ]
    edges, logp = _binned_templates(templ, bins)
    rows, cols = np.array(points).T
    fit_a, fit_mu = np.empty(n_pseudo), np.empty(n_pseudo)
    for k in range(n_pseudo):
        data = values(sample_topology(topology, n_events, rng, m_A=true_m_A, m_C=true_m_C).X)
        ll = np.full((len(ga), len(gmu)), -np.inf)
        ll[rows, cols] = logp @ np.histogram(data, edges)[0]
        fit_a[k] = _parabola_peak(ll.max(axis=1), ga)
        best = int(np.argmin(np.abs(ga - fit_a[k])))
        fit_mu[k] = _parabola_peak(ll[best], gmu)
    fit_c = np.sqrt(np.clip(fit_a * (fit_a - fit_mu), 0.0, None))
    return {
        "true_m_A": true_m_A,
        "true_m_C": true_m_C,
        "true_mu": mu0,
        "n_events": n_events,
        "n_pseudo": n_pseudo,
        "grid_m_A": ga.tolist(),
        "grid_mu": gmu.tolist(),
        **_spread(fit_a, true_m_A),
        "m_C": _spread(fit_c, true_m_C),
        "mu": _spread(fit_mu, mu0),
        "fitted": fit_a.tolist(),
        "fitted_m_C": fit_c.tolist(),
    }


def _component_scores(
    ev: EventVariable, topology: str, test: ToySample, n_test: int
) -> tuple[dict[str, Any], np.ndarray]:
    """Rank correlations of V with the reference and of every component with known variables.

    Returns (the numbers, V (n_test,): the first component).
    """
    v_all = ev.transform(test.X).reshape(n_test, -1)
    v = v_all[:, 0]
    tau, rho = correlations(v, test.reference)
    result: dict[str, Any] = {
        "topology": topology,
        "n_test": n_test,
        "reference": test.reference_name,
        "kendall_tau": tau,
        "spearman_rs": rho,
    }
    # components against known variables (d_V = 2 and beyond)
    known = known_variables(test)
    sub = slice(0, min(n_test, 20_000))
    result["components"] = [
        {name: correlations(v_all[sub, j], x[sub])[0] for name, x in known.items()}
        for j in range(v_all.shape[1])
    ]
    return result, v


def _calibrate(
    ev: EventVariable, topology: str, base_seed: int, test: ToySample, v: np.ndarray
) -> tuple[Calibration, dict[str, float]]:
    """Calibration onto the reference mass scale, fitted on an independent prior sample.

    Returns (the calibration, how closely calibrated V reproduces the reference event by
    event on the test set).
    """
    cal_sample = sample_topology(
        topology,
        50_000,
        np.random.default_rng(derive_seed(base_seed, "eventvars", "calib", topology)),
    )
    cal = Calibration.fit(
        ev.transform(cal_sample.X).reshape(len(cal_sample.X), -1)[:, 0], cal_sample.reference
    )
    resid = cal(v) - test.reference
    q16, q50, q84 = np.quantile(resid, [0.16, 0.5, 0.84])
    residual = {
        "rms": float(np.sqrt(np.mean(resid**2))),
        "median": float(q50),
        "half_width_68": float(0.5 * (q84 - q16)),
    }
    return cal, residual


def _calibration_curves(
    ev: EventVariable, topology: str, cal: Calibration, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], dict[float, dict[str, np.ndarray]]]:
    """Calibrated V at the masses of :data:`FIG2_MASSES`: (the numbers, arrays per mass)."""
    curves = {}
    rows = []
    m_c = None if topology == "two_body" else FIG2_M_C
    for m in FIG2_MASSES:
        s = sample_topology(topology, 20_000, rng, m_A=m, m_C=m_c)
        vm = ev.transform(s.X).reshape(len(s.X), -1)[:, 0]
        cm = cal(vm)
        expected = m if m_c is None else (m**2 - m_c**2) / m  # peak (m_bc) or endpoint (m_T, m_T2)
        feature = float(np.median(cm)) if m_c is None else float(np.quantile(cm, 0.99))
        curves[m] = {"v": vm, "reference": s.reference, "calibrated": cm}
        rows.append(
            {
                "m_A": m,
                "m_C": m_c,
                "expected": expected,
                "calibrated_feature": feature,
                "feature": "median" if m_c is None else "99% quantile",
            }
        )
    return rows, curves


def _mass_fits(
    ev: EventVariable, topology: str, base_seed: int, fit: Mapping[str, Any]
) -> dict[str, Any]:
    """Mass measurements with V and with the reference: same pseudo-data size and templates."""
    fit_rng_seed = derive_seed(base_seed, "eventvars", "massfit", topology)
    common = dict(
        topology=topology,
        true_m_A=fit["true_m_A"],
        m_C=fit["m_C"],
        grid=fit["grid"],
        n_events=fit["n_events"],
        n_pseudo=fit["n_pseudo"],
        n_template=fit["n_template"],
        bins=fit["bins"],
    )
    out = {
        "mass_fit_v": mass_fit(
            lambda X: ev.transform(X).reshape(len(X), -1)[:, 0],
            rng=np.random.default_rng(fit_rng_seed),
            **common,
        ),
        "mass_fit_reference": mass_fit(
            lambda X: simulate_reference(topology, X),
            rng=np.random.default_rng(fit_rng_seed),
            **common,
        ),
    }
    if topology != "two_body" and fit.get("grid_2d"):
        # m_C unknown too: the realistic measurement (m_C profiled)
        common2 = {k: v for k, v in common.items() if k not in ("m_C", "grid")}
        common2.update(true_m_C=fit["m_C"], grid=fit["grid_2d"]["m_A"], d_mu=fit["grid_2d"]["d_mu"])
        seed2 = derive_seed(base_seed, "eventvars", "massfit2d", topology)
        out["mass_fit_2d_v"] = mass_fit_2d(
            lambda X: ev.transform(X).reshape(len(X), -1)[:, 0],
            rng=np.random.default_rng(seed2),
            **common2,
        )
        out["mass_fit_2d_reference"] = mass_fit_2d(
            lambda X: simulate_reference(topology, X), rng=np.random.default_rng(seed2), **common2
        )
    return out


def evaluate_topology(
    ev: EventVariable,
    topology: str,
    n_test: int,
    base_seed: int,
    fit: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Evaluate a trained variable on a fresh test set; returns (numbers, arrays for figures)."""
    rng = np.random.default_rng(derive_seed(base_seed, "eventvars", "test", topology))
    test = sample_topology(topology, n_test, rng)
    result, v = _component_scores(ev, topology, test, n_test)
    cal, result["calibrated_residual"] = _calibrate(ev, topology, base_seed, test, v)
    result["calibration"], curves = _calibration_curves(ev, topology, cal, rng)
    result.update(_mass_fits(ev, topology, base_seed, fit))
    result["information"] = information_check(
        ev, topology, base_seed, n=int(fit.get("info_events", 200_000))
    )
    arrays = {"v": v, "reference": test.reference, "curves": curves, "calibration": cal}
    return result, arrays


def information_check(
    ev: EventVariable, topology: str, base_seed: int, n: int = 200_000, epochs: int = 4
) -> dict[str, float]:
    """How much the auxiliary classifier learns about Theta from V alone vs from the reference alone.

    Trains the same small network, with the same events and settings, on the
    one-dimensional inputs V and the reference variable; the lower validation
    BCE carries more information about Theta.  A learned V with lower loss than
    the reference has found information the reference lacks, which explains a
    Kendall tau well below 1.
    """
    rng = np.random.default_rng(derive_seed(base_seed, "eventvars", "info", topology))
    s = sample_topology(topology, n, rng)
    v = ev.transform(s.X).reshape(n, -1)[:, :1]
    cfg = EVNConfig(
        epochs=epochs, batch_size=512, learning_rate=2e-3, patience=epochs, seed=1, device="cpu"
    )
    loss_v = train_event_variable((v, s.theta), cfg)[1]["best_val_loss"]
    loss_ref = train_event_variable((s.reference[:, None], s.theta), cfg)[1]["best_val_loss"]
    return {"bce_v": float(loss_v), "bce_reference": float(loss_ref), "n_events": n}


def simulate_reference(topology: str, X: np.ndarray) -> np.ndarray:
    """The reference variable computed from X (the columns of ``ToySample.X``)."""
    from phenoflow.physics.variables import mt2, transverse_mass

    if topology == "two_body":
        return invariant_mass(X[:, 0:4], X[:, 4:8])
    if topology == "one_invisible":
        return transverse_mass(X[:, 0:4], X[:, 4:6])
    return mt2(X[:, 0:4], X[:, 4:8], X[:, 8:10])


__all__ = [
    "Calibration",
    "correlations",
    "evaluate_topology",
    "mass_fit",
    "mass_fit_2d",
    "simulate",
    "train_topology",
]
