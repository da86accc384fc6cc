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


def test_one_key_names_the_bars_and_the_curves_with_the_frames_values():
    e = bv.capacity_noise_n()
    out = e.compute(degree=9, sigma=0.6, n=15)
    fig = e.figure(degree=9, sigma=0.6, n=15)
    bars, curves = fig.axes[1], fig.axes[2]
    assert curves.get_legend() is None and bars.get_legend() is not None
    texts = [t.get_text() for t in bars.get_legend().get_texts()]
    assert [t.split()[0] for t in texts] == ["error", "bias²", "variance", "noise"]
    # the values, rounded to at most 5 digits, within rounding of the decomposition
    shown = [float(t.split()[-1]) for t in texts]
    expected = [out["measured"], *out["parts"]]
    np.testing.assert_allclose(shown, expected, rtol=1e-3, atol=5e-4)
    assert max(len(t.split()[-1].replace(".", "")) for t in texts) <= 5


def test_frames_do_not_depend_on_the_last_bits_of_the_axes_positions():
    """Constrained layout places the axes with run-to-run noise in the last bits; the same frame must come out the
    same (straight degree-1 fits drawn as 101 collinear points did not)."""
    from course_pkg.explore.frames import FrameRenderer, default_positions

    e = bv.capacity_noise_n()
    positions = default_positions(e, 80)
    bumped = [tuple(np.nextafter(np.nextafter(v, 2.0), 2.0) for v in p[:4]) + tuple(p[4:]) for p in positions]
    a, b = FrameRenderer(e, 80, positions), FrameRenderer(e, 80, bumped)
    for params in ({"degree": 1, "sigma": 0.1, "n": 15}, {"degree": 1, "sigma": 0.3, "n": 60}, {"degree": 5}):
        np.testing.assert_array_equal(a.rgb(params), b.rgb(params))
