"""Experiments of the chapter "Bias–variance decomposition": least-squares polynomials on noisy samples of sin(2πx).

- :func:`true_function`: the regression function f(x) = sin(2πx).
- :func:`polynomial_fit_predict`: the least-squares polynomial of a degree, fitted and evaluated (Legendre basis).
- :func:`decompose_polynomial`: the bias–variance decomposition of that learner on n noisy samples, over the grid
  :data:`X_TEST`.
- :func:`decompositions_by_degree`: the same for every degree of :data:`DEGREES` on the same training sets, batched
  (cached).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from course_pkg.learning.bias_variance import (
    BiasVarianceResult,
    bias_variance_decomposition,
    decomposition_of_rounds,
)

__all__ = [
    "DEGREES",
    "N_ROUNDS",
    "X_TEST",
    "true_function",
    "polynomial_fit_predict",
    "decompose_polynomial",
    "decompositions_by_degree",
]

#: Degrees offered by the explorable (capacity axis).
DEGREES = (0, 1, 2, 3, 4, 5, 7, 9)
#: Number of training sets drawn per decomposition.
N_ROUNDS = 60
#: Test inputs: a fine grid on [0, 1].
X_TEST = np.linspace(0.0, 1.0, 101)


def true_function(x: np.ndarray) -> np.ndarray:
    """The regression function f(x) = sin(2πx) used throughout the chapter.

    Parameters
    ----------
    x : numpy.ndarray
        Inputs in [0, 1] (any shape; flattened).

    Returns
    -------
    numpy.ndarray
        f at the inputs, shape ``(x.size,)``.
    """
    return np.sin(2.0 * np.pi * np.asarray(x, dtype=np.float64).ravel())


def polynomial_fit_predict(degree: int, x: np.ndarray, y: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    """Least-squares polynomial of the given degree, fitted on ``(x, y)`` and evaluated at ``x_test``.

    Uses the Legendre basis on [-1, 1] (inputs in [0, 1] are mapped there) for a well-conditioned fit.

    Parameters
    ----------
    degree : int
        Polynomial degree (≥ 0).
    x, y : numpy.ndarray
        Training inputs in [0, 1] and targets, each of n values.
    x_test : numpy.ndarray
        Inputs where the fitted polynomial is evaluated.

    Returns
    -------
    numpy.ndarray
        Predictions at ``x_test``.
    """
    if degree < 0:
        raise ValueError(f"degree must be non-negative, got {degree}")
    V = np.polynomial.legendre.legvander(2.0 * np.ravel(x) - 1.0, degree)
    coef = np.linalg.lstsq(V, np.ravel(y), rcond=None)[0]
    return np.polynomial.legendre.legvander(2.0 * np.ravel(x_test) - 1.0, degree) @ coef


def decompose_polynomial(
    degree: int, sigma: float, n: int, n_rounds: int = N_ROUNDS, seed: int = 0
) -> BiasVarianceResult:
    """Bias–variance decomposition of degree-``degree`` least squares on ``n`` noisy samples of sin(2πx).

    Training inputs are uniform on [0, 1]; targets are f(x) + σ z with z standard normal.

    Parameters
    ----------
    degree : int
        Polynomial degree (the capacity).
    sigma : float
        Noise standard deviation σ.
    n : int
        Training-set size.
    n_rounds : int, default=60
        Number of training sets.
    seed : int, default=0
        Seed of the training sets and the test noise.

    Returns
    -------
    BiasVarianceResult
        The decomposition over the grid :data:`X_TEST`.
    """

    def sample_train(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(0.0, 1.0, size=n)
        return x, true_function(x) + sigma * rng.standard_normal(n)

    return bias_variance_decomposition(
        lambda x, y, xt: polynomial_fit_predict(degree, x, y, xt),
        sample_train,
        X_TEST,
        true_function,
        sigma**2,
        n_rounds=n_rounds,
        seed=seed,
    )


@lru_cache(maxsize=16)
def decompositions_by_degree(sigma: float, n: int) -> dict[int, BiasVarianceResult]:
    """:func:`decompose_polynomial` for every degree of :data:`DEGREES`, batched over the training sets (cached).

    The fits do not consume random numbers, so every degree sees the same training sets and test noise: they are
    drawn once in the order of :func:`~course_pkg.learning.bias_variance.bias_variance_decomposition` (per round:
    inputs, label noise, test noise), and each degree's 60 least-squares fits are solved as one batch.
    """
    m = X_TEST.size
    rng = np.random.default_rng(0)
    x_tr, z_tr, z_te = np.empty((N_ROUNDS, n)), np.empty((N_ROUNDS, n)), np.empty((N_ROUNDS, m))
    for r in range(N_ROUNDS):
        x_tr[r] = rng.uniform(0.0, 1.0, size=n)
        z_tr[r] = rng.standard_normal(n)
        z_te[r] = rng.standard_normal(m)
    y_tr = np.sin(2.0 * np.pi * x_tr) + sigma * z_tr
    f_test = true_function(X_TEST)
    y_test = f_test + np.sqrt(sigma**2) * z_te
    noise = np.full(m, sigma**2)
    out = {}
    for d in DEGREES:
        q, rr = np.linalg.qr(
            np.polynomial.legendre.legvander(2.0 * x_tr - 1.0, d)
        )  # (R, n, d+1), (R, d+1, d+1)
        coef = np.linalg.solve(rr, (q.transpose(0, 2, 1) @ y_tr[:, :, None]))[..., 0]
        preds = coef @ np.polynomial.legendre.legvander(2.0 * X_TEST - 1.0, d).T
        out[d] = decomposition_of_rounds(preds, (y_test - preds) ** 2, f_test, noise)
    return out
