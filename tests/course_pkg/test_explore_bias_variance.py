"""Tests of the bias-variance chapter's explorable: polynomial fits and closed-form decompositions."""

import numpy as np
import pytest

from course_pkg.experiments import bias_variance as bias_variance_experiments
from course_pkg.explore.chapters import bias_variance as bv


def test_polynomial_fit_matches_numpy_polyfit():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=25)
    y = np.sin(2 * np.pi * x) + 0.1 * rng.standard_normal(25)
    xt = np.linspace(0, 1, 11)
    for degree in (0, 1, 3, 5):
        ref = np.polyval(np.polyfit(x, y, degree), xt)
        np.testing.assert_allclose(
            bias_variance_experiments.polynomial_fit_predict(degree, x, y, xt), ref, atol=1e-8
        )


def test_constant_model_on_random_design_has_closed_form_parts():
    # degree 0 predicts the training mean: E[ȳ] = E[f(X)] = 0 for sin(2πX), X ~ U[0, 1],
    # so bias²(x) = f(x)² and variance = (Var f(X) + σ²)/n = (1/2 + σ²)/n
    sigma, n = 0.3, 30
    res = bias_variance_experiments.decompose_polynomial(0, sigma, n, n_rounds=3000, seed=1)
    f = bias_variance_experiments.true_function(bias_variance_experiments.X_TEST)
    assert res.variance == pytest.approx((0.5 + sigma**2) / n, rel=0.08)
    np.testing.assert_allclose(res.bias2, np.mean(f**2), atol=0.01)
    assert abs(res.total - res.expected_error) < 4 * res.expected_error_se


def test_compute_returns_the_sweep_and_draws():
    e = bv.capacity_noise_n()
    out = e.compute(degree=3, sigma=0.3, n=30)
    i = list(bias_variance_experiments.DEGREES).index(3)
    assert out["parts"][0] == pytest.approx(out["bias2_curve"][i])
    assert out["parts"][1] == pytest.approx(out["variance_curve"][i])
    assert out["parts"][2] == pytest.approx(0.09)
    # capacity trade-off: degree 0 has more bias and less variance than degree 9
    assert out["bias2_curve"][0] > out["bias2_curve"][-1]
    assert out["variance_curve"][0] < out["variance_curve"][-1]
    fig = e.figure(degree=9, sigma=0.6, n=15)
    assert len(fig.axes) == 3
    assert e.n_frames <= 120


def test_negative_degree_raises():
    with pytest.raises(ValueError, match="degree"):
        bias_variance_experiments.polynomial_fit_predict(-1, np.zeros(3), np.zeros(3), np.zeros(2))


def test_batched_sweep_matches_decompose_polynomial():
    """The explorable's batched sweep equals the chapter's decomposition, degree by degree, field by field."""
    import dataclasses

    for sigma, n in [(0.1, 60), (0.6, 15)]:
        sweep = bias_variance_experiments.decompositions_by_degree(sigma, n)
        for degree in bias_variance_experiments.DEGREES:
            ref = bias_variance_experiments.decompose_polynomial(degree, sigma, n)
            for field in dataclasses.fields(ref):
                np.testing.assert_allclose(
                    getattr(sweep[degree], field.name), getattr(ref, field.name), rtol=1e-8, atol=1e-10
                )


def test_trade_off_legend_goes_where_no_curve_runs():
    x = np.linspace(0.0, 1.0, 9)
    # a curve along the top edge and one down the left edge: only the lower right is free
    top = (x, np.full_like(x, 0.95))
    left = (np.full_like(x, 0.05), x)
    assert bv._legend_loc([top, left]) == "lower right"
    # a curve falling from the upper left to the lower right leaves the other two corners; the first listed wins
    falling = (x, 1.0 - x)
    assert bv._legend_loc([falling]) in ("upper right", "lower left")
    # every candidate box must be inside the axes
    assert all(0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1 for _, (x0, y0, x1, y1) in bv._LEGEND_BOXES)
