"""Experiments of the chapter "Cross-validation and model selection": K-fold CV of polynomial regression.

The data are :func:`regression_data` (``N`` = 40 noisy samples of a smooth function and a 5000-point test set); the
models are least-squares polynomials of every degree in :data:`DEGREES` (Legendre basis).

- :func:`polynomial_learner`, :func:`mse_score`: the learning procedure and the validation score of
  :func:`course_pkg.learning.cv.cross_val_curve`.
- :func:`cv_curve`: the K-fold CV estimate of every degree and its standard error (cached).
- :func:`spread_over_seeds`: the CV estimate of the degree-:data:`TRACKED_DEGREE` model for every K of
  :data:`FOLDS` over 20 shuffles.
- :func:`true_test_curve`: the test error of every degree.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from course_pkg.data import make_regression_1d
from course_pkg.learning.cv import kfold_indices
from course_pkg.learning.erm import fit_polynomial, polynomial_risk_curves, predict_polynomial

__all__ = [
    "N",
    "DEGREES",
    "FOLDS",
    "TRACKED_DEGREE",
    "SEEDS",
    "regression_data",
    "polynomial_learner",
    "mse_score",
    "cv_curve",
    "spread_over_seeds",
    "true_test_curve",
]

#: Training-set size.
N = 40
#: Degrees compared.
DEGREES = tuple(range(11))
#: Numbers of folds offered (``N`` is leave-one-out).
FOLDS = (2, 3, 5, 10, 20, N)
#: Degree whose CV estimate is tracked across seeds.
TRACKED_DEGREE = 3
#: Shuffle seeds of the K-fold splits that the explorable ``folds_and_curve`` offers (``cv_curve(K, seed)``).
SEEDS = (0, 1, 2, 3, 4)
_N_SPREAD_SEEDS = 20


@lru_cache(maxsize=1)
def regression_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The training set (``N`` points) and a 5000-point test set, noise σ = 0.3, seeded.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x, y, x_test, y_test)``.
    """
    x, y = make_regression_1d(N, noise=0.3, seed=13)
    xt, yt = make_regression_1d(5000, noise=0.3, seed=1000)
    return x, y, xt, yt


def polynomial_learner(degree: int):
    """A learning procedure ``fit(x, y) -> θ`` for least-squares polynomials of the given degree (Legendre basis).

    Parameters
    ----------
    degree : int
        Polynomial degree.

    Returns
    -------
    callable
        ``fit(x, y) -> numpy.ndarray`` of coefficients.
    """
    return lambda x, y: fit_polynomial(x, y, degree, basis="legendre")


def mse_score(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error of the polynomial ``theta`` (Legendre basis) on ``(x, y)``.

    Parameters
    ----------
    theta : numpy.ndarray
        Coefficients.
    x, y : numpy.ndarray
        Validation inputs and targets.

    Returns
    -------
    float
        The validation error.
    """
    return float(np.mean((predict_polynomial(theta, x, "legendre") - y) ** 2))


def cv_curve(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """k-fold CV error of every degree in :data:`DEGREES` on :func:`regression_data` (shuffled with ``seed``).

    Cached; leave-one-out (``k = N``) is computed once, since every seed gives the same folds in another order.

    Parameters
    ----------
    k : int
        Number of folds.
    seed : int
        Shuffle seed (ignored for leave-one-out, where every shuffle gives the same folds up to order).

    Returns
    -------
    mean, se : numpy.ndarray of shape (len(DEGREES),)
        CV estimate per degree and the standard error of the fold scores' mean.
    """
    return _cv_curve(int(k), int(seed) if k < N else 0)


@lru_cache(maxsize=64)
def _cv_curve(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # what ``cross_val_curve(polynomial_learner, DEGREES, mse_score, x, y, k, shuffle=True, seed=seed)`` computes
    # (the tests compare both with scikit-learn), with the Legendre features built once for the highest degree:
    # the columns of lower degrees are its first columns, so every fit is a least-squares solve on a slice
    x, y, _, _ = regression_data()
    features = np.polynomial.legendre.legvander(x, max(DEGREES))
    folds = kfold_indices(N, k, shuffle=True, seed=seed)
    scores = np.empty((len(DEGREES), len(folds)))
    for j, (train, val) in enumerate(folds):
        scale = np.sqrt(len(train))
        A, b = features[train] / scale, y[train] / scale
        for i, degree in enumerate(DEGREES):
            theta, *_ = np.linalg.lstsq(A[:, : degree + 1], b, rcond=None)
            scores[i, j] = np.mean((features[val, : degree + 1] @ theta - y[val]) ** 2)
    return scores.mean(axis=1), scores.std(axis=1, ddof=1) / np.sqrt(k)


@lru_cache(maxsize=1)
def spread_over_seeds() -> np.ndarray:
    """CV estimate of the degree-:data:`TRACKED_DEGREE` model for every k of :data:`FOLDS` and 20 seeds.

    Returns
    -------
    numpy.ndarray of shape (len(FOLDS), 20)
        CV estimates.
    """
    x, y, _, _ = regression_data()
    out = np.empty((len(FOLDS), _N_SPREAD_SEEDS))
    fit = polynomial_learner(TRACKED_DEGREE)
    for i, k in enumerate(FOLDS):
        for s in range(_N_SPREAD_SEEDS):
            folds = kfold_indices(N, k, shuffle=True, seed=s)
            out[i, s] = np.mean([mse_score(fit(x[tr], y[tr]), x[va], y[va]) for tr, va in folds])
    return out


@lru_cache(maxsize=1)
def true_test_curve() -> np.ndarray:
    """Test error (on the 5000 test points of :func:`regression_data`) of the least-squares fit of every degree."""
    x, y, xt, yt = regression_data()
    return polynomial_risk_curves(x, y, xt, yt, DEGREES).test
