"""The learnt ``lestrat`` model and unweighted events drawn from it.

:class:`LeStratModel` keeps what :func:`phenoflow.integrate.lestrat.lestrat_integrate`
learnt: the level classes, the classifier and one :class:`Stratum` (with its frozen
:class:`Proposal`) per class region.  :meth:`LeStratModel.generate` draws unweighted
events (:func:`generate_events`).

Events are drawn stratum by stratum: stratum j is picked with probability
``∝ A_j = int_{C_j} |f|`` (estimated in the final integration pass), a point is
proposed from the stratum's frozen proposal ``q_j`` (the integrand is called only when
the point is in C_j), and it is accepted with probability ``|w| / w_max_j`` where
``w = f / q_j`` and ``w_max_j`` is the largest weight seen in the integration (times
``safety``).  Accepted events carry the weight ``sign(f)``: ±1, so for a sign-changing
integrand a histogram must be filled with the weights.  A point with ``|w| > w_max_j``
(an *overweight*) is accepted with weight ``sign(f) |w| / w_max_j`` so the sample stays
unbiased; the fraction of such events is reported.

**Zoom mode.**  ``zoom`` is a predicate ``x (n, d) -> bool (n,)`` marking a region to
oversample by ``zoom_factor`` (z > 1).  Before f is called, proposals outside the
region are kept with probability 1/z (the predicate is cheap, f is not), so the
accepted events follow ``|f| g`` with ``g = z`` inside and 1 outside, at the same
efficiency per call as without zoom.  Stratum probabilities become ``∝ A_j g_j`` with
``g_j`` the |f|-average of g in stratum j (estimated from a first batch), and events
carry weight ``sign(f) / g``: ±1/z inside the region, ±1 outside.  Weighted histograms
then still estimate the distribution of f, with z times more events in the region.

In every mode ``norm * sum_i w_i phi(x_i)`` estimates ``int f phi`` for any function phi
(``Events.norm``); with ``phi = 1`` this is the integral.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import vegas

from phenoflow.integrate.classify import LevelClasses, LevelClassifier
from phenoflow.integrate.result import Integrand
from phenoflow.integrate.sampling import GaussianComponent, MapComponent

Zoom = Callable[[np.ndarray], np.ndarray]


@dataclass
class Proposal:
    """A stratum's sampling density: components with point shares ``alpha`` (sum 1)."""

    components: list[MapComponent | GaussianComponent]
    alpha: np.ndarray
    name: str

    def log_mix_density(self, x: np.ndarray) -> np.ndarray:
        """log sum_k alpha_k q_k(x) at points inside the box, (n, d) -> (n,)."""
        logs = np.stack([c.log_density(x) for c in self.components]) + np.log(self.alpha)[:, None]
        return np.logaddexp.reduce(logs, axis=0)


@dataclass
class Stratum:
    """One class region C_j and everything learnt about it."""

    index: int
    label: str
    base_map: vegas.AdaptiveMap
    gauss: GaussianComponent | None = None
    gauss_ess: float = 0.0  # effective sample size of the last fit of ``gauss``
    proposal: Proposal | None = None
    mean: float = 0.0
    var: float = 0.0
    abs_mean: float = 0.0  # estimate of int_{C_j} |f|
    n_calls: int = 0  # final-phase calls
    err_per_call: float = 0.0  # calibrated sdev * sqrt(calls)
    p_call: float = 1.0  # calls per proposed point (calibration)
    w_max: float = 0.0  # largest |f / q_mix| seen in the final phase
    choice: Any = None  # the calibrated candidate (name, spec, shares)
    calib_run: tuple[float, float, float] = (0.0, 0.0, 0.0)  # its (mean, var, int |f|)
    calib: dict[str, float] = field(default_factory=dict)


@dataclass
class LeStratModel:
    """What ``lestrat`` learnt: the classifier, the classes and per-stratum proposals.

    Use :meth:`generate` for unweighted events.  ``f`` is the user's integrand (events
    need new evaluations of it).  ``scale`` is the internal scale of the integration
    (:class:`~phenoflow.integrate.result.CountedIntegrand`): the numbers of the strata
    (``mean``, ``var``, ``abs_mean``, ``w_max``) are of ``f / scale``.
    """

    f: Integrand
    bounds: np.ndarray
    classes: LevelClasses
    classifier: LevelClassifier
    strata: list[Stratum]
    scale: float = 1.0

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """(n,) float64 values ``f / scale`` at the points ``x`` (n, d).

        ``f`` gets a copy of ``x`` (it may modify it) and may return shape (n,) or (n, 1).
        """
        values = np.asarray(self.f(np.array(x, dtype=np.float64, order="C")), dtype=np.float64)
        if values.shape != (len(x),):
            if values.size != len(x) or values.ndim != 2:
                raise ValueError(
                    f"integrand must map {x.shape} points to shape ({len(x)},), "
                    f"got shape {values.shape}"
                )
            values = values.reshape(len(x))
        return values / self.scale if self.scale != 1.0 else values

    @property
    def dim(self) -> int:
        return len(self.bounds)

    def generate(
        self,
        n_events: int,
        seed: int = 0,
        zoom: Zoom | None = None,
        zoom_factor: float = 10.0,
        safety: float = 1.0,
        max_calls: int | None = None,
    ) -> Events:
        """Unweighted events; see :func:`generate_events`."""
        return generate_events(
            self,
            n_events,
            seed=seed,
            zoom=zoom,
            zoom_factor=zoom_factor,
            safety=safety,
            max_calls=max_calls,
        )


