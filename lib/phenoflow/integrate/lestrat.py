"""``lestrat``: integration as classification over level sets of f, then stratified MC.

After LeStrat-Net (Ban, Park, Ramos, arXiv:2412.13982), with per-stratum adaptive
importance sampling.  The steps, all within the ``n_calls`` budget (every point given
to f counts):

1. **Pilot** (``pilot_frac``): uniform points, VEGAS+ on |f|, and a survey drawn from
   the adapted VEGAS map with exact weights.
2. **Classes** (:mod:`phenoflow.integrate.classify`): the range of f is cut by sign and
   by geometric bands of |f| below the largest value seen (default: one band per sign
   down to ``level_ratio`` times the maximum, the rest is the "small" class).  A small
   MLP learns x -> class.  Its argmax regions ``C_j`` *partition* the box, so
   ``sum_j int_{C_j} f = int f`` exactly, however wrong the classifier is.
3. **Adaptation** (``adapt_frac`` per round): per stratum a VEGAS map is adapted to
   ``|f| 1[x in C_j]``, starting from a map fitted to the survey points of that class;
   the classifier is evaluated first and f is called only on points in ``C_j``.  A
   stratum whose points carry values of another class, or whose |f| estimate rests on
   a handful of points, adapts further; if that reveals a new class (a peak the pilot
   missed), classes, classifier and maps are rebuilt (up to ``max_rounds``).  A
   multivariate normal fitted to each stratum's |f|-weighted points is refined by
   adaptive importance sampling (``gauss_frac``).  One more map, for |f| on the whole
   box, is adapted as the unstratified alternative.
4. **Calibration** (``calib_frac``): short runs of the final estimator with candidate
   proposals per stratum (a defensive mixture of everything, the map, a broad tempered
   map, the normal) pick the one with the least error per call among those that agree
   with the defensive mixture.  The unstratified map replaces the strata when its
   predicted error is smaller and it sees as much |f| as they do (in low dimensions the
   antithetic cells resolve sign changes better than a partition does).
5. **Estimation**: the rest of the budget is split over strata by Neyman allocation
   (calls ∝ error per call).  Each stratum is estimated from *fresh* points drawn by
   antithetic stratified sampling of its frozen proposal, several components combined
   by the balance heuristic (:mod:`phenoflow.integrate.sampling`): ``I_j`` and its
   variance are unbiased, so ``mean = sum I_j`` and ``sdev = sqrt(sum var_j)``.

Randomness comes from one ``numpy.random.Generator`` seeded by ``seed`` (torch
initialisation from a ``torch.Generator``), so the same seed gives the same result.
The returned :class:`LeStratModel` keeps the classifier and the proposals and can
generate unweighted events (:meth:`LeStratModel.generate`, in
:mod:`phenoflow.integrate.model`).

Limits: a region no sample ever reaches (e.g. a narrow peak far from everything else in
many dimensions, at a small budget) cannot be found; its integral is then missing from
the result and from its error, as for every Monte Carlo method.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import vegas

from phenoflow.integrate.classify import LevelClasses, LevelClassifier, make_classes
from phenoflow.integrate.model import LeStratModel, Proposal, Stratum
from phenoflow.integrate.references import vegas_batch
from phenoflow.integrate.result import CountedIntegrand, Integrand
from phenoflow.integrate.sampling import (
    GaussianComponent,
    MapComponent,
    StratifiedDesign,
    cell_sums,
    fit_gaussian,
    map_from_samples,
    tempered_map,
)

MIN_CALLS = 2000


@dataclass(frozen=True)
class LeStratOptions:
    """Tuning knobs of ``lestrat`` (all optional keyword options of ``integrate``).

    Budget fractions are of ``n_calls``; the rest after pilot, adaptation and calibration
    goes to the final estimate.
    """

    pilot_frac: float = 0.12  # pilot (uniform + VEGAS+ on |f| + survey)
    pilot_uniform: float = 0.1  # share of the pilot drawn uniformly
    pilot_survey: float = 0.25  # share of the pilot drawn from the adapted pilot map
    pilot_nitn: int = 8  # VEGAS+ iterations in the pilot
    adapt_frac: float = 0.1  # per-stratum map adaptation, per round
    max_rounds: int = 3  # rounds of classes + adaptation (a new class starts a round)
    max_extra: int = 3  # extra adaptations of a stratum that sees values of another class
    extra_frac: float = 0.4  # budget of one extra adaptation, as a share of adapt_frac
    min_ess: float = 200.0  # a stratum whose |f|-weighted sample is smaller adapts further
    reserve_frac: float = 0.4  # exploration stops when less than this share of the budget is left
    adapt_nitn: int = 6  # adaptation iterations per stratum
    adapt_alpha: float = 1.0  # damping of the VEGAS map adaptation
    calib_frac: float = 0.06  # calibration runs of the final estimator
    gauss_frac: float = 0.05  # refinement of the per-stratum normal proposals
    allow_unstratified: bool = True  # let calibration pick one whole-box map instead
    unstratified_frac: float = 0.5  # its adaptation budget, as a share of adapt_frac
    level_ratio: float = 1e-6  # factor between levels of |f| (and to the small class)
    n_levels: int = 1  # bands of |f| per sign above the small class
    min_class_points: int = 30  # pilot points needed to make a band its own class
    hidden: tuple[int, ...] = (32, 32)  # classifier hidden layers
    train_steps: int = 500  # classifier Adam steps
    max_train_points: int = 40_000  # pilot points used to train the classifier
    tau: float = 0.35  # tempering of the broad map candidate (q ∝ q_vegas^tau)
    gauss_share: float = 0.9  # share of the Gaussian component in the mixture proposal
    gauss_min_ess: float = 500.0  # per dimension, for the normal to be used alone
    borrow_width: float = 1.7  # widening of other strata's normals lent to the small stratum
    n_pairs: int = 2  # antithetic pairs per cell in the final estimate
    margin: float = 0.01  # budget kept back against fluctuations of the call count


def options_from(kwargs: dict[str, Any]) -> LeStratOptions:
    """Options from ``integrate``'s keyword arguments; unknown names raise ``ValueError``."""
    known = {f.name for f in fields(LeStratOptions)}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise ValueError(f"unknown lestrat option(s) {unknown}; known: {sorted(known)}")
    return LeStratOptions(**kwargs)


