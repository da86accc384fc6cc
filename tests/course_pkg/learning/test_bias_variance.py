"""Bias–variance decomposition: closed forms and the identity bias² + variance + noise = expected error."""

import numpy as np
import pytest

from course_pkg.learning.bias_variance import bias_variance_decomposition, decomposition_of_rounds
from course_pkg.learning.trees import DecisionTree


def _f(x):
    return np.sin(2 * np.pi * np.asarray(x).ravel())


def test_constant_predictor_has_closed_form_bias_and_variance():
    # fixed design: the training inputs never change, only the noise does
    x_train = np.linspace(0, 1, 20)
    sigma2 = 0.25
    x_test = np.linspace(0.05, 0.95, 7)

    def sample_train(rng):
        return x_train, _f(x_train) + np.sqrt(sigma2) * rng.standard_normal(20)

    def fit_predict(X, y, xt):
        return np.full(len(xt), y.mean())

    res = bias_variance_decomposition(fit_predict, sample_train, x_test, _f, sigma2, n_rounds=4000, seed=0)
    # mean of y ~ N(mean f(x_train), sigma2/n): bias² = (f(x) - mean f)², variance = sigma2 / n
    np.testing.assert_allclose(res.variance_pointwise, sigma2 / 20, rtol=0.08)
    mean_f = _f(x_train).mean()
    np.testing.assert_allclose(
        res.bias2_pointwise, (_f(x_test) - mean_f) ** 2, atol=4 * np.sqrt(sigma2 / 20 / 4000)
    )
    assert res.noise == pytest.approx(sigma2)


def test_least_squares_variance_matches_sigma2_xT_XtX_inv_x():
    rng0 = np.random.default_rng(1)
    X = np.column_stack([np.ones(15), rng0.uniform(-1, 1, 15)])
    theta = np.array([0.5, -2.0])
    sigma2 = 0.5
    x_test = np.column_stack([np.ones(5), np.linspace(-1.5, 1.5, 5)])

    def truth(x):
        return x @ theta

    def sample_train(rng):
        return X, X @ theta + np.sqrt(sigma2) * rng.standard_normal(15)

    def fit_predict(Xtr, ytr, xt):
        return xt @ np.linalg.lstsq(Xtr, ytr, rcond=None)[0]

    res = bias_variance_decomposition(fit_predict, sample_train, x_test, truth, sigma2, n_rounds=3000, seed=2)
    expected = sigma2 * np.einsum("ij,jk,ik->i", x_test, np.linalg.inv(X.T @ X), x_test)
    np.testing.assert_allclose(res.variance_pointwise, expected, rtol=0.08)
    # a correctly specified unbiased estimator: bias² is only Monte-Carlo noise, tiny next to the variance
    assert np.all(res.bias2_pointwise < 0.02 * expected.max())


@pytest.mark.parametrize("max_depth", [1, 3, None])
def test_the_three_parts_sum_to_the_measured_expected_error(max_depth):
    sigma2 = 0.09
    x_test = np.linspace(0, 1, 40)[:, None]

    def sample_train(rng):
        x = rng.uniform(size=(40, 1))
        return x, _f(x) + np.sqrt(sigma2) * rng.standard_normal(40)

    def fit_predict(X, y, xt):
        return DecisionTree("regression", max_depth=max_depth).fit(X, y).predict(xt)

    res = bias_variance_decomposition(fit_predict, sample_train, x_test, _f, sigma2, n_rounds=300, seed=3)
    assert abs(res.total - res.expected_error) < 3 * res.expected_error_se
    assert res.expected_error_se < 0.05 * res.expected_error
    # exact algebra: bias² + variance is the mean squared distance of the fits from f
    np.testing.assert_allclose(
        res.bias2_pointwise + res.variance_pointwise, ((res.predictions - res.f_test) ** 2).mean(axis=0)
    )


def test_capacity_trades_bias_for_variance():
    sigma2 = 0.09
    x_test = np.linspace(0, 1, 30)[:, None]

    def sample_train(rng):
        x = rng.uniform(size=(40, 1))
        return x, _f(x) + np.sqrt(sigma2) * rng.standard_normal(40)

    parts = []
    for depth in (1, 2, 8):
        res = bias_variance_decomposition(
            lambda X, y, xt, d=depth: DecisionTree("regression", max_depth=d).fit(X, y).predict(xt),
            sample_train,
            x_test,
            _f,
            sigma2,
            n_rounds=100,
            seed=4,
        )
        parts.append((res.bias2, res.variance))
    bias2, variance = np.array(parts).T
    assert np.all(np.diff(bias2) < 0) and np.all(np.diff(variance) > 0)


def test_invalid_arguments_raise():
    def sample_train(rng):
        return np.zeros((3, 1)), np.zeros(3)

    def fit_predict(X, y, xt):
        return np.zeros(len(xt))

    xt = np.zeros((4, 1))
    with pytest.raises(ValueError, match="n_rounds"):
        bias_variance_decomposition(fit_predict, sample_train, xt, _f, 1.0, n_rounds=1)
    with pytest.raises(ValueError, match="empty"):
        bias_variance_decomposition(fit_predict, sample_train, np.zeros((0, 1)), _f, 1.0)
    with pytest.raises(ValueError, match="noise_var"):
        bias_variance_decomposition(fit_predict, sample_train, xt, _f, -1.0)
    with pytest.raises(ValueError, match="f_true"):
        bias_variance_decomposition(fit_predict, sample_train, xt, lambda x: np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="fit_predict"):
        bias_variance_decomposition(lambda X, y, t: np.zeros(2), sample_train, xt, _f, 1.0)


def test_decomposition_of_rounds_by_hand():
    """Two rounds, two test points: bias², variance (1/R) and the standard error written out by hand."""
    preds = np.array([[1.0, 2.0], [3.0, 6.0]])
    sq_err = np.array([[0.5, 1.5], [2.5, 3.5]])
    f_test = np.array([1.0, 3.0])
    r = decomposition_of_rounds(preds, sq_err, f_test, np.array([0.25, 0.25]))
    np.testing.assert_allclose(r.mean_prediction, [2.0, 4.0])
    np.testing.assert_allclose(r.bias2_pointwise, [1.0, 1.0])  # (1 - 2)², (3 - 4)²
    np.testing.assert_allclose(r.variance_pointwise, [1.0, 4.0])  # ((1-2)² + (3-2)²)/2, ((2-4)² + (6-4)²)/2
    np.testing.assert_allclose(r.expected_error_pointwise, [1.5, 2.5])
    assert (r.bias2, r.variance, r.noise, r.expected_error) == (1.0, 2.5, 0.25, 2.0)
    assert r.expected_error_se == pytest.approx(
        np.std([1.0, 3.0], ddof=1) / np.sqrt(2)
    )  # per-round means 1, 3
