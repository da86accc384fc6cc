"""Tests of course_pkg.data: shapes, determinism, distributions and the properties promised in docstrings."""

import numpy as np
import pytest

from course_pkg import data


def test_regression_1d_is_seeded_and_has_the_stated_noise():
    x1, y1 = data.make_regression_1d(5000, noise=0.4, seed=3)
    x2, y2 = data.make_regression_1d(5000, noise=0.4, seed=3)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert x1.dtype == np.float64 and x1.shape == y1.shape == (5000,)
    assert x1.min() >= -1 and x1.max() <= 1
    resid = y1 - (np.sin(np.pi * x1) + 0.5 * x1)
    # residual std 0.4 within ~5 standard errors (se of a std of 5000 normals ~ 0.4/sqrt(10000) = 0.004)
    assert abs(resid.std() - 0.4) < 0.02
    assert abs(resid.mean()) < 0.03


def test_regression_1d_custom_function_and_zero_noise():
    x, y = data.make_regression_1d(50, noise=0.0, f=np.cos, seed=0, x_range=(2.0, 3.0))
    np.testing.assert_allclose(y, np.cos(x))
    assert x.min() >= 2 and x.max() <= 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 0}, "n must be at least 1"),
        ({"n": 5, "noise": -1.0}, "noise"),
        ({"n": 5, "x_range": (1.0, 0.0)}, "x_range"),
        ({"n": 5, "f": lambda x: x[:2]}, "same shape"),
    ],
)
def test_regression_1d_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.make_regression_1d(**kwargs)


@pytest.mark.parametrize("maker", [data.make_blobs_2d])
def test_classification_sets_balanced_pm1_without_ties(maker):
    X, y = maker(301, seed=1)
    assert X.shape == (301, 2) and y.shape == (301,)
    assert set(np.unique(y)) == {-1.0, 1.0}
    assert (y == 1).sum() == 151 and (y == -1).sum() == 150
    for j in range(2):
        assert np.unique(X[:, j]).size == 301
    X2, y2 = maker(301, seed=1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_blobs_centers():
    X, y = data.make_blobs_2d(20000, separation=3.0, spread=0.5, seed=0)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [1.5, 1.5], atol=0.02)
    np.testing.assert_allclose(X[y == -1].mean(axis=0), [-1.5, -1.5], atol=0.02)
    np.testing.assert_allclose(X[y == 1].std(axis=0), [0.5, 0.5], atol=0.02)


def test_sparse_logistic_stream():
    X, y, theta = data.make_sparse_logistic_stream(20000, d=50, density=0.1, n_relevant=5, seed=0)
    assert X.shape == (20000, 50) and y.shape == (20000,) and theta.shape == (50,)
    assert np.count_nonzero(theta) == 5 and set(np.abs(theta[theta != 0])) == {2.0}
    assert abs(np.mean(X != 0) - 0.1) < 0.005
    # Labels follow the logistic model: the mean of (y+1)/2 given the score matches sigmoid(score) on average.
    p = 1 / (1 + np.exp(-(X @ theta)))
    assert abs(np.mean((y + 1) / 2) - p.mean()) < 0.01
    # A logistic regression (sklearn) recovers the support: the largest fitted weights are the relevant ones.
    from sklearn.linear_model import LogisticRegression

    w = LogisticRegression(C=10.0, max_iter=2000).fit(X, y).coef_[0]
    assert set(np.argsort(-np.abs(w))[:5]) == set(np.flatnonzero(theta))


def test_sparse_logistic_stream_rejects_bad_density():
    with pytest.raises(ValueError, match="density"):
        data.make_sparse_logistic_stream(10, density=0.0)
    with pytest.raises(ValueError, match="n_relevant"):
        data.make_sparse_logistic_stream(10, d=3, n_relevant=4)


def test_standardize_matches_sklearn():
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    A = rng.normal(3.0, 2.0, size=(40, 4))
    A[:, 2] = 7.0  # constant column
    B = rng.normal(size=(10, 4))
    sc = StandardScaler().fit(A)
    As, Bs = data.standardize(A, B)
    np.testing.assert_allclose(As, sc.transform(A), atol=1e-12)
    np.testing.assert_allclose(Bs, sc.transform(B), atol=1e-12)
    with pytest.raises(ValueError, match="columns"):
        data.standardize(A, B[:, :3])


def test_digits_loader():
    X, y = data.load_digits_standardized()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    used = X.std(axis=0) > 0
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0)[used], 1, atol=1e-12)
    Xb, yb = data.load_digits_standardized(classes=(3, 8))
    from sklearn.datasets import load_digits

    target = load_digits().target
    assert Xb.shape[0] == np.isin(target, (3, 8)).sum()
    assert (yb == 1).sum() == (target == 8).sum() and set(np.unique(yb)) == {-1.0, 1.0}
    with pytest.raises(ValueError, match="distinct digits"):
        data.load_digits_standardized(classes=(3, 3))


def test_label_conversions_round_trip():
    y = np.array([-1.0, 1.0, 1.0, -1.0])
    np.testing.assert_array_equal(data.to_01(y), [0, 1, 1, 0])
    np.testing.assert_array_equal(data.to_pm1(data.to_01(y)), y)
    with pytest.raises(ValueError, match="labels"):
        data.to_01(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="labels"):
        data.to_pm1(np.array([-1.0, 1.0]))


def test_two_moons_flips_the_stated_fraction_and_leaves_the_points():
    X, y = data.two_moons(n=2000, flip=0.1, seed=0)
    X_clean, y_clean = data.two_moons(n=2000, flip=0.0, seed=0)
    assert X.shape == (2000, 2) and X.dtype == np.float64 and y.shape == (2000,)
    np.testing.assert_array_equal(X, X_clean)  # the flips are drawn after the points
    np.testing.assert_array_equal(y_clean, np.repeat([0, 1], 1000))  # n // 2 of class 0 first, no shuffle
    # 2000 Bernoulli(0.1) flips: standard deviation of the fraction sqrt(0.09 / 2000) ~ 0.0067
    assert np.mean(y != y_clean) == pytest.approx(0.1, abs=0.02)
    X_odd, y_odd = data.two_moons(n=7, seed=1)
    np.testing.assert_array_equal(y_odd, [0, 0, 0, 1, 1, 1, 1])
    X_again, _ = data.two_moons(n=2000, flip=0.1, seed=0)
    np.testing.assert_array_equal(X, X_again)


def test_two_moons_has_the_distribution_of_sklearns_make_moons():
    """Same geometry and jitter as make_moons(noise=0.2): per-class means and covariances agree."""
    from sklearn.datasets import make_moons

    n = 40_000
    X, y = data.two_moons(n=n, seed=2)
    Xs, ys = make_moons(n, noise=0.2, random_state=2)
    for label in (0, 1):
        ours, ref = X[y == label], Xs[ys == label]
        # standard errors of the means are about 0.75 / sqrt(20000) ~ 0.005 (variances: smaller still)
        np.testing.assert_allclose(ours.mean(axis=0), ref.mean(axis=0), atol=0.02)
        np.testing.assert_allclose(np.cov(ours.T), np.cov(ref.T), atol=0.02)
    # the closed form: angle uniform on [0, π] gives the class-0 mean (0, 2/π), variances 1/2 and 1/2 − 4/π²
    # plus the jitter's 0.04
    class0 = X[y == 0]
    np.testing.assert_allclose(class0.mean(axis=0), [0.0, 2 / np.pi], atol=0.02)
    np.testing.assert_allclose(class0.var(axis=0), [0.5 + 0.04, 0.5 - 4 / np.pi**2 + 0.04], atol=0.02)
