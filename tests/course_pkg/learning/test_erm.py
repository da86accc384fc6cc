"""course_pkg.learning.erm against numpy/scikit-learn references and closed forms."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.preprocessing import PolynomialFeatures

from course_pkg.data import make_regression_1d
from course_pkg.learning import erm


def test_polynomial_features_match_sklearn_and_legendre_spans_the_same_space():
    x = np.random.default_rng(0).uniform(-1, 1, 30)
    np.testing.assert_allclose(erm.polynomial_features(x, 4), PolynomialFeatures(4).fit_transform(x[:, None]))
    L = erm.polynomial_features(x, 4, basis="legendre")
    # P_2(x) = (3x^2 - 1)/2
    np.testing.assert_allclose(L[:, 2], (3 * x**2 - 1) / 2)
    with pytest.raises(ValueError, match="basis"):
        erm.polynomial_features(x, 2, basis="chebyshev")
    with pytest.raises(ValueError, match="degree"):
        erm.polynomial_features(x, -1)


@pytest.mark.parametrize("degree", [0, 1, 3, 7])
def test_fit_polynomial_is_least_squares(degree):
    x, y = make_regression_1d(40, seed=degree)
    theta = erm.fit_polynomial(x, y, degree)
    Phi = PolynomialFeatures(degree).fit_transform(x[:, None])
    ref = LinearRegression(fit_intercept=False).fit(Phi, y).coef_
    np.testing.assert_allclose(theta, ref, rtol=1e-7, atol=1e-9)
    # Legendre basis: same fitted values
    th_leg = erm.fit_polynomial(x, y, degree, basis="legendre")
    np.testing.assert_allclose(
        erm.predict_polynomial(th_leg, x, "legendre"), erm.predict_polynomial(theta, x), atol=1e-9
    )


def test_fit_polynomial_ridge_matches_sklearn():
    x, y = make_regression_1d(30, seed=1)
    lam = 0.05
    theta = erm.fit_polynomial(x, y, 5, ridge=lam)
    # sklearn minimizes ||y - Phi w||^2 + alpha ||w||^2, i.e. n * ours with alpha = n * lam
    Phi = PolynomialFeatures(5).fit_transform(x[:, None])
    ref = Ridge(alpha=len(x) * lam, fit_intercept=False, solver="cholesky").fit(Phi, y).coef_
    np.testing.assert_allclose(theta, ref, rtol=1e-8, atol=1e-10)


def test_fit_polynomial_rejects_bad_input():
    with pytest.raises(ValueError, match="mismatched lengths"):
        erm.fit_polynomial(np.zeros(5), np.zeros(4), 2)
    with pytest.raises(ValueError, match="empty"):
        erm.fit_polynomial(np.zeros(0), np.zeros(0), 2)
    with pytest.raises(ValueError, match="ridge"):
        erm.fit_polynomial(np.zeros(3), np.zeros(3), 1, ridge=-1)


def test_empirical_risk_and_mse():
    rng = np.random.default_rng(0)
    p, t = rng.normal(size=20), rng.normal(size=20)
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    assert erm.mean_squared_error(p, t) == pytest.approx(mean_squared_error(t, p), rel=1e-12)
    assert erm.empirical_risk(lambda a, b: np.abs(a - b), p, t) == pytest.approx(
        mean_absolute_error(t, p), rel=1e-12
    )
    with pytest.raises(ValueError, match="mismatched"):
        erm.mean_squared_error(p, t[:3])


def test_risk_curves_training_error_decreases_and_test_error_is_u_shaped():
    x, y = make_regression_1d(25, noise=0.3, seed=0)
    xt, yt = make_regression_1d(5000, noise=0.3, seed=1)
    curves = erm.polynomial_risk_curves(x, y, xt, yt, range(13))
    # nested models: the training error cannot increase with the degree
    assert np.all(np.diff(curves.train) <= 1e-10)
    # underfit at degree 0 and overfit at degree 12 both worse than the best middle degree
    best = int(np.argmin(curves.test))
    assert 0 < best < 12
    assert curves.test[0] > curves.test[best] and curves.test[12] > 2 * curves.test[best]
    # the test error never goes below the noise variance 0.09 (within sampling error of 5000 points)
    assert curves.test.min() > 0.09 * 0.9
    np.testing.assert_allclose(curves.gap, curves.test - curves.train)


def test_standard_error_and_minibatch_se_closed_forms():
    rng = np.random.default_rng(0)
    losses = rng.exponential(size=200)
    assert erm.standard_error(losses) == pytest.approx(losses.std(ddof=1) / np.sqrt(200))
    for B in (1, 10, 100, 190):
        for replace in (False, True):
            means = erm.minibatch_means(losses, B, n_batches=20000, replace=replace, seed=B)
            se = erm.minibatch_standard_error(losses, B, replace=replace)
            # the std of 20000 draws is within ~1% (se of a std ~ 1/sqrt(2 * 20000) = 0.5%) of the formula
            assert means.std() == pytest.approx(se, rel=0.03)
            assert means.mean() == pytest.approx(losses.mean(), abs=5 * se / np.sqrt(20000))
    assert erm.minibatch_standard_error(losses, 200) == 0.0
    with pytest.raises(ValueError, match="exceeds the dataset size"):
        erm.minibatch_standard_error(losses, 201)
    with pytest.raises(ValueError, match="at least 2"):
        erm.standard_error(np.ones(1))


def test_gradient_descent_converges_to_least_squares_and_records_curves():
    x, y = make_regression_1d(50, seed=3)
    xv, yv = make_regression_1d(30, seed=4)
    Phi = erm.polynomial_features(x, 3, "legendre")
    Phv = erm.polynomial_features(xv, 3, "legendre")
    L = 2 * np.linalg.eigvalsh(Phi.T @ Phi / 50).max()
    out = erm.gradient_descent_least_squares(Phi, y, lr=1 / L, n_steps=5000, Phi_val=Phv, y_val=yv)
    ref = np.linalg.lstsq(Phi, y, rcond=None)[0]
    np.testing.assert_allclose(out["theta"], ref, rtol=1e-8, atol=1e-10)
    assert out["train"].shape == out["val"].shape == (5001,)
    # with lr <= 1/L the training risk decreases monotonically
    assert np.all(np.diff(out["train"]) <= 1e-15)
    np.testing.assert_allclose(out["val"][-1], np.mean((Phv @ ref - yv) ** 2), rtol=1e-8)
    # one step by hand
    g = 2 / 50 * Phi.T @ (Phi @ np.zeros(4) - y)
    np.testing.assert_allclose(out["thetas"][1], -g / L)
    with pytest.raises(ValueError, match="both"):
        erm.gradient_descent_least_squares(Phi, y, 0.1, 3, Phi_val=Phv)


def test_early_stopping():
    val = np.array([5.0, 4.0, 3.0, 3.5, 2.9, 3.0, 3.1, 3.2, 1.0])
    res = erm.early_stopping(val, patience=3)
    assert (res.best_step, res.stop_step, res.best_value) == (4, 7, 2.9)
    res = erm.early_stopping(val, patience=4)
    assert (res.best_step, res.stop_step, res.best_value) == (8, 8, 1.0)
    res = erm.early_stopping(val, patience=1, min_delta=0.5)
    assert (res.best_step, res.stop_step) == (2, 3)
    with pytest.raises(ValueError, match="patience"):
        erm.early_stopping(val, patience=0)