def _member(classifier: LevelClassifier, x: np.ndarray, index: int) -> np.ndarray:
    """(n,) bool: the points of ``x`` (n, d) in stratum ``index`` (-1: the whole box)."""
    if index < 0:
        return np.ones(len(x), dtype=bool)
    return classifier.predict(x) == index


def _vegas_rng(rng: np.random.Generator) -> Any:
    def ran_array_generator(size: tuple[int, ...]) -> np.ndarray:
        return rng.random(size)

    return ran_array_generator


@dataclass
class _Pilot:
    """The pilot's points: all of them (x (n, d), f (n,)), the weighted survey, the map."""

    x: np.ndarray
    f: np.ndarray
    survey_x: np.ndarray
    survey_f: np.ndarray
    survey_w: np.ndarray
    map: vegas.AdaptiveMap


def _pilot(
    F: CountedIntegrand,
    bounds: np.ndarray,
    budget: int,
    opts: LeStratOptions,
    rng: np.random.Generator,
) -> _Pilot:
    """Pilot points: uniform, VEGAS+ on |f|, then a weighted survey of the adapted map."""
    d = len(bounds)
    xs: list[np.ndarray] = []
    fs: list[np.ndarray] = []
    n_uniform = max(int(budget * opts.pilot_uniform), 100)
    n_survey = max(int(budget * opts.pilot_survey), 100)
    n_vegas = budget - n_uniform - n_survey
    x_u = bounds[:, 0] + (bounds[:, 1] - bounds[:, 0]) * rng.random((n_uniform, d))
    xs.append(x_u)
    fs.append(F(x_u))

    integ = vegas.Integrator([tuple(b) for b in bounds], ran_array_generator=_vegas_rng(rng))
    nitn = max(min(opts.pilot_nitn, n_vegas // 200), 1)
    start = F.n_calls

    def abs_f(x: np.ndarray) -> np.ndarray:
        x = np.array(x, dtype=np.float64)
        if F.n_calls - start + len(x) > n_vegas:  # vegas rounding; never go past the share
            return np.zeros(len(x))
        fx = F(x)
        xs.append(x)
        fs.append(fx)
        return np.abs(fx)

    if n_vegas >= 100:
        integ(vegas_batch(integ, abs_f), nitn=nitn, neval=max(n_vegas // nitn, 50))
    # survey: fresh points from the adapted map with their exact weights
    n_left = budget - (F.n_calls - start) - n_uniform
    integ.set(neval=max(n_left, 10), adapt=False)
    sx: list[np.ndarray] = []
    sw: list[np.ndarray] = []
    sf: list[np.ndarray] = []
    used = 0
    for x, wgt in integ.random_batch():
        x = np.array(x)
        take = min(len(x), n_left - used)
        if take <= 0:
            break
        fx = F(x[:take])
        used += take
        sx.append(x[:take])
        sf.append(fx)
        sw.append(np.array(wgt[:take]) * len(x) / take)
    x_s = np.concatenate(sx) if sx else np.zeros((0, d))
    f_s = np.concatenate(sf) if sf else np.zeros(0)
    w_s = np.concatenate(sw) if sw else np.zeros(0)
    xs.append(x_s)
    fs.append(f_s)
    return _Pilot(
        x=np.concatenate(xs),
        f=np.concatenate(fs),
        survey_x=x_s,
        survey_f=f_s,
        survey_w=w_s,
        map=vegas.AdaptiveMap(integ.map.extract_grid()),
    )


def _adapt_stratum(
    F: CountedIntegrand,
    stratum: Stratum,
    classifier: LevelClassifier,
    budget: int,
    opts: LeStratOptions,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adapt the stratum's VEGAS map to |f| 1[C_j] with about ``budget`` calls.

    Every iteration draws a stratified sample of the current map; points outside C_j
    cost no call.  Returns the evaluated points of the second half of the iterations,
    ``(x (n, d), f (n,), v (n,))`` with weights ``v = 1 / (n_it N q(x))``, so that
    ``sum v f`` estimates the integral of f over C_j.
    """
    d = stratum.base_map.dim
    m = stratum.base_map
    nitn = max(opts.adapt_nitn, 1)
    n_keep = nitn - nitn // 2
    keep: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    spent = 0
    for it in range(nitn):
        calls_it = (budget - spent) // (nitn - it)
        if calls_it < 20:
            continue
        probe_y = rng.random((2000, d))
        probe_x = np.empty_like(probe_y)
        probe_j = np.empty(len(probe_y))
        m.map(probe_y, probe_x, probe_j)
        p_in = max(float(np.mean(_member(classifier, probe_x, stratum.index))), 1e-3)
        n_points = int(min(calls_it / p_in, 50 * calls_it, 4_000_000))
        design = StratifiedDesign.for_points(n_points, d, n_pairs=1)
        for y in design.chunks(rng):
            x = np.empty_like(y)
            jac = np.empty(len(y))
            m.map(y, x, jac)
            inside = np.flatnonzero(_member(classifier, x, stratum.index))
            inside = inside[: max(min(len(inside), budget - spent), 0)]
            fx = np.zeros(len(y))
            fx[inside] = F(x[inside])
            spent += len(inside)
            m.add_training_data(y, (jac * fx) ** 2)
            if it >= nitn // 2 and len(inside):
                keep.append((x[inside], fx[inside], jac[inside] / (design.n_points * n_keep)))
        m.adapt(alpha=opts.adapt_alpha)
    if not keep:
        return np.zeros((0, d)), np.zeros(0), np.zeros(0)
    return tuple(np.concatenate(parts) for parts in zip(*keep, strict=True))  # type: ignore[return-value]


def _surprise(classes: LevelClasses, index: int, smp: tuple[np.ndarray, ...]) -> float:
    """|f|-weighted fraction of a stratum's adaptation points whose value is of another class."""
    _, f, v = smp
    if len(f) == 0:
        return 0.0
    w = np.abs(f) * v
    total = float(w.sum())
    if total <= 0:
        return 0.0
    sign, band = classes.raw_band(f)
    below = band >= classes.n_levels
    own = np.where(below, index == classes.small, False)
    above = ~below
    own[above] = classes.index[sign[above], band[above]] == index
    return float(w[~own].sum()) / total


def _unsettled(smp: tuple[np.ndarray, ...], min_ess: float) -> bool:
    """Is a stratum's |f| estimate carried by a handful of points (a peak just touched)?"""
    _, f, v = smp
    w = np.abs(f) * v
    total = float(w.sum())
    if total <= 0:
        return False
    return total * total / float(np.sum(w * w)) < min_ess


def _candidates(
    stratum: Stratum, opts: LeStratOptions, borrowed: list[GaussianComponent | MapComponent]
) -> list[tuple[str, list[Any], list[float]]]:
    """Candidate proposals: (name, [(kind, parameter), ...], shares).

    Kinds: ``("map", tau)`` the stratum's map tempered by ``tau``; ``("gauss", None)`` its
    normal; ``("other", component)`` a (widened) normal of another stratum, which covers
    the shell that the other stratum's class leaves around its peak.  A broad map suits
    low dimensions, where the antithetic cells do most of the work; normals suit peaks.
    The first candidate, a mixture of everything, is the defensive reference the
    others are checked against.

    The small stratum also borrows the other strata's maps and the whole-box map (kind
    ``("other", MapComponent)``), each adapted to large |f|.  That stratum's integral
    comes only from points the classifier puts there wrongly, typically a sliver of
    large |f| next to a cut or a peak, which its own map, adapted to the tiny values
    around it, hardly ever proposes: the weights there are then huge and rare, and a
    short run measures far too small an error (seen: Drell-Yan at 3e5 calls, -27
    sigma).  The borrowed maps propose such slivers often; proposals that land outside
    the stratum cost no integrand call.
    """
    parts: list[Any] = [("map", 1.0)]
    shares = [1.0]
    if stratum.gauss is not None:
        parts.append(("gauss", None))
        shares.append(2.0)
    parts.extend(("other", g) for g in borrowed)
    shares.extend([1.0] * len(borrowed))
    total = sum(shares)
    out: list[tuple[str, list[Any], list[float]]] = []
    if len(parts) > 1:
        out.append(("mixture", parts, [sh / total for sh in shares]))
    out.append(("map(tau=1)", [("map", 1.0)], [1.0]))
    out.append((f"map(tau={opts.tau:g})", [("map", opts.tau)], [1.0]))
    if stratum.gauss is not None and stratum.gauss_ess >= opts.gauss_min_ess * stratum.base_map.dim:
        # the normal alone (plus a little of the uniform density, which bounds the
        # weights far out and costs nothing where C_j is small), only when its fit is
        # precise: a fitted normal too narrow in some direction gives heavy-tailed
        # weights whose variance a short run underestimates
        out.append(("gauss", [("map", 0.0), ("gauss", None)], [0.05, 0.95]))
    return out


def _build(
    stratum: Stratum,
    spec: list[Any],
    shares: list[float],
    n_points: int,
    n_pairs: int,
) -> tuple[Proposal, list[StratifiedDesign]]:
    """Instantiate a candidate for a total of ``n_points`` proposed points."""
    d = stratum.base_map.dim
    comps: list[MapComponent | GaussianComponent] = []
    designs: list[StratifiedDesign] = []
    for (kind, tau), share in zip(spec, shares, strict=True):
        design = StratifiedDesign.for_points(max(int(n_points * share), 4 * n_pairs), d, n_pairs)
        if kind == "map":
            # a whole number of increments per cell: one where cells are many (smooth
            # Jacobian inside a cell for the antithetic pairs), ~1000 per axis otherwise
            ns = design.nstrat
            ninc = ns * np.where(ns >= 30, 1, np.maximum(1, 1000 // ns))
            comps.append(MapComponent(tempered_map(stratum.base_map, tau, ninc)))
        elif kind == "gauss":
            assert stratum.gauss is not None
            comps.append(stratum.gauss)
        else:
            comps.append(tau)
        designs.append(design)
    n = np.array([ds.n_points for ds in designs], dtype=np.float64)
    name = "+".join(kind for kind, _ in spec)
    return Proposal(comps, n / n.sum(), name), designs


@dataclass
class _Run:
    mean: float
    var: float
    abs_mean: float
    abs_var: float
    calls: int
    points: int
    w_max: float


def _count_calls(
    stratum: Stratum,
    classifier: LevelClassifier,
    proposal: Proposal,
    designs: list[StratifiedDesign],
    seeds: list[np.random.SeedSequence],
) -> tuple[int, list[list[np.ndarray]]]:
    """First pass: which proposed points need a call (in the box and in C_j)."""
    masks: list[list[np.ndarray]] = []
    total = 0
    for comp, design, ss in zip(proposal.components, designs, seeds, strict=True):
        rng = np.random.default_rng(ss)
        comp_masks = []
        for y in design.chunks(rng):
            x, _, valid = comp.transform(y)
            need = valid.copy()
            if need.any():
                need[need] = _member(classifier, x[need], stratum.index)
            comp_masks.append(need)
            total += int(need.sum())
        masks.append(comp_masks)
    return total, masks


def _estimate(
    F: CountedIntegrand,
    proposal: Proposal,
    designs: list[StratifiedDesign],
    seeds: list[np.random.SeedSequence],
    masks: list[list[np.ndarray]],
) -> _Run:
    """Second pass: the same points again, f on the needed ones, MIS-weighted cell sums."""
    n_k = np.array([ds.n_points for ds in designs], dtype=np.float64)
    n_total = float(n_k.sum())
    mean = var = abs_mean = abs_var = w_max = 0.0
    calls = 0
    for comp, design, ss, comp_masks in zip(
        proposal.components, designs, seeds, masks, strict=True
    ):
        rng = np.random.default_rng(ss)
        for y, need in zip(design.chunks(rng), comp_masks, strict=True):
            contrib = np.zeros(len(y))
            if need.any():
                x, _, _ = comp.transform(y)
                xe = x[need]
                fx = F(xe)
                calls += len(xe)
                # balance heuristic: f / sum_k n_k q_k
                c = fx * np.exp(-proposal.log_mix_density(xe)) / n_total
                contrib[need] = c
                w_max = max(w_max, float(np.max(np.abs(c))) * n_total)
            s, v = cell_sums(contrib, design.n_pairs)
            mean += s
            var += v
            s, v = cell_sums(np.abs(contrib), design.n_pairs)
            abs_mean += s
            abs_var += v
    return _Run(mean, var, abs_mean, abs_var, calls, int(n_total), w_max)


def _run_candidate(
    F: CountedIntegrand,
    stratum: Stratum,
    classifier: LevelClassifier,
    cand: tuple[str, list[Any], list[float]],
    calls: int,
    p_call: float,
    n_pairs: int,
    rng: np.random.Generator,
    hard_cap: int,
) -> tuple[Proposal, _Run] | None:
    """Run one candidate proposal with about ``calls`` integrand calls (never > hard_cap)."""
    _, spec, shares = cand
    # proposals outside C_j cost only the classifier: allow up to 30 per call
    n_points = int(min(calls / max(p_call, 1e-4), 30 * calls + 10_000))
    for _ in range(6):
        proposal, designs = _build(stratum, spec, shares, n_points, n_pairs)
        seeds = rng.bit_generator.seed_seq.spawn(len(designs))  # type: ignore[attr-defined]
        need, masks = _count_calls(stratum, classifier, proposal, designs, seeds)
        if need <= hard_cap:
            return proposal, _estimate(F, proposal, designs, seeds, masks)
        n_points = int(n_points * 0.9 * hard_cap / need)
        if n_points < 8 * n_pairs:
            break
    return None


def _train_classifier(
    x: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    bounds: np.ndarray,
    opts: LeStratOptions,
    seed: int,
    rng: np.random.Generator,
) -> LevelClassifier:
    """A fresh classifier trained on (a random subset of) the labelled points."""
    classifier = LevelClassifier(bounds, n_classes, opts.hidden, seed)
    pick = np.arange(len(labels))
    if len(labels) > opts.max_train_points:
        pick = rng.choice(len(labels), opts.max_train_points, replace=False)
    return classifier.fit(x[pick], labels[pick], rng, steps=opts.train_steps)


def _init_strata(
    classes: LevelClasses,
    classifier: LevelClassifier,
    wx: np.ndarray,
    wf: np.ndarray,
    ww: np.ndarray,
    bounds: np.ndarray,
) -> tuple[list[Stratum], np.ndarray]:
    """One stratum per class, its map fitted to the weighted points the classifier puts in it.

    ``wx`` (n, d), ``wf`` (n,), ``ww`` (n,): a weighted sample of the box (sum ww * f
    estimates the integral).  Returns the strata and each one's share of the adaptation
    budget (half equal, half by the square root of its estimated int |f|).
    """
    pred = classifier.predict(wx) if len(wx) else np.zeros(0, dtype=np.int64)
    strata: list[Stratum] = []
    weight_abs = np.zeros(classes.n_classes)
    for j, label in enumerate(classes.labels):
        sel = pred == j
        v = np.abs(wf[sel]) * ww[sel]
        weight_abs[j] = v.sum()
        n_eff = (v.sum() ** 2 / np.sum(v * v)) if v.sum() > 0 else 0.0
        if n_eff >= 20:
            m = map_from_samples(wx[sel], v, bounds, int(np.clip(n_eff / 10, 10, 200)))
            m.adapt(ninc=1000)
        else:
            m = vegas.AdaptiveMap([tuple(b) for b in bounds], ninc=1000)
        strata.append(Stratum(index=j, label=label, base_map=m))
    share = np.sqrt(np.maximum(weight_abs, 0.0))
    if share.sum() > 0:
        share = 0.5 / len(strata) + 0.5 * share / share.sum()
    else:
        share = np.full(len(strata), 1.0 / len(strata))
    return strata, share


def _refine_gauss(
    F: CountedIntegrand,
    st: Stratum,
    classifier: LevelClassifier,
    budget: int,
    n_iter: int,
    rng: np.random.Generator,
) -> None:
    """Refit the stratum's normal from its own draws (adaptive importance sampling).

    Each iteration draws from the mixture 0.2 map + 0.8 normal, evaluates f on the
    points in C_j and refits mean and covariance with weights |f| / q_mix.  Uses at most
    ``budget`` calls.
    """
    if st.gauss is None or budget < 50 * n_iter:
        return
    bounds = st.gauss.bounds
    spent = 0
    for it in range(n_iter):
        calls_it = (budget - spent) // (n_iter - it)
        proposal = Proposal([MapComponent(st.base_map), st.gauss], np.array([0.2, 0.8]), "refine")
        n = int(calls_it / max(st.p_call, 0.05))
        pick = rng.random(n) < 0.2
        x = np.empty((n, st.gauss.mean.size))
        valid = np.ones(n, dtype=bool)
        for k, sel in enumerate((pick, ~pick)):
            xk, _, vk = proposal.components[k].transform(
                np.ascontiguousarray(rng.random((int(sel.sum()), x.shape[1])))
            )
            x[sel], valid[sel] = xk, vk
        need = np.flatnonzero(valid)
        need = need[_member(classifier, x[need], st.index)]
        need = need[: max(calls_it, 0)]
        if len(need) < 20:
            return
        st.p_call = max(len(need) / n, 1e-3)
        fx = F(x[need])
        spent += len(need)
        v = np.abs(fx) * np.exp(-proposal.log_mix_density(x[need]))
        refit = fit_gaussian(x[need], v, bounds)
        st.gauss_ess = float(v.sum() ** 2 / max(np.sum(v * v), 1e-300))
        if refit is None:
            return
        st.gauss = refit


Samples = tuple[np.ndarray, np.ndarray, np.ndarray]  # (x (n, d), f (n,), v (n,)) of a stratum


@dataclass
class _Laps:
    """Wall time of each step, in order."""

    t0: float
    timings: dict[str, float] = field(default_factory=dict)

    def lap(self, name: str) -> None:
        self.timings[name] = time.perf_counter() - self.t0 - sum(self.timings.values())


@dataclass
class _Learnt:
    """What steps 2-3 learnt: classes, classifier, strata with their adaptation samples."""

    classes: LevelClasses
    classifier: LevelClassifier
    strata: list[Stratum]
    share: np.ndarray  # each stratum's share of a per-stratum budget
    samples: list[Samples]
    whole: Stratum  # the unstratified alternative: one map for the whole box
    whole_samples: Samples | None
    data_x: np.ndarray  # every evaluated point so far (n, d) and its value (n,)
    data_f: np.ndarray
    n_rounds: int


def _adapt_round(
    F: CountedIntegrand,
    classes: LevelClasses,
    classifier: LevelClassifier,
    survey: Samples,
    bounds: np.ndarray,
    n_calls: int,
    opts: LeStratOptions,
    rng: np.random.Generator,
) -> tuple[list[Stratum], np.ndarray, list[Samples]]:
    """One round of step 3: strata from the weighted ``survey``, each map adapted."""
    round_budget = int(n_calls * opts.adapt_frac)
    strata, share = _init_strata(classes, classifier, *survey, bounds)
    samples = []
    for st, sh in zip(strata, share, strict=True):
        samples.append(_adapt_stratum(F, st, classifier, int(round_budget * sh), opts, rng))
    return strata, share, samples


def _adapt_surprised(
    F: CountedIntegrand,
    learnt: _Learnt,
    n_calls: int,
    opts: LeStratOptions,
    rng: np.random.Generator,
) -> None:
    """Extra adaptation of the strata whose points carry values of another class.

    Typically a peak found by the "small" stratum: it adapts further, so the next round
    sees enough of it.  Replaces those strata's samples in ``learnt``.
    """
    round_budget = int(n_calls * opts.adapt_frac)
    strata, samples = learnt.strata, learnt.samples
    for _ in range(opts.max_extra):
        surprised = [
            i
            for i, (st, smp) in enumerate(zip(strata, samples, strict=True))
            if _surprise(learnt.classes, st.index, smp) > 0.01 or _unsettled(smp, opts.min_ess)
        ]
        if not surprised or F.remaining < n_calls * opts.reserve_frac:
            break
        for i in surprised:
            budget_i = int(round_budget * opts.extra_frac / len(surprised))
            more = _adapt_stratum(F, strata[i], learnt.classifier, budget_i, opts, rng)
            samples[i] = more if len(more[0]) else samples[i]


def _learn_strata(
    F: CountedIntegrand,
    pilot: _Pilot,
    bounds: np.ndarray,
    n_calls: int,
    seed: int,
    opts: LeStratOptions,
    rng: np.random.Generator,
) -> _Learnt:
    """Steps 2-3: classes, classifier and per-stratum maps.

    Repeated while adaptation finds values of f that change the set of classes (e.g. a
    peak the pilot missed).
    """
    data_x, data_f = pilot.x, pilot.f
    survey: Samples = (pilot.survey_x, pilot.survey_f, pilot.survey_w)
    round_budget = int(n_calls * opts.adapt_frac)
    whole = Stratum(index=-1, label="all", base_map=pilot.map)
    whole_samples: Samples | None = None
    n_rounds = 0
    while True:
        classes = make_classes(data_f, opts.level_ratio, opts.n_levels, opts.min_class_points)
        classifier = _train_classifier(
            data_x, classes.label(data_f), classes.n_classes, bounds, opts, seed, rng
        )
        strata, share, samples = _adapt_round(
            F, classes, classifier, survey, bounds, n_calls, opts, rng
        )
        if n_rounds == 0 and len(strata) > 1 and opts.allow_unstratified:
            budget_w = int(round_budget * opts.unstratified_frac)
            whole_samples = _adapt_stratum(F, whole, classifier, budget_w, opts, rng)
        learnt = _Learnt(
            classes, classifier, strata, share, samples, whole, whole_samples, data_x, data_f, 0
        )
        _adapt_surprised(F, learnt, n_calls, opts, rng)
        n_rounds += 1
        data_x = np.concatenate([data_x, *(s[0] for s in samples)])
        data_f = np.concatenate([data_f, *(s[1] for s in samples)])
        survey = (
            np.concatenate([s[0] for s in samples]),
            np.concatenate([s[1] for s in samples]),
            np.concatenate([s[2] for s in samples]),
        )
        new = make_classes(data_f, opts.level_ratio, opts.n_levels, opts.min_class_points)
        if (
            new.labels == classes.labels
            or n_rounds >= opts.max_rounds
            or F.remaining < round_budget + n_calls * opts.reserve_frac
        ):
            break
    learnt.data_x, learnt.data_f, learnt.n_rounds = data_x, data_f, n_rounds
    return learnt


def _fit_normals(
    F: CountedIntegrand,
    learnt: _Learnt,
    bounds: np.ndarray,
    n_calls: int,
    opts: LeStratOptions,
    rng: np.random.Generator,
) -> None:
    """Each stratum's normal: fitted to its |f|-weighted points, then refined."""
    d = len(bounds)
    refine_budget = int(n_calls * opts.gauss_frac)
    classes = learnt.classes
    labels = classes.label(learnt.data_f)
    for st, sh, (x_a, f_a, v_a) in zip(learnt.strata, learnt.share, learnt.samples, strict=True):
        if len(x_a):
            st.gauss = fit_gaussian(x_a, np.abs(f_a) * v_a, bounds)
        if st.gauss is None and st.index != classes.small:
            # weights too uneven: start from the spread of the points of this class
            mine = learnt.data_x[labels == st.index]
            if len(mine) > 10 * d:
                st.gauss = fit_gaussian(mine, np.ones(len(mine)), bounds)
        _refine_gauss(F, st, learnt.classifier, int(refine_budget * sh), 3, rng)


def _borrowed(
    st: Stratum, option: list[Stratum], whole: Stratum, small: int, opts: LeStratOptions
) -> list[GaussianComponent | MapComponent]:
    """What the small stratum borrows from the others (see :func:`_candidates`); else []."""
    if st.index != small:
        return []
    return (
        [
            _widened(o.gauss, opts.borrow_width)
            for o in option
            if o is not st and o.gauss is not None
        ]
        + [MapComponent(o.base_map) for o in option if o is not st]
        + [MapComponent(whole.base_map)]
    )


def _choose_partition(
    F: CountedIntegrand,
    learnt: _Learnt,
    n_calls: int,
    opts: LeStratOptions,
    rng: np.random.Generator,
) -> tuple[list[Stratum], int, list[float]]:
    """Step 4: calibrate each stratum's proposal; the strata or the whole-box map.

    Returns (the strata to estimate with, 0 for the classes or 1 for the whole box,
    the predicted error per call of each option).
    """
    strata, whole = learnt.strata, learnt.whole
    calib_budget = int(n_calls * opts.calib_frac)
    options = [strata]
    if learnt.whole_samples is not None and len(learnt.whole_samples[0]):
        options.append([whole])
    predicted = []
    for option in options:
        shares = learnt.share if option is strata else np.ones(1)
        for st, sh in zip(option, shares, strict=True):
            borrowed = _borrowed(st, option, whole, learnt.classes.small, opts)
            _calibrate(
                F,
                st,
                learnt.classifier,
                int(calib_budget * sh / len(options)),
                opts,
                rng,
                borrowed,
            )
        # Neyman: the final error is (sum_j err_j)^2 / N
        predicted.append(sum(st.err_per_call for st in option))
    chosen = 0
    if len(options) == 2 and predicted[1] < predicted[0] and learnt.n_rounds == 1:
        # one map for the whole box may be better (low dimensions: the antithetic cells
        # handle sign changes), but only if it sees what the strata see: a map that
        # missed a peak would report a small, dishonest error
        # (a peak it missed shows as less int |f| than the strata found)
        abs_s = sum(st.calib_run[2] for st in strata)
        chosen = 1 if whole.calib_run[2] >= 0.9 * abs_s else 0
    return options[chosen], chosen, predicted


def _final_estimate(
    F: CountedIntegrand,
    strata: list[Stratum],
    classifier: LevelClassifier,
    opts: LeStratOptions,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """Step 5: Neyman allocation of what is left; sets each stratum's final numbers.

    Returns (sum of the stratum integrals, sum of their variances).
    """
    left = int(F.remaining * (1.0 - opts.margin))
    err = np.array([st.err_per_call for st in strata])
    if err.sum() > 0:
        alloc = 0.05 / len(strata) + 0.95 * err / err.sum()
    else:
        alloc = np.full(len(strata), 1.0 / len(strata))
    alloc = alloc / alloc.sum()
    mean = var = 0.0
    for i, st in enumerate(strata):
        want = int(left * alloc[i])
        cap = F.remaining - int(sum(alloc[i + 1 :]) * left * 0.98)
        out = _run_candidate(
            F, st, classifier, st.choice, want, st.p_call, opts.n_pairs, rng, max(cap, 0)
        )
        if out is None:
            raise RuntimeError(f"lestrat: no budget left for stratum {st.label}")
        st.proposal, run = out
        st.mean, st.var, st.abs_mean = run.mean, run.var, run.abs_mean
        st.n_calls, st.w_max = run.calls, run.w_max
        mean += run.mean
        var += run.var
    return mean, var


def _info(
    learnt: _Learnt,
    strata: list[Stratum],
    chosen: int,
    predicted: list[float],
    timings: dict[str, float],
    dim: int,
    scale: float,
) -> dict[str, Any]:
    """The ``info`` dict of the result (stratum integrals in units of f, not f / scale)."""
    return {
        "timings": timings,
        "classes": list(learnt.classes.labels),
        "rounds": learnt.n_rounds,
        "partition": "classes" if chosen == 0 else "none",
        "predicted_err_per_call": predicted,
        "classifier_train_accuracy": learnt.classifier.train_accuracy,
        "strata": [
            {
                "label": st.label,
                "mean": st.mean * scale,
                "sdev": math.sqrt(st.var) * scale,
                "calls": st.n_calls,
                "proposal": st.choice[0] if st.choice else "",
                "calib": dict(st.calib),
            }
            for st in strata
        ],
        "dim": dim,
    }


def lestrat_integrate(
    F: CountedIntegrand,
    f: Integrand,
    bounds: np.ndarray,
    n_calls: int,
    seed: int,
    opts: LeStratOptions,
) -> tuple[float, float, LeStratModel, dict[str, Any]]:
    """Run the five steps on the counted integrand ``F``; returns (mean, sdev, model, info).

    ``mean`` and ``sdev`` are of the values ``F`` returns (f / ``F.scale``).
    """
    laps = _Laps(time.perf_counter())
    rng = np.random.default_rng(np.random.SeedSequence([seed, 5]))
    pilot = _pilot(F, bounds, max(int(n_calls * opts.pilot_frac), 300), opts, rng)
    laps.lap("pilot")
    learnt = _learn_strata(F, pilot, bounds, n_calls, seed, opts, rng)
    laps.lap("classes_adapt")
    _fit_normals(F, learnt, bounds, n_calls, opts, rng)
    laps.lap("gauss")
    strata, chosen, predicted = _choose_partition(F, learnt, n_calls, opts, rng)
    laps.lap("calibrate")
    mean, var = _final_estimate(F, strata, learnt.classifier, opts, rng)
    laps.lap("estimate")
    model = LeStratModel(f, bounds, learnt.classes, learnt.classifier, strata, scale=F.scale)
    info = _info(learnt, strata, chosen, predicted, laps.timings, len(bounds), F.scale)
    return mean, math.sqrt(var), model, info


def _calibrate(
    F: CountedIntegrand,
    st: Stratum,
    classifier: LevelClassifier,
    budget: int,
    opts: LeStratOptions,
    rng: np.random.Generator,
    borrowed: list[GaussianComponent | MapComponent],
) -> None:
    """Short runs of each candidate proposal; keeps the one with the least error per call.

    A candidate is only eligible if its estimates of the integral and of int |f| over
    C_j agree with those of the defensive candidate (the plain map): a proposal that
    misses part of the stratum would report a small but dishonest error.  Sets
    ``st.choice``, ``st.err_per_call`` (sdev * sqrt(calls)), ``st.p_call`` (calls per
    proposed point), ``st.calib_run`` and ``st.calib`` (error per call of each candidate).
    """
    cands = _candidates(st, opts, borrowed)
    per = max(budget // len(cands), 50)
    best: tuple[float, Any, float] | None = None
    ref: _Run | None = None
    for cand in cands:
        # calls per proposed point: classify a probe from this candidate (no f calls)
        proposal, designs = _build(st, cand[1], cand[2], 4000, 1)
        probe_rng = np.random.default_rng(rng.integers(2**63))
        hit = tot = 0
        for comp, ds in zip(proposal.components, designs, strict=True):
            for y in ds.chunks(probe_rng):
                x, _, valid = comp.transform(y)
                tot += len(y)
                if valid.any():
                    hit += int(np.sum(_member(classifier, x[valid], st.index)))
        p_call = max(hit / max(tot, 1), 1e-4)
        out = _run_candidate(F, st, classifier, cand, per, p_call, 2, rng, min(per, F.remaining))
        if out is None:
            continue
        _, run = out
        err = math.sqrt(run.var * max(run.calls, 1))
        st.calib[cand[0]] = err
        if ref is None:
            ref = run
        elif not _agree(ref, run):
            st.calib[cand[0] + " (rejected)"] = st.calib.pop(cand[0])
            continue
        if best is None or err < best[0]:
            best = (err, cand, run.calls / max(run.points, 1))
            st.calib_run = (run.mean, run.var, run.abs_mean)
    if best is None:
        best = (0.0, cands[0], 1.0)
    st.err_per_call = best[0]
    st.p_call = max(best[2], 1e-4)
    st.choice = best[1]


def _widened(g: GaussianComponent, factor: float) -> GaussianComponent:
    """The same normal with its covariance scaled by ``factor**2``."""
    return GaussianComponent(g.mean, g.chol * factor, g.bounds)


def _agree(ref: _Run, run: _Run) -> bool:
    """Do two calibration runs of one stratum agree on the integral and on int |f|?

    Within 3 combined sigma, plus 0.5% of int |f| against misestimated errors."""
    slack = 0.005 * max(ref.abs_mean, run.abs_mean)
    ok_mean = abs(ref.mean - run.mean) <= 3.0 * math.sqrt(ref.var + run.var) + slack
    ok_abs = abs(ref.abs_mean - run.abs_mean) <= 3.0 * math.sqrt(ref.abs_var + run.abs_var) + slack
    return ok_mean and ok_abs
