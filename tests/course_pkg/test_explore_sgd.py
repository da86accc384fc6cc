"""Tests of the SGD chapter's explorables: sampling theory of the minibatch gradient, the sharp/flat toy."""

import numpy as np
import pytest

from course_pkg.experiments import sgd as sgd_experiments
from course_pkg.explore.chapters import sgd


def test_regression_minimiser_matches_lstsq():
    X, y = sgd_experiments.regression_problem()
    res = sgd._compute_noise(batch_size=8, lr=0.05)
    ref = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(res["theta_star"], ref, rtol=1e-10)


def test_cloud_is_unbiased_with_covariance_sigma2_over_b(monkeypatch):
    monkeypatch.setattr(sgd, "N_CLOUD", 4000)
    X, y = sgd_experiments.regression_problem()
    n = X.shape[0]
    per_example = (X @ sgd.THETA0 - y)[:, None] * X
    for b in (1, 16, 128):
        res = sgd._compute_noise(batch_size=b, lr=0.05)
        cloud = res["cloud"]
        np.testing.assert_allclose(res["full_gradient"], per_example.mean(axis=0), rtol=1e-12)
        # sampling without replacement: Var(mean) = σ²/B (n − B)/(n − 1), here from brute-force sample variances
        sigma2 = per_example.var(axis=0)
        expected_var = sigma2 / b * (n - b) / (n - 1)
        se = np.sqrt(expected_var / len(cloud))
        assert np.all(np.abs(cloud.mean(axis=0) - per_example.mean(axis=0)) < 5 * se)
        np.testing.assert_allclose(cloud.var(axis=0), expected_var, rtol=0.15)
        np.testing.assert_allclose(np.diag(res["predicted_cov"]), expected_var, rtol=1e-12)


def test_full_batch_has_no_noise_and_sgd_equals_gd():
    res = sgd._compute_noise(batch_size=sgd_experiments.N_POINTS, lr=0.1)
    np.testing.assert_allclose(
        res["cloud"], np.broadcast_to(res["full_gradient"], res["cloud"].shape), atol=1e-12
    )
    np.testing.assert_allclose(res["trajectory"], res["gd_trajectory"], atol=1e-12)


def test_gd_trajectory_converges_to_minimiser():
    res = sgd._compute_noise(batch_size=4, lr=0.5)
    gd = res["gd_trajectory"]
    err = np.linalg.norm(gd - res["theta_star"], axis=1)
    assert err[-1] < 1e-2 * err[0]


def test_sharp_flat_gradient_matches_finite_differences():
    th = np.linspace(-2.4, 3.9, 301)
    th = th[
        np.abs(th - np.array(sgd_experiments.sharp_basin())[:, None]).min(axis=0) > 1e-3
    ]  # avoid the kinks
    h = 1e-6
    fd = (sgd_experiments.sharp_flat_loss(th + h) - sgd_experiments.sharp_flat_loss(th - h)) / (2 * h)
    np.testing.assert_allclose(sgd_experiments.sharp_flat_grad(th), fd, rtol=1e-6, atol=1e-6)


def test_sharp_basin_edges_are_where_the_wells_cross():
    lo, hi = sgd_experiments.sharp_basin()
    for edge in (lo, hi):
        s = 0.5 * sgd_experiments.SHARP_CURVATURE * (edge - sgd_experiments.SHARP_CENTRE) ** 2
        f = 0.5 * sgd_experiments.FLAT_CURVATURE * (edge - sgd_experiments.FLAT_CENTRE) ** 2
        assert s == pytest.approx(f, rel=1e-12)
    assert lo < sgd_experiments.SHARP_CENTRE < hi < sgd_experiments.FLAT_CENTRE


def test_large_batches_keep_the_sharp_minimum_small_batches_leave_it():
    lo, hi = sgd_experiments.sharp_basin()
    start = np.linspace(lo, 3.5, sgd.N_PARTICLES)
    initial_flat = np.mean(start > hi)
    quiet = sgd._compute_sharp_flat(batch_size=128, lr=0.005)
    assert quiet["fraction_flat"][-1] == pytest.approx(initial_flat, abs=0.02)
    noisy = sgd._compute_sharp_flat(batch_size=1, lr=0.015)
    assert noisy["fraction_flat"][-1] > 0.98


def test_step_beyond_two_over_sharp_curvature_leaves_the_sharp_minimum():
    lr = (
        2.5 / sgd_experiments.SHARP_CURVATURE
    )  # unstable in the sharp well (needs η < 2/k), stable in the flat one
    res = sgd._compute_sharp_flat(batch_size=128, lr=lr)
    assert res["fraction_flat"][-1] == 1.0


@pytest.mark.parametrize("factory", sgd.EXPLORABLES)
def test_explorables_fit_the_budget_and_draw(factory):
    ex = factory()
    assert ex.n_frames <= 120
    fig = ex.figure()
    assert len(fig.axes) >= 2
