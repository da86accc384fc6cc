"""Tests of the "Choosing an optimizer" experiments: the race runner, tuning, Wilson et al.'s problem."""

import numpy as np
import pytest

from course_pkg.explore.chapters import choosing as ch


def test_sgd_run_matches_plain_gradient_descent_in_numpy():
    landscape, start = ch.PROBLEMS["saddle"]
    traj, gaps = ch.run_landscape("saddle", "SGD", -2, steps=60)
    theta = np.array(start, dtype=np.float64)
    for t in range(1, 61):
        x, y = theta
        theta = theta - 0.1 * np.array([x, y**3 - y])
        np.testing.assert_allclose(traj[t], theta, rtol=1e-12, atol=1e-15)
    assert gaps[-1] == pytest.approx(0.5 * theta[0] ** 2 + 0.25 * theta[1] ** 4 - 0.5 * theta[1] ** 2 + 0.25)


def test_divergent_run_is_cut_and_tuning_skips_it():
    traj, gaps = ch.run_landscape("rosenbrock", "SGD", 2, steps=50)  # η = 10 on Rosenbrock diverges
    assert np.isnan(traj[-1]).all() and np.isnan(gaps[-1])
    k, finals = ch.tune_landscape("saddle", "SGD")
    scores = np.where(np.isfinite(finals), finals, np.inf)
    assert scores[ch.LR_EXPONENTS.index(k)] == scores.min()
    assert k == ch.TUNED_EXPONENTS["saddle"]["SGD"]


def test_wilson_data_structure():
    X, y = ch.wilson_data(40, p=0.6, seed=3)
    assert X.shape == (40, 203)
    np.testing.assert_array_equal(X[:, 0], y)
    np.testing.assert_array_equal(X[:, 1:3], 1.0)
    private = X[:, 3:]
    assert private.sum(axis=0).max() == 1  # no private feature is shared
    np.testing.assert_array_equal(private.sum(axis=1), np.where(y > 0, 1, 5))


def test_gradient_descent_finds_the_minimum_norm_interpolant_and_adam_does_not():
    X, y = ch.wilson_data(20, seed=0)
    theta_gd, losses = ch.train_least_squares(X, y, "SGD", 10**-0.5, steps=600)
    min_norm = np.linalg.pinv(X) @ y
    np.testing.assert_allclose(theta_gd, min_norm, atol=1e-8)
    assert losses[-1] < 1e-12
    theta_adam, losses_adam = ch.train_least_squares(X, y, "Adam", 10**-1.5, steps=600)
    assert losses_adam[-1] < 1e-8
    assert np.linalg.norm(theta_adam) > np.linalg.norm(min_norm)
    # a new negative point x = (-1, 1, 1, 0, ...) is classified correctly by GD and called positive by Adam
    assert -theta_gd[0] + theta_gd[1] + theta_gd[2] < 0
    assert -theta_adam[0] + theta_adam[1] + theta_adam[2] > 0


def test_digits_runs_are_deterministic_and_learn():
    a = ch.train_digits_mlp("Adam", 10**-1.5, epochs=2)
    b = ch.train_digits_mlp("Adam", 10**-1.5, epochs=2)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    assert a.train_loss[1] < a.train_loss[0] and a.val_accuracy[-1] > 0.8


def test_race_frame_and_bad_names():
    e = ch.optimizer_race()
    assert e.n_frames == 9
    out = e.compute(problem="saddle", lr_multiplier=1.0)
    for name, k in ch.TUNED_EXPONENTS["saddle"].items():
        assert out["lr"][name] == pytest.approx(10 ** (k / 2))
    with pytest.raises(ValueError, match="unknown optimizer"):
        ch.make_optimizer("Lion", [], 0.1)
    with pytest.raises(ValueError, match="unknown problem"):
        ch.run_landscape("himmelblau", "SGD", 0)
    with pytest.raises(ValueError, match="p must"):
        ch.wilson_data(5, p=1.5)
