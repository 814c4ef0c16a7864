"""Event-variable networks: class-0 construction, training, transform, calibration, mass fit."""

import numpy as np
import pytest
import torch

from phenoflow.analyses.eventvars.evaluate import (
    Calibration,
    correlations,
    mass_fit,
    train_topology,
)
from phenoflow.generation.toys import sample_topology
from phenoflow.ml.event_variable import EventVariable, EVNConfig, _pair_loss, train_event_variable
from phenoflow.ml.models.evn import make_aux_classifier, make_evn


def test_network_shapes():
    evn = make_evn(8, 2)
    widths = [m.out_features for m in evn if isinstance(m, torch.nn.Linear)]
    assert widths == [128, 64, 64, 64, 32, 2]
    aux = make_aux_classifier(2, 2)
    assert [m.out_features for m in aux if isinstance(m, torch.nn.Linear)] == [16, 16, 16, 1]
    assert evn(torch.zeros(5, 8)).shape == (5, 2)


def test_class_zero_decorrelates_theta():
    # the shuffled Theta of class 0 is independent of X: its correlation with a function of X vanishes,
    # while class 1 keeps the full correlation
    rng = np.random.default_rng(0)
    theta = rng.uniform(100, 500, 20000)
    x = theta + rng.normal(0, 5, theta.size)
    gen = torch.Generator().manual_seed(0)
    th = torch.as_tensor(theta[:, None], dtype=torch.float32)
    shuffled = th[torch.randperm(len(th), generator=gen)].numpy()[:, 0]
    assert np.corrcoef(x, theta)[0, 1] > 0.99
    assert abs(np.corrcoef(x, shuffled)[0, 1]) < 0.03  # ~ 1/sqrt(n)
    # and the loss uses exactly one class-1 and one class-0 copy of every event
    evn, aux = make_evn(1, 1), make_aux_classifier(1, 1)
    loss = _pair_loss(evn, aux, torch.zeros(4, 1), torch.ones(4, 1), gen)
    assert loss.ndim == 0
    assert float(loss.detach()) == pytest.approx(np.log(2), abs=0.2)


def test_short_training_rediscovers_the_invariant_mass():
    torch.set_num_threads(2)
    ev, history = train_topology(
        "two_body", 60_000, EVNConfig(epochs=4, batch_size=256, learning_rate=2e-3), 3
    )
    test = sample_topology("two_body", 20_000, np.random.default_rng(9))
    tau, rho = correlations(ev.transform(test.X), test.reference)
    assert tau > 0.8
    assert rho > 0.9
    assert history["epochs_run"] >= 1
    assert history["events_per_s"] > 0


def test_transform_save_load(tmp_path):
    rng = np.random.default_rng(1)
    X, theta = rng.normal(size=(3000, 3)), rng.uniform(size=(3000, 1))
    ev, _ = train_event_variable((X, theta), EVNConfig(epochs=1, batch_size=128, d_v=2))
    ev.sign = np.array([1.0, -1.0])
    assert ev.transform(X).shape == (3000, 2)
    ev.save(tmp_path / "m.pt")
    back = EventVariable.load(tmp_path / "m.pt")
    np.testing.assert_array_equal(back.transform(X), ev.transform(X))


def test_batches_api_equals_arrays():
    rng = np.random.default_rng(2)
    X, theta = rng.normal(size=(4000, 3)), rng.uniform(size=(4000, 1))
    cfg = EVNConfig(epochs=1, batch_size=256)
    a, _ = train_event_variable((X, theta), cfg)
    b, _ = train_event_variable(
        ((X[i : i + 1000], theta[i : i + 1000]) for i in range(0, 4000, 1000)), cfg
    )
    np.testing.assert_allclose(a.transform(X), b.transform(X), rtol=1e-5, atol=1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="NaN or inf"):
        train_event_variable((np.full((600, 2), np.nan), np.ones(600)), EVNConfig(batch_size=100))
    with pytest.raises(ValueError, match="fewer than one batch"):
        train_event_variable((np.ones((10, 2)), np.ones(10)), EVNConfig(batch_size=100))
    ev, _ = train_event_variable(
        (np.random.default_rng(0).normal(size=(500, 2)), np.ones(500)),
        EVNConfig(epochs=1, batch_size=100),
    )
    with pytest.raises(ValueError, match=r"expected \(n, 2\)"):
        ev.transform(np.ones((3, 5)))