@dataclass(frozen=True)
class Events:
    """Unweighted events.

    ``x``                    (n, d) event coordinates.
    ``weights``              (n,) ±1 (±1/z inside a zoom region; overweights larger).
    ``stratum``              (n,) index (into ``model.strata``) of the stratum of each event.
    ``norm``                 integral per unit weight: ``norm * sum(weights)`` ~ int f.
    ``n_calls``              integrand evaluations spent (proposals inside their stratum).
    ``efficiency``           accepted events / ``n_calls``, in (0, 1].
    ``overweight_fraction``  share of events whose weight exceeded the bound.
    """

    x: np.ndarray
    weights: np.ndarray
    stratum: np.ndarray
    norm: float
    n_calls: int
    efficiency: float
    overweight_fraction: float


def _propose(
    model: LeStratModel, st: Stratum, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """n proposals from the stratum's proposal: (x (n, d), in_stratum (n,) bool)."""
    assert st.proposal is not None
    comps, alpha = st.proposal.components, st.proposal.alpha
    which = rng.choice(len(comps), size=n, p=alpha)
    x = np.empty((n, model.dim))
    ok = np.zeros(n, dtype=bool)
    for k, comp in enumerate(comps):
        sel = which == k
        if sel.any():
            y = np.ascontiguousarray(rng.random((int(sel.sum()), model.dim)))
            xk, _, valid = comp.transform(y)
            x[sel], ok[sel] = xk, valid
    idx = np.flatnonzero(ok)
    if len(idx) and st.index >= 0:
        ok[idx] = model.classifier.predict(x[idx]) == st.index
    return x, ok


@dataclass
class _Unweighting:
    """The state of one :func:`generate_events` call: accepted events and counters per stratum."""

    model: LeStratModel
    strata: list[Stratum]
    rng: np.random.Generator
    zoom: Zoom | None
    z: float  # the zoom factor (1 without zoom)
    safety: float
    cap: int  # most integrand calls allowed
    n_events: int
    calls: int = 0
    out_x: list[list[np.ndarray]] = field(default_factory=list)
    out_w: list[list[np.ndarray]] = field(default_factory=list)
    n_acc: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sum_w: np.ndarray = field(default_factory=lambda: np.zeros(0))  # sum |f/q|: zoom averages g_j
    sum_wg: np.ndarray = field(default_factory=lambda: np.zeros(0))
    n_prop: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        n = len(self.strata)
        self.out_x = [[] for _ in self.strata]
        self.out_w = [[] for _ in self.strata]
        self.n_acc = np.zeros(n, dtype=np.int64)
        self.sum_w = np.zeros(n)
        self.sum_wg = np.zeros(n)
        self.n_prop = np.zeros(n, dtype=np.int64)

    def factor(self, x: np.ndarray) -> np.ndarray:
        """The zoom factor g (n,) at points x (n, d): z inside the region, 1 outside."""
        if self.zoom is None:
            return np.ones(len(x))
        mask = np.asarray(self.zoom(x), dtype=bool)
        if mask.shape != (len(x),):
            raise ValueError(f"zoom must map (n, d) points to (n,) booleans, got {mask.shape}")
        return np.where(mask, self.z, 1.0)

    def run_batch(self, i: int, n: int) -> None:
        """Propose n points in stratum i, call f on those kept, accept and store events."""
        st = self.strata[i]
        assert st.proposal is not None
        x, ok = _propose(self.model, st, n, self.rng)
        self.n_prop[i] += n
        idx = np.flatnonzero(ok)
        if self.zoom is not None and len(idx):
            # thin the proposals to density q g / z before calling f: outside the region
            # only one in z is kept, so the zoom costs no extra integrand calls
            g_all = self.factor(x[idx])
            idx = idx[self.rng.random(len(idx)) < g_all / self.z]
        if self.calls + len(idx) > self.cap:
            raise RuntimeError(
                f"unweighting needed more than max_calls = {self.cap} integrand calls "
                f"({int(self.n_acc.sum())} of {self.n_events} events so far)"
            )
        self.calls += len(idx)
        if not len(idx):
            return
        xe = x[idx]
        fx = self.model.evaluate(xe)
        w = fx * np.exp(-st.proposal.log_mix_density(xe))
        g = self.factor(xe)
        # the kept points have density q g / z: |w| / g and |w| estimate int |f| and
        # int |f| g up to the same factor, hence the |f|-averaged zoom factor g_j
        self.sum_w[i] += float((np.abs(w) / g).sum())
        self.sum_wg[i] += float(np.abs(w).sum())
        ratio = np.abs(w) / (self.safety * st.w_max)
        accept = self.rng.random(len(idx)) < ratio
        over = np.maximum(ratio[accept], 1.0)
        self.out_x[i].append(xe[accept])
        self.out_w[i].append(np.sign(fx[accept]) * over / g[accept])
        self.n_acc[i] += int(accept.sum())

    def zoom_averages(self, batch: int) -> np.ndarray:
        """(n_strata,) |f|-averaged zoom factors g_j, from a first batch of every stratum."""
        if self.zoom is None:
            return np.ones(len(self.strata))
        for i in range(len(self.strata)):
            self.run_batch(i, batch)
        return np.where(self.sum_w > 0, self.sum_wg / np.maximum(self.sum_w, 1e-300), 1.0)

    def fill(self, want: np.ndarray) -> None:
        """Run batches until stratum i has ``want[i]`` accepted events, stratum by stratum."""
        n_acc, n_prop = self.n_acc, self.n_prop
        for i in range(len(self.strata)):
            while n_acc[i] < want[i]:
                if n_acc[i] == 0:  # no efficiency measured yet: a modest batch first
                    todo = 4 * (2 ** min(int(n_prop[i]).bit_length(), 20)) + 4096
                else:
                    todo = (want[i] - n_acc[i]) / (n_acc[i] / n_prop[i]) * 1.1 + 256
                self.run_batch(i, int(min(todo, 1 << 20)))

    def events(self, want: np.ndarray, prob_norm: float) -> Events:
        """The first ``want[i]`` accepted events of every stratum, as :class:`Events`."""
        xs, ws, ss = [], [], []
        dim = self.model.dim
        for i, st in enumerate(self.strata):
            x_i = np.concatenate(self.out_x[i]) if self.out_x[i] else np.zeros((0, dim))
            w_i = np.concatenate(self.out_w[i]) if self.out_w[i] else np.zeros(0)
            xs.append(x_i[: want[i]])
            ws.append(w_i[: want[i]])
            ss.append(np.full(want[i], self.model.strata.index(st), dtype=np.int64))
        weights = np.concatenate(ws)
        over = float(np.mean(np.abs(weights) * self.factor(np.concatenate(xs)) > 1.0 + 1e-12))
        return Events(
            x=np.concatenate(xs),
            weights=weights,
            stratum=np.concatenate(ss),
            norm=prob_norm / self.n_events,
            n_calls=self.calls,
            efficiency=min(float(self.n_acc.sum()) / max(self.calls, 1), 1.0),
            overweight_fraction=over,
        )


def generate_events(
    model: LeStratModel,
    n_events: int,
    seed: int = 0,
    zoom: Zoom | None = None,
    zoom_factor: float = 10.0,
    safety: float = 1.0,
    max_calls: int | None = None,
    batch: int = 65_536,
) -> Events:
    """``n_events`` unweighted events distributed as |f| (see the module docstring).

    ``seed`` seeds every draw; ``zoom`` / ``zoom_factor`` oversample a region;
    ``safety`` (>= 1 normally) scales the weight bound; ``max_calls`` caps the
    integrand calls (default ``1000 n_events + 10^6``), beyond which ``RuntimeError``.
    """
    if n_events < 1:
        raise ValueError(f"n_events must be >= 1, got {n_events}")
    if zoom is not None and not zoom_factor > 1.0:
        raise ValueError(f"zoom_factor must be > 1, got {zoom_factor}")
    if not safety > 0:
        raise ValueError(f"safety must be > 0, got {safety}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 7]))
    cap = max_calls if max_calls is not None else 1000 * n_events + 1_000_000
    strata = [st for st in model.strata if st.abs_mean > 0 and st.w_max > 0]
    if not strata:
        raise ValueError("the integrand vanished on every point of the integration: no events")
    z = zoom_factor if zoom is not None else 1.0
    run = _Unweighting(model, strata, rng, zoom, z, safety, cap, n_events)
    abs_int = np.array([st.abs_mean for st in strata])
    g_mean = run.zoom_averages(batch)
    prob = abs_int * g_mean
    prob /= prob.sum()
    want = rng.multinomial(n_events, prob)
    run.fill(want)
    return run.events(want, float((abs_int * g_mean).sum()) * model.scale)
