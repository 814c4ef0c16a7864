"""explore(): known-answer targets, the call budget, SMOTE, determinism, errors, progress."""

import numpy as np
import pytest

from phenoflow.scan import IterationReport, ObjectiveError, explore
from phenoflow.scan.explore import select, smote_proposals
from phenoflow.scan.objectives import BoxTarget
from tests.unit.scan.conftest import FAST, Recorder

UNIT = np.array([[0.0, 1.0], [0.0, 1.0]])
BOX = BoxTarget(target=np.array([[0.3, 0.7], [0.2, 0.6]]), bounds=UNIT)  # 16% of the box


def _annulus(x: np.ndarray) -> np.ndarray:
    """In target: 0.25 < |x - (0.5, 0.5)| < 0.35."""
    r = np.hypot(x[:, 0] - 0.5, x[:, 1] - 0.5)
    return (r > 0.25) & (r < 0.35)


def _squares(x: np.ndarray) -> np.ndarray:
    """In target: 25 squares of side 0.1 with gaps of 0.1 (SMOTE chords can cross gaps)."""
    return np.all(np.mod(x, 0.2) < 0.1, axis=1)


@pytest.fixture(scope="module")
def box_scan():
    objective = Recorder(BOX)
    result = explore(objective, UNIT, 2000, seed=3, n_initial=200, n_per_iteration=200, **FAST)
    return objective, result


def test_box_target_found_points_inside_and_cover_it(box_scan):
    _, result = box_scan
    found = result.target_points
    t = BOX.target
    # every point called "in target" really lies in the box (checked geometrically)
    assert np.all((found > t[:, 0]) & (found < t[:, 1]))
    # ... and every point inside the box was called in target
    inside = np.all((result.points > t[:, 0]) & (result.points < t[:, 1]), axis=1)
    np.testing.assert_array_equal(inside, result.in_target)
    # coverage: each of the 4 x 4 sub-boxes of the target holds points
    cells = np.floor((found - t[:, 0]) / (t[:, 1] - t[:, 0]) * 4).astype(int)
    counts = np.bincount(cells[:, 0] * 4 + cells[:, 1], minlength=16)
    assert counts.min() >= 10, counts
    # ... roughly evenly (a uniform fill would give each sub-box 1/16 of the points)
    assert counts.max() < 3 * counts.min(), counts
    # learning pays: later iterations are far above the 16% of random sampling
    assert np.mean(result.efficiency[3:]) > 0.6


def test_efficiency_is_in_target_over_evaluated_per_iteration(box_scan):
    _, result = box_scan
    for it, eff in enumerate(result.efficiency):
        sel = result.iteration == it
        assert eff == pytest.approx(np.count_nonzero(result.in_target[sel]) / np.count_nonzero(sel))
    assert result.calls_per_iteration[0] == 200
    assert np.all(result.calls_per_iteration[1:] == 200)


def test_every_recorded_point_went_through_the_objective(box_scan):
    objective, result = box_scan
    np.testing.assert_array_equal(objective.all_points(), result.points)
    assert result.n_calls == objective.n_points == 2000
    assert result.stop_reason == "budget"
    assert set(np.unique(result.origin)) <= {"initial", "model", "random", "smote"}


@pytest.mark.parametrize(("n_calls", "n_initial", "n_per_iteration"), [(7, 50, 20), (433, 100, 60)])
def test_call_budget_never_exceeded(n_calls, n_initial, n_per_iteration):
    objective = Recorder(BOX)
    result = explore(
        objective,
        UNIT,
        n_calls,
        seed=1,
        n_initial=n_initial,
        n_per_iteration=n_per_iteration,
        **FAST,
    )
    assert objective.n_points == result.n_calls == n_calls


def test_stops_at_target_count():
    result = explore(
        BOX, UNIT, 5000, seed=0, n_initial=200, n_per_iteration=100, target_count=150, **FAST
    )
    assert result.stop_reason == "target_count"
    assert result.n_in_target >= 150
    # it stopped after the first iteration that reached the count
    before = result.in_target[result.iteration < result.iteration.max()]
    assert np.count_nonzero(before) < 150


def test_smote_points_lie_between_in_target_points_and_are_evaluated():
    objective = Recorder(_squares)
    result = explore(
        objective,
        UNIT,
        900,
        seed=5,
        n_initial=150,
        n_per_iteration=150,
        smote_until=10_000,  # SMOTE in every iteration
        smote_k_neighbors=5,
        **FAST,
    )
    smote = result.origin == "smote"
    assert np.count_nonzero(smote) > 100
    # each SMOTE point lies on a segment between two in-target points found before
    for it in np.unique(result.iteration[smote]):
        known = result.points[(result.iteration < it) & result.in_target]
        for s in result.points[smote & (result.iteration == it)]:
            assert _on_some_segment(s, known), s
    # they were evaluated for real: the verdict is the objective's, and some chords
    # crossed a gap between squares and were found out of target
    np.testing.assert_array_equal(result.in_target[smote], _squares(result.points[smote]))
    assert np.count_nonzero(~result.in_target[smote]) > 0
    assert objective.n_points == result.n_calls


