"""The averaging chapter's explorable: the exact second-moment recursion against Monte Carlo and against
AveragedModel-style averages of sampled runs, and its limits against the closed-form floors."""

from __future__ import annotations

import numpy as np
import pytest

from course_pkg import averaging as avg
from course_pkg.experiments import averaging as averaging_experiments
from course_pkg.explore.chapters import averaging as E

H = averaging_experiments.curvatures(4, 10.0)


def test_exact_moments_match_monte_carlo() -> None:
    # Independent of the recursion: many sampled runs, averaged by the numpy paths (checked against torch's
    # AveragedModel in test_averaging.py), and their mean loss.
    eta, sigma, steps, decay, runs = 0.5, 0.8, 40, 0.8, 4000
    exact = averaging_experiments.averaged_expected_losses(eta, H, np.full(4, 1.5), sigma, steps, decay)
    losses = {k: np.empty((runs, steps)) for k in exact}
    for s in range(runs):
        traj = averaging_experiments.sample_run(eta, H, 1.5, sigma, steps, seed=s)
        for key, path in [
            ("last", traj),
            ("polyak", avg.polyak_path(traj)),
            ("ema", avg.ema_path(traj, decay)),
        ]:
            losses[key][s] = 0.5 * (path**2) @ H
    for key in exact:
        mean, se = losses[key].mean(0), losses[key].std(0) / np.sqrt(runs)
        assert np.all(np.abs(mean - exact[key]) < 5 * se), key


def test_limits_are_the_closed_form_floors() -> None:
    eta, sigma, decay, steps = 0.4, 1.0, 0.9, 4000
    out = averaging_experiments.averaged_expected_losses(eta, H, np.full(4, 2.0), sigma, steps, decay)
    assert out["last"][-1] == pytest.approx(averaging_experiments.last_iterate_floor(eta, H, sigma), rel=1e-9)
    assert out["ema"][-1] == pytest.approx(averaging_experiments.ema_floor(eta, H, sigma, decay), rel=1e-9)
    # the floor of a constant step is about η d σ² / 4 for small η h
    assert averaging_experiments.last_iterate_floor(1e-4, H, sigma) == pytest.approx(
        1e-4 * 4 * sigma**2 / 4, rel=1e-3
    )
    # Polyak–Ruppert: E L(θ̄_t) · t → σ² tr(H⁻¹) / 2, whatever η. Relative corrections: the start (bias),
    # ‖θ₀‖²-ish / (η² σ² t), and the correlation of neighbouring iterates, about 1 / (η h_min t).
    for eta in (0.1, 0.4, 1.5):
        out = averaging_experiments.averaged_expected_losses(eta, H, np.full(4, 2.0), sigma, steps, decay)
        limit = averaging_experiments.polyak_asymptote(H, sigma, np.arange(1, steps + 1))
        gap = np.abs(out["polyak"] / limit - 1)
        assert (
            gap[-1] < (2.0**2 / (eta * sigma) ** 2 + 2 / (eta * H.min())) / steps
            and gap[-1] < gap[steps // 4 - 1] / 3
        )


def test_first_step_and_degenerate_decays() -> None:
    out0 = averaging_experiments.averaged_expected_losses(0.3, H, np.ones(4), 0.5, 30, 0.0)
    np.testing.assert_allclose(out0["ema"], out0["last"], rtol=1e-12)  # β = 0: the EMA is the iterate
    assert out0["polyak"][0] == out0["last"][0] == pytest.approx(0.5 * H @ ((1 - 0.3 * H) ** 2 + 0.09 * 0.25))
    out1 = averaging_experiments.averaged_expected_losses(0.3, H, np.ones(4), 0.5, 30, 1.0)
    assert np.all(out1["ema"] == out1["ema"][0])  # β = 1: the EMA keeps the first iterate


def test_explorable_computes_and_bad_input_raises() -> None:
    r = E._compute(0.4, 0.99)
    assert r["polyak"][-1] < r["ema"][-1] < r["last"][-1]
    assert r["run"].shape == (averaging_experiments.HORIZON, 2)
    with pytest.raises(ValueError, match="must be in"):
        averaging_experiments.averaged_expected_losses(2.5, H, np.ones(4), 1.0, 10, 0.9)
    with pytest.raises(ValueError, match="Invalid decay"):
        averaging_experiments.ema_floor(0.1, H, 1.0, 1.2)
    with pytest.raises(ValueError, match="need dim"):
        averaging_experiments.curvatures(0)


@pytest.mark.parametrize("decay", [0.0, 0.8, 0.999, 1.0])
def test_moments_are_the_three_by_three_recursion(decay: float) -> None:
    """The vectorised recursions against the docstring's S_t = A_t S_{t-1} A_tᵀ + η²σ² b_t b_tᵀ, step by step."""
    eta, sigma, steps = 0.7, 0.6, 60
    theta0 = np.array([1.5, -2.0, 0.5, 1.0])
    S = np.stack([theta0] * 3, axis=1)[:, :, None] * np.stack([theta0] * 3, axis=1)[:, None, :]
    r = 1 - eta * H
    expected = {k: np.empty(steps) for k in ("last", "polyak", "ema")}
    for t in range(1, steps + 1):
        c, e = (t - 1) / t, (0.0 if t == 1 else decay)
        A = np.zeros((4, 3, 3))
        A[:, 0, 0], A[:, 1, 0], A[:, 1, 1], A[:, 2, 0], A[:, 2, 2] = r, (1 - c) * r, c, (1 - e) * r, e
        b = np.array([1.0, 1 - c, 1 - e])
        S = A @ S @ A.transpose(0, 2, 1) + (eta * sigma) ** 2 * np.outer(b, b)
        for k, key in enumerate(expected):
            expected[key][t - 1] = 0.5 * H @ S[:, k, k]
    out = averaging_experiments.averaged_expected_losses(eta, H, theta0, sigma, steps, decay)
    for key in expected:
        np.testing.assert_allclose(out[key], expected[key], rtol=1e-12, err_msg=key)


def test_sample_run_is_the_sgd_recursion() -> None:
    eta, sigma, steps, seed = 0.4, 0.7, 300, 3
    rng = np.random.default_rng(seed)
    theta, expected = np.full(4, 2.0), []
    for _ in range(steps):
        theta = theta - eta * (H * theta + sigma * rng.standard_normal(4))
        expected.append(theta)
    np.testing.assert_allclose(
        averaging_experiments.sample_run(eta, H, 2.0, sigma, steps, seed), expected, rtol=1e-12, atol=1e-14
    )
