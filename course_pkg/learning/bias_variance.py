"""Monte-Carlo bias–variance decomposition of the expected squared error.

For a regression target :math:`y = f(x) + \\xi` with label noise :math:`E[\\xi] = 0`, :math:`Var[\\xi]=\\sigma^2`,
and a predictor :math:`\\hat f_D` fitted on a random training set :math:`D`, the expected squared error at a
test input :math:`x` splits into three non-negative parts:

.. math::

    E_{D,\\xi}\\big[(y - \\hat f_D(x))^2\\big]
    = \\underbrace{(f(x) - \\bar f(x))^2}_{\\text{bias}^2}
    + \\underbrace{E_D\\big[(\\hat f_D(x) - \\bar f(x))^2\\big]}_{\\text{variance}}
    + \\underbrace{\\sigma^2}_{\\text{noise}},
    \\qquad \\bar f(x) = E_D[\\hat f_D(x)].

:func:`bias_variance_decomposition` estimates each part by refitting on ``n_rounds`` (the book's :math:`S`) fresh training sets, and
separately *measures* the left-hand side with fresh noisy test labels, so that the identity can be checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["BiasVarianceResult", "bias_variance_decomposition", "decomposition_of_rounds"]


@dataclass(frozen=True)
class BiasVarianceResult:
    """Monte-Carlo estimates of the bias–variance decomposition.

    The unsuffixed attributes are averages over the test points; the ``*_pointwise`` ones are per test
    point.

    Attributes
    ----------
    bias2, variance, noise, expected_error : float
        Averages over the test inputs of bias², variance, noise σ² and the *measured* expected squared error
        against fresh noisy test labels.
    expected_error_se : float
        Monte-Carlo standard error of ``expected_error``.
    bias2_pointwise, variance_pointwise, noise_pointwise, expected_error_pointwise : numpy.ndarray
        The same quantities at each test input, shape ``(m,)``.
    predictions : numpy.ndarray of shape (n_rounds, m)
        Every fitted predictor's predictions at the test inputs.
    mean_prediction : numpy.ndarray of shape (m,)
        Their average :math:`\\bar f(x)`.
    f_test : numpy.ndarray of shape (m,)
        The true regression function at the test inputs.
    """

    bias2: float
    variance: float
    noise: float
    expected_error: float
    expected_error_se: float
    bias2_pointwise: np.ndarray
    variance_pointwise: np.ndarray
    noise_pointwise: np.ndarray
    expected_error_pointwise: np.ndarray
    predictions: np.ndarray
    mean_prediction: np.ndarray
    f_test: np.ndarray

    @property
    def total(self) -> float:
        """bias² + variance + noise, to compare with ``expected_error``."""
        return self.bias2 + self.variance + self.noise


def bias_variance_decomposition(
    fit_predict: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    sample_train: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]],
    x_test: np.ndarray,
    f_true: Callable[[np.ndarray], np.ndarray],
    noise_var: float | np.ndarray,
    n_rounds: int = 200,
    seed: int | None = None,
) -> BiasVarianceResult:
    """Estimate bias², variance and noise of a learning algorithm by refitting on fresh training sets.

    Parameters
    ----------
    fit_predict : callable
        ``fit_predict(X_train, y_train, x_test) -> predictions`` of shape ``(m,)``: trains the model on one
        training set and predicts at the test inputs.
    sample_train : callable
        ``sample_train(rng) -> (X_train, y_train)``: draws one training set of size n from the data
        distribution using the ``numpy.random.Generator`` it is given.
    x_test : numpy.ndarray
        The m test inputs (first axis indexes points).
    f_true : callable
        ``f_true(x_test)``: the true regression function :math:`f(x) = E[y \\mid x]`, shape ``(m,)``.
    noise_var : float or numpy.ndarray of shape (m,)
        The noise variance σ² of :math:`y` given :math:`x` (the irreducible error).
    n_rounds : int, default=200
        Number of training sets drawn (at least 2).
    seed : int, optional
        Seed of the ``numpy.random.default_rng`` passed to ``sample_train`` and used for the test noise.

    Returns
    -------
    BiasVarianceResult
        The three parts, the measured expected error and its standard error.

    Notes
    -----
    The variance uses the 1/R average over the R rounds, so bias² + variance equals exactly the mean of
    :math:`(f(x) - \\hat f_D(x))^2` over the rounds. The measured expected error compares every round's
    predictions with fresh labels :math:`f(x) + \\sqrt{\\sigma^2}\\,z`, :math:`z \\sim N(0, 1)`, drawn
    independently of the training set; it differs from bias² + variance + noise only by Monte-Carlo error.
    """
    if isinstance(n_rounds, bool) or int(n_rounds) != n_rounds or n_rounds < 2:
        raise ValueError(f"n_rounds must be an integer >= 2, got {n_rounds!r}")
    x_test = np.asarray(x_test)
    if x_test.ndim == 0 or x_test.shape[0] == 0:
        raise ValueError("x_test is empty: at least one test input is required")
    m = x_test.shape[0]
    f_test = np.asarray(f_true(x_test), dtype=np.float64)
    if f_test.shape != (m,):
        raise ValueError(f"f_true(x_test) must have shape ({m},), got {f_test.shape}")
    noise = np.broadcast_to(np.asarray(noise_var, dtype=np.float64), (m,)).copy()
    if np.any(noise < 0) or not np.all(np.isfinite(noise)):
        raise ValueError("noise_var must be finite and non-negative")
    rng = np.random.default_rng(seed)
    preds = np.empty((int(n_rounds), m))
    sq_err = np.empty((int(n_rounds), m))
    for r in range(int(n_rounds)):
        X_train, y_train = sample_train(rng)
        p = np.asarray(fit_predict(X_train, y_train, x_test), dtype=np.float64)
        if p.shape != (m,):
            raise ValueError(f"fit_predict must return predictions of shape ({m},), got {p.shape}")
        preds[r] = p
        y_test = f_test + np.sqrt(noise) * rng.standard_normal(m)
        sq_err[r] = (y_test - p) ** 2
    return decomposition_of_rounds(preds, sq_err, f_test, noise)


def decomposition_of_rounds(
    preds: np.ndarray, sq_err: np.ndarray, f_test: np.ndarray, noise: np.ndarray
) -> BiasVarianceResult:
    """The decomposition from R rounds of predictions, as :func:`bias_variance_decomposition` computes it.

    For callers that produce the rounds themselves (e.g. many fits solved as one batch).

    Parameters
    ----------
    preds : numpy.ndarray of shape (R, m)
        Each round's predictions at the m test inputs (R >= 2).
    sq_err : numpy.ndarray of shape (R, m)
        Each round's squared error against fresh test labels.
    f_test : numpy.ndarray of shape (m,)
        The true regression function at the test inputs.
    noise : numpy.ndarray of shape (m,)
        The noise variance at the test inputs.

    Returns
    -------
    BiasVarianceResult
    """
    mean_pred = preds.mean(axis=0)
    bias2 = (f_test - mean_pred) ** 2
    variance = preds.var(axis=0)
    err = sq_err.mean(axis=0)
    # the rounds are independent, so the per-round average over test points is an i.i.d. sample
    per_round = sq_err.mean(axis=1)
    se = float(per_round.std(ddof=1) / np.sqrt(preds.shape[0]))
    return BiasVarianceResult(
        bias2=float(bias2.mean()),
        variance=float(variance.mean()),
        noise=float(noise.mean()),
        expected_error=float(err.mean()),
        expected_error_se=se,
        bias2_pointwise=bias2,
        variance_pointwise=variance,
        noise_pointwise=noise,
        expected_error_pointwise=err,
        predictions=preds,
        mean_prediction=mean_pred,
        f_test=f_test,
    )