def _on_some_segment(s: np.ndarray, points: np.ndarray, tol: float = 1e-9) -> bool:
    """Is s = a + u (b - a), 0 <= u <= 1, for some a != b in points?"""
    a = points[:, None, :]
    b = points[None, :, :]
    ab = b - a
    length2 = np.sum(ab**2, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.sum((s - a) * ab, axis=-1) / length2
    closest = a + np.clip(u, 0, 1)[..., None] * ab
    dist = np.linalg.norm(closest - s, axis=-1)
    return bool(np.any((length2 > 0) & (dist < tol)))


def test_smote_proposals_use_neighbours_only():
    # in-target points on two far-apart clusters: with k = 2 neighbours no chord joins them
    rng = np.random.default_rng(0)
    a = 0.1 + 0.05 * rng.random((6, 2))
    b = 0.8 + 0.05 * rng.random((6, 2))
    out = rng.random((30, 2)) * 0.2 + np.array([0.4, 0.4])
    points = np.concatenate([a, b, out])
    in_target = np.r_[np.ones(12, bool), np.zeros(30, bool)]
    new = smote_proposals(points, in_target, UNIT, 40, 2, rng)
    assert new.shape == (40, 2)
    in_a = np.all((new >= 0.1) & (new <= 0.15), axis=1)
    in_b = np.all((new >= 0.8) & (new <= 0.85), axis=1)
    assert np.all(in_a | in_b)
    for s in new:
        assert _on_some_segment(s, points[in_target])
    # too few in-target points: nothing to interpolate
    assert smote_proposals(points, np.r_[True, np.zeros(41, bool)], UNIT, 5, 2, rng).shape == (0, 2)


def test_same_seed_same_scan_bit_for_bit():
    kw = {"n_initial": 100, "n_per_iteration": 100, **FAST}
    r1 = explore(_annulus, UNIT, 500, seed=11, **kw)
    r2 = explore(_annulus, UNIT, 500, seed=11, **kw)
    r3 = explore(_annulus, UNIT, 500, seed=12, **kw)
    assert r1.points.tobytes() == r2.points.tobytes()
    np.testing.assert_array_equal(r1.origin, r2.origin)
    np.testing.assert_array_equal(r1.iteration, r2.iteration)
    assert not np.array_equal(r1.points, r3.points)


def test_regressor_variant_uses_scores():
    def score(x: np.ndarray) -> np.ndarray:  # in target: within 0.15 of (0.3, 0.6)
        return -np.hypot(x[:, 0] - 0.3, x[:, 1] - 0.6)

    result = explore(
        score,
        UNIT,
        1000,
        seed=2,
        threshold=-0.15,
        model="regressor",
        n_initial=200,
        n_per_iteration=200,
        **FAST,
    )
    np.testing.assert_array_equal(result.in_target, result.values > -0.15)
    assert result.values.dtype == np.float64
    # random sampling finds 7%; the regressor's proposals do much better
    assert np.mean(result.efficiency[2:]) > 0.5


def test_callable_threshold_and_callback():
    reports: list[IterationReport] = []
    result = explore(
        lambda x: x[:, 0] + x[:, 1],
        UNIT,
        600,
        seed=0,
        threshold=lambda s: (s > 1.2) & (s < 1.4),
        n_initial=200,
        n_per_iteration=200,
        callback=reports.append,
        **FAST,
    )
    assert [r.iteration for r in reports] == [0, 1, 2]
    assert [r.n_calls for r in reports] == [200, 400, 600]
    assert reports[-1].n_in_target == result.n_in_target
    for r, eff in zip(reports, result.efficiency, strict=True):
        assert r.efficiency == pytest.approx(eff)
        assert r.n_in_target_iteration == round(eff * r.n_evaluated)


def test_select_rules():
    rng = np.random.default_rng(0)
    prob = np.array([0.1, 0.9, 0.5, 0.95, 0.0, 0.7])
    np.testing.assert_array_equal(select(prob, 3, "top", rng), [3, 1, 5])
    picked = select(prob, 4, "proportional", rng)
    assert len(set(picked.tolist())) == 4
    assert 4 not in picked
    cand = rng.random((6, 2))
    found = cand[[1]]
    kw = {"candidates": cand, "found": found, "bounds": UNIT, "min_probability": 0.5}
    picked = select(prob, 2, "balanced", rng, **kw)
    assert set(picked.tolist()) <= {1, 2, 3, 5}  # only p >= 0.5
    # fewer eligible than wanted: all eligible, then the best of the rest
    picked = select(prob, 5, "balanced", rng, **kw)
    assert sorted(picked.tolist()) == [0, 1, 2, 3, 5]


# -- errors ------------------------------------------------------------------------------


def test_objective_that_raises_names_the_points():
    def boom(x: np.ndarray) -> np.ndarray:
        if np.any(x[:, 0] > 0.99):
            raise RuntimeError("calculator crashed")
        return x[:, 0] > 0.5

    with pytest.raises(ObjectiveError, match="calculator crashed") as info:
        explore(boom, UNIT, 2000, seed=0, n_initial=500, **FAST)
    err = info.value
    assert isinstance(err.__cause__, RuntimeError)
    assert err.points.shape == (500, 2)
    assert np.array2string(err.points[0], precision=6) in str(err)


def test_objective_returning_nan_names_a_bad_point():
    def nan_at_corner(x: np.ndarray) -> np.ndarray:
        out = x[:, 0] + x[:, 1]
        return np.where(x[:, 0] > 0.9, np.nan, out)

    with pytest.raises(ValueError, match="NaN") as info:
        explore(nan_at_corner, UNIT, 100, seed=0, threshold=1.0, n_initial=100, **FAST)
    message = str(info.value)
    # the first NaN point is quoted with its coordinates, and its first coordinate is > 0.9
    quoted = message.split("[", 1)[1].split("]", 1)[0]
    assert float(quoted.split()[0]) > 0.9


@pytest.mark.parametrize(
    ("objective", "kw", "match"),
    [
        (lambda x: x[:, :1] > 0.5, {}, r"shape \(20,\)"),
        (lambda x: (x[:, 0] > 0.5)[:-1], {}, "shape"),
        (lambda x: x[:, 0], {}, "threshold"),
        (lambda x: x[:, 0] > 0.5, {"threshold": 0.5}, "drop the threshold"),
        (lambda x: np.array(["a"] * len(x)), {}, "bool or real"),
        (lambda x: x[:, 0], {"threshold": lambda s: s}, "bool array"),
    ],
)
def test_bad_objective_output(objective, kw, match):
    with pytest.raises(ValueError, match=match):
        explore(objective, UNIT, 40, seed=0, n_initial=20, **kw, **FAST)


@pytest.mark.parametrize(
    "bounds",
    [[[0.0, 1.0], [1.0, 1.0]], [[0.0, 1.0], [2.0, 1.0]], [0.0, 1.0], [[0, 1, 2]], [[0.0, np.nan]]],
)
def test_bad_bounds(bounds):
    with pytest.raises(ValueError, match="bounds"):
        explore(BOX, bounds, 10, seed=0)


def test_bad_options():
    with pytest.raises(TypeError, match="unknown option"):
        explore(BOX, UNIT, 10, n_inital=5)
    with pytest.raises(ValueError, match="random_fraction"):
        explore(BOX, UNIT, 10, random_fraction=1.5)
    with pytest.raises(ValueError, match="n_calls"):
        explore(BOX, UNIT, 0)
    with pytest.raises(ValueError, match="regressor"):
        explore(BOX, UNIT, 10, model="regressor")
    with pytest.raises(ValueError, match="n_pool"):
        explore(BOX, UNIT, 10, n_pool=10, n_per_iteration=20)


def test_objective_cannot_alter_the_record(caplog):
    def vandal(x: np.ndarray) -> np.ndarray:
        verdict = BOX(x)
        x[:] = -1.0  # scribbles over its input
        return verdict

    with caplog.at_level("INFO", logger="phenoflow.scan.explore"):
        result = explore(vandal, UNIT, 300, seed=0, n_initial=100, n_per_iteration=100, **FAST)
    assert np.all(result.points >= 0.0)
    np.testing.assert_array_equal(result.in_target, BOX(result.points))
    # one progress line per iteration: iteration, calls, efficiency, in-target so far
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert lines[0].startswith("iteration 0: 100 calls, efficiency")
    assert f"{result.n_in_target} in target" in lines[-1]


def test_regressor_refuses_infinite_scores():
    def score(x: np.ndarray) -> np.ndarray:
        return np.where(x[:, 0] > 0.95, np.inf, x[:, 0])

    with pytest.raises(ValueError, match="finite scores"):
        explore(score, UNIT, 400, seed=0, threshold=0.5, model="regressor", n_initial=200, **FAST)