def test_calibration_is_monotone_and_matches_quantiles():
    rng = np.random.default_rng(3)
    ref = rng.uniform(100, 500, 50_000)
    v = -3.0 + 0.01 * ref**1.5  # a monotone transform of the reference
    cal = Calibration.fit(v, ref)
    grid = np.linspace(v.min(), v.max(), 1000)
    assert np.all(np.diff(cal(grid)) >= 0)
    np.testing.assert_allclose(cal(v[:1000]), ref[:1000], atol=2.0)


def test_mass_fit_recovers_the_mass():
    # with the exact invariant mass as observable, the two_body fit is unbiased and sharp
    from phenoflow.physics.variables import invariant_mass

    res = mass_fit(
        lambda X: invariant_mass(X[:, 0:4], X[:, 4:8]),
        "two_body",
        300.0,
        0.0,
        grid=np.arange(280.0, 321.0, 5.0),
        n_events=200,
        n_pseudo=20,
        n_template=5000,
        bins=20,
        rng=np.random.default_rng(4),
    )
    assert abs(res["bias"]) < 2.0
    assert res["resolution"] < 3.0
    assert len(res["fitted"]) == 20


def test_two_component_variable_is_evaluated():
    from phenoflow.analyses.eventvars.evaluate import evaluate_topology
    from phenoflow.analyses.eventvars.metrics import eventvars_metrics

    ev, history = train_topology(
        "one_invisible", 20_000, EVNConfig(d_v=2, epochs=1, batch_size=256), 5
    )
    fit = {
        "true_m_A": 300.0,
        "m_C": 100.0,
        "grid": [280.0, 290.0, 300.0, 310.0, 320.0],
        "n_events": 100,
        "n_pseudo": 3,
        "n_template": 2000,
        "bins": 10,
        "info_events": 4000,
        "grid_2d": {"m_A": [284.0, 300.0, 316.0], "d_mu": [-2.0, 0.0, 2.0]},
    }
    result, arrays = evaluate_topology(ev, "one_invisible", 3000, 5, fit)
    assert len(result["components"]) == 2
    assert set(result["components"][0]) >= {"m_T", "E_b", "pT_b", "MET"}
    assert arrays["v"].shape == (3000,)
    metrics = eventvars_metrics([result], [history])["metrics"]
    assert {"component0_one_invisible", "component1_one_invisible"} <= set(metrics)
    assert {
        "mass_resolution_2d_one_invisible_V",
        "mass_resolution_2d_one_invisible_m_T",
        "calibrated_residual_one_invisible",
    } <= set(metrics)


def test_mass_fit_2d_mt_measures_mu_not_m_A():
    # m_T (test mass 0) depends on mu = (m_A^2 - m_C^2)/m_A alone: with m_C unknown,
    # the fit pins mu down but m_A wanders along the constant-mu curve
    from phenoflow.analyses.eventvars.evaluate import mass_fit_2d, mu_of, simulate_reference

    grid = [270.0 + 7 * i for i in range(11)]
    res = mass_fit_2d(
        lambda X: simulate_reference("one_invisible", X),
        "one_invisible",
        300.0,
        100.0,
        grid=grid,
        d_mu=[-4.0, -2.0, 0.0, 2.0, 4.0],
        n_events=300,
        n_pseudo=30,
        n_template=5000,
        bins=20,
        rng=np.random.default_rng(7),
    )
    assert res["true_mu"] == pytest.approx(mu_of(300.0, 100.0))
    assert res["mu"]["resolution"] < 0.5
    assert abs(res["mu"]["bias"]) < 0.5
    assert res["resolution"] > 10.0  # m_A: spread along the degenerate curve
    fitted = np.array(res["fitted"])
    assert fitted.min() >= grid[0]
    assert fitted.max() <= grid[-1]
    # every fitted (m_A, m_C) lies on the true constant-mu curve
    mu_fit = mu_of(fitted, np.array(res["fitted_m_C"]))
    np.testing.assert_allclose(mu_fit, res["true_mu"], atol=2.5)


def test_mass_fit_2d_bad_input():
    from phenoflow.analyses.eventvars.evaluate import mass_fit_2d

    kw = dict(n_events=10, n_pseudo=2, n_template=100, bins=3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="two_body has no m_C"):
        mass_fit_2d(lambda X: X[:, 0], "two_body", 300.0, 0.0, [290.0, 300.0], [0.0], **kw)
    with pytest.raises(ValueError, match="d_mu must contain 0"):
        mass_fit_2d(lambda X: X[:, 0], "one_invisible", 300.0, 100.0, [290.0], [1.0], **kw)
