r"""Empirical risk minimization: empirical risk, polynomial least squares, minibatch standard errors.

Notation of the course: a model with parameters :math:`\theta` makes a prediction :math:`\hat y = f_\theta(x)`;
a loss :math:`L(\hat y, y)` scores it. The *true risk* is the expected loss under the data-generating
distribution, :math:`R(\theta) = \mathbb E_{(x, y)}[L(f_\theta(x), y)]`, and the *empirical risk* is its average
over a dataset of :math:`n` examples, :math:`\hat R(\theta) = \frac1n \sum_{i=1}^n L(f_\theta(x_i), y_i)`.
Empirical risk minimization (ERM) picks :math:`\hat\theta \in \arg\min_\theta \hat R(\theta)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "EarlyStopping",
    "RiskCurves",
    "early_stopping",
    "empirical_risk",
    "fit_polynomial",
    "gradient_descent_least_squares",
    "mean_squared_error",
    "minibatch_means",
    "minibatch_standard_error",
    "polynomial_features",
    "polynomial_risk_curves",
    "predict_polynomial",
    "standard_error",
]


def _as_1d(name: str, a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    return a


def _same_length(**arrays: np.ndarray) -> None:
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise ValueError(f"mismatched lengths: {desc}")


def _check_degree(degree: int) -> int:
    if not isinstance(degree, int | np.integer) or isinstance(degree, bool) or degree < 0:
        raise ValueError(f"degree must be an integer >= 0, got {degree!r}")
    return int(degree)


def empirical_risk(
    loss: Callable[[np.ndarray, np.ndarray], np.ndarray], y_pred: np.ndarray, y: np.ndarray
) -> float:
    r"""Empirical risk :math:`\hat R = \frac1n \sum_i L(\hat y_i, y_i)`.

    Parameters
    ----------
    loss : callable
        Elementwise loss ``loss(y_pred, y) -> array`` (e.g. :func:`course_pkg.learning.losses.squared_loss`).
    y_pred : numpy.ndarray of shape (n,)
        Predictions :math:`\hat y_i`.
    y : numpy.ndarray of shape (n,)
        Targets :math:`y_i`.

    Returns
    -------
    float
        The average loss.
    """
    y_pred = _as_1d("y_pred", y_pred)
    y = _as_1d("y", y)
    _same_length(y_pred=y_pred, y=y)
    return float(np.mean(loss(y_pred, y)))


def mean_squared_error(y_pred: np.ndarray, y: np.ndarray) -> float:
    r"""Mean squared error :math:`\frac1n \sum_i (\hat y_i - y_i)^2`.

    Parameters
    ----------
    y_pred : numpy.ndarray of shape (n,)
        Predictions.
    y : numpy.ndarray of shape (n,)
        Targets.

    Returns
    -------
    float
        The empirical risk under the squared loss.
    """
    return empirical_risk(lambda p, t: (p - t) ** 2, y_pred, y)


def polynomial_features(x: np.ndarray, degree: int, basis: str = "monomial") -> np.ndarray:
    r"""Feature matrix :math:`\Phi` of a polynomial model of the given degree.

    Parameters
    ----------
    x : numpy.ndarray of shape (n,)
        Scalar inputs.
    degree : int
        Polynomial degree :math:`p \ge 0`; the model has :math:`p + 1` parameters.
    basis : {"monomial", "legendre"}, default="monomial"
        ``"monomial"``: columns :math:`1, x, \dots, x^p`. ``"legendre"``: Legendre polynomials
        :math:`P_0(x), \dots, P_p(x)`, much better conditioned on :math:`[-1, 1]` (same span, so least squares
        gives the same predictions).

    Returns
    -------
    numpy.ndarray of shape (n, degree + 1)
        :math:`\Phi_{ij} = \phi_j(x_i)`.
    """
    x = _as_1d("x", x)
    degree = _check_degree(degree)
    if basis == "monomial":
        return np.vander(x, degree + 1, increasing=True)
    if basis == "legendre":
        return np.polynomial.legendre.legvander(x, degree)
    raise ValueError(f"basis must be 'monomial' or 'legendre', got {basis!r}")


def fit_polynomial(
    x: np.ndarray, y: np.ndarray, degree: int, ridge: float = 0.0, basis: str = "monomial"
) -> np.ndarray:
    r"""Least-squares polynomial fit: the ERM solution under the squared loss.

    Minimizes :math:`\hat R(\theta) + \lambda \lVert\theta\rVert^2 = \frac1n \lVert \Phi\theta - y
    \rVert^2 + \lambda \lVert\theta\rVert^2` with :math:`\lambda` = ``ridge``, by solving the stacked
    least-squares system :math:`[\Phi/\sqrt n;\ \sqrt\lambda I]\,\theta \approx [y/\sqrt n;\ 0]` (minimum-norm
    solution when :math:`\Phi` is rank deficient).

    Parameters
    ----------
    x : numpy.ndarray of shape (n,)
        Inputs.
    y : numpy.ndarray of shape (n,)
        Targets.
    degree : int
        Polynomial degree :math:`p`.
    ridge : float, default=0.0
        Ridge penalty :math:`\lambda \ge 0`.
    basis : {"monomial", "legendre"}, default="monomial"
        Feature basis, see :func:`polynomial_features`.

    Returns
    -------
    numpy.ndarray of shape (degree + 1,)
        Coefficients :math:`\hat\theta` in the chosen basis.
    """
    x = _as_1d("x", x)
    y = _as_1d("y", y)
    _same_length(x=x, y=y)
    ridge = float(ridge)
    if not np.isfinite(ridge) or ridge < 0:
        raise ValueError(f"ridge must be a finite number >= 0, got {ridge}")
    Phi = polynomial_features(x, degree, basis) / np.sqrt(len(x))
    rhs = y / np.sqrt(len(x))
    if ridge > 0:
        Phi = np.vstack([Phi, np.sqrt(ridge) * np.eye(Phi.shape[1])])
        rhs = np.concatenate([rhs, np.zeros(Phi.shape[1])])
    theta, *_ = np.linalg.lstsq(Phi, rhs, rcond=None)
    return theta


def predict_polynomial(theta: np.ndarray, x: np.ndarray, basis: str = "monomial") -> np.ndarray:
    r"""Evaluate the polynomial model :math:`f_\theta(x) = \sum_j \theta_j \phi_j(x)`.

    Parameters
    ----------
    theta : numpy.ndarray of shape (p + 1,)
        Coefficients, as returned by :func:`fit_polynomial`.
    x : numpy.ndarray of shape (m,)
        Inputs.
    basis : {"monomial", "legendre"}, default="monomial"
        Basis the coefficients refer to.

    Returns
    -------
    numpy.ndarray of shape (m,)
        Predictions.
    """
    theta = _as_1d("theta", theta)
    return polynomial_features(x, theta.size - 1, basis) @ theta


@dataclass(frozen=True)
class RiskCurves:
    """Training and test risk of polynomial least squares for a range of degrees.

    Attributes
    ----------
    degrees : numpy.ndarray of shape (m,)
        Degrees tried.
    train : numpy.ndarray of shape (m,)
        Empirical risk :math:`\\hat R(\\hat\\theta)` on the training set (mean squared error).
    test : numpy.ndarray of shape (m,)
        Mean squared error on the test set, an estimate of the true risk :math:`R(\\hat\\theta)`.
    """

    degrees: np.ndarray
    train: np.ndarray
    test: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        """Generalization gap estimate, ``test - train``."""
        return self.test - self.train


def polynomial_risk_curves(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    degrees: Sequence[int],
    ridge: float = 0.0,
) -> RiskCurves:
    """Train and test mean squared error of :func:`fit_polynomial` for each degree.

    The fits use the Legendre basis (same predictions as monomials, better conditioned).

    Parameters
    ----------
    x_train, y_train : numpy.ndarray of shape (n,)
        Training set.
    x_test, y_test : numpy.ndarray of shape (m,)
        Test set.
    degrees : sequence of int
        Degrees to fit.
    ridge : float, default=0.0
        Ridge penalty passed to :func:`fit_polynomial`.

    Returns
    -------
    RiskCurves
        The two error curves.
    """
    x_train, y_train = _as_1d("x_train", x_train), _as_1d("y_train", y_train)
    x_test, y_test = _as_1d("x_test", x_test), _as_1d("y_test", y_test)
    _same_length(x_train=x_train, y_train=y_train)
    _same_length(x_test=x_test, y_test=y_test)
    degrees_arr = np.asarray([_check_degree(d) for d in degrees], dtype=np.int64)
    if degrees_arr.size == 0:
        raise ValueError("degrees is empty")
    train, test = [], []
    for p in degrees_arr:
        theta = fit_polynomial(x_train, y_train, int(p), ridge=ridge, basis="legendre")
        train.append(mean_squared_error(predict_polynomial(theta, x_train, "legendre"), y_train))
        test.append(mean_squared_error(predict_polynomial(theta, x_test, "legendre"), y_test))
    return RiskCurves(degrees_arr, np.asarray(train), np.asarray(test))


def standard_error(values: np.ndarray) -> float:
    r"""Standard error of a sample mean, :math:`s/\sqrt n` with :math:`s` the sample standard deviation.

    Parameters
    ----------
    values : numpy.ndarray of shape (n,)
        i.i.d. observations, ``n >= 2``.

    Returns
    -------
    float
        Estimated standard deviation of their mean.
    """
    values = _as_1d("values", values)
    if values.size < 2:
        raise ValueError("standard_error needs at least 2 values")
    return float(values.std(ddof=1) / np.sqrt(values.size))


def _check_minibatch(per_example: np.ndarray, batch_size: int, replace: bool) -> np.ndarray:
    """``per_example`` as a 1-D float array, after checking that a batch of ``batch_size`` can be drawn from it."""
    per_example = _as_1d("per_example", per_example)
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if not replace and batch_size > per_example.size:
        raise ValueError(
            f"batch_size={batch_size} exceeds the dataset size n={per_example.size} (sampling without replacement)"
        )
    return per_example


def minibatch_standard_error(per_example: np.ndarray, batch_size: int, replace: bool = False) -> float:
    r"""Exact standard deviation of a minibatch mean drawn from a finite dataset.

    With :math:`\sigma_\ell^2 = \frac1n\sum_i (\ell_i - \bar\ell)^2` the variance of the per-example values over
    the dataset, a batch of :math:`B` examples drawn uniformly *with* replacement has a mean with standard deviation
    :math:`\sigma_\ell/\sqrt B`; drawn *without* replacement, :math:`\frac{\sigma_\ell}{\sqrt B}\sqrt{\frac{n-B}{n-1}}`
    (finite-population correction: a batch of the whole dataset has no error).

    Parameters
    ----------
    per_example : numpy.ndarray of shape (n,)
        Per-example losses (or gradient coordinates) :math:`\ell_i`.
    batch_size : int
        Batch size :math:`B`, ``1 <= B`` (and ``B <= n`` without replacement).
    replace : bool, default=False
        Sampling with replacement.

    Returns
    -------
    float
        Standard deviation of the minibatch mean.
    """
    per_example = _check_minibatch(per_example, batch_size, replace)
    n = per_example.size
    sigma = per_example.std(ddof=0)
    se = sigma / np.sqrt(batch_size)
    if not replace:
        se *= np.sqrt((n - batch_size) / (n - 1)) if n > 1 else 0.0
    return float(se)


def minibatch_means(
    per_example: np.ndarray, batch_size: int, n_batches: int, replace: bool = False, seed: int | None = None
) -> np.ndarray:
    """Means of ``n_batches`` random minibatches, each drawn independently and uniformly.

    Parameters
    ----------
    per_example : numpy.ndarray of shape (n,)
        Per-example values.
    batch_size : int
        Batch size :math:`B`.
    n_batches : int
        Number of batches drawn.
    replace : bool, default=False
        Draw each batch with replacement.
    seed : int or None
        Seed of the random generator.

    Returns
    -------
    numpy.ndarray of shape (n_batches,)
        Minibatch means.
    """
    per_example = _check_minibatch(per_example, batch_size, replace)
    n = per_example.size
    if not isinstance(n_batches, int | np.integer) or n_batches < 1:
        raise ValueError(f"n_batches must be an integer >= 1, got {n_batches!r}")
    rng = np.random.default_rng(seed)
    if replace:
        idx = rng.integers(0, n, size=(n_batches, batch_size))
    else:
        idx = np.argsort(rng.random((n_batches, n)), axis=1)[:, :batch_size]
    return per_example[idx].mean(axis=1)


def gradient_descent_least_squares(
    Phi: np.ndarray,
    y: np.ndarray,
    lr: float,
    n_steps: int,
    Phi_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    theta0: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    r"""Full-batch gradient descent on :math:`\hat R(\theta) = \frac1n\lVert\Phi\theta - y\rVert^2`.

    Update: :math:`\theta_t = \theta_{t-1} - \eta\, g_t` with :math:`g_t = \frac2n \Phi^\top(\Phi\theta_{t-1} -
    y)`, :math:`t = 1, \dots, T`, starting from :math:`\theta_0` (zeros by default).

    Parameters
    ----------
    Phi : numpy.ndarray of shape (n, d)
        Training features.
    y : numpy.ndarray of shape (n,)
        Training targets.
    lr : float
        Learning rate :math:`\eta > 0`.
    n_steps : int
        Number of steps :math:`T \ge 0`.
    Phi_val, y_val : numpy.ndarray, optional
        Validation set; its mean squared error is recorded at every step.
    theta0 : numpy.ndarray of shape (d,), optional
        Initial parameters.

    Returns
    -------
    dict
        ``"theta"`` (d,): final parameters :math:`\theta_T`; ``"train"`` (T + 1,): :math:`\hat R(\theta_t)` for
        ``t = 0..T``; ``"val"`` (T + 1,): validation MSE (only with a validation set); ``"thetas"`` (T + 1, d):
        the whole path.
    """
    Phi = np.asarray(Phi, dtype=np.float64)
    y = _as_1d("y", y)
    if Phi.ndim != 2 or Phi.shape[0] != y.size:
        raise ValueError(f"Phi must have shape (n, d) with n = len(y) = {y.size}, got {Phi.shape}")
    if not float(lr) > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    if not isinstance(n_steps, int | np.integer) or n_steps < 0:
        raise ValueError(f"n_steps must be an integer >= 0, got {n_steps!r}")
    has_val = Phi_val is not None
    if has_val != (y_val is not None):
        raise ValueError("give both Phi_val and y_val, or neither")
    if has_val:
        Phi_val = np.asarray(Phi_val, dtype=np.float64)
        y_val = _as_1d("y_val", y_val)
        if Phi_val.ndim != 2 or Phi_val.shape != (y_val.size, Phi.shape[1]):
            raise ValueError(f"Phi_val must have shape ({y_val.size}, {Phi.shape[1]}), got {Phi_val.shape}")
    n, d = Phi.shape
    theta = np.zeros(d) if theta0 is None else np.array(theta0, dtype=np.float64)
    if theta.shape != (d,):
        raise ValueError(f"theta0 must have shape ({d},), got {theta.shape}")
    thetas = np.empty((n_steps + 1, d))
    thetas[0] = theta
    for t in range(1, n_steps + 1):
        g = (2.0 / n) * (Phi.T @ (Phi @ theta - y))
        theta = theta - lr * g
        thetas[t] = theta
    out = {"theta": theta, "thetas": thetas, "train": np.mean((thetas @ Phi.T - y) ** 2, axis=1)}
    if has_val:
        out["val"] = np.mean((thetas @ Phi_val.T - y_val) ** 2, axis=1)
    return out


@dataclass(frozen=True)
class EarlyStopping:
    """Result of :func:`early_stopping`.

    Attributes
    ----------
    best_step : int
        Step with the lowest validation loss (the parameters to keep).
    stop_step : int
        Step at which training stops: ``patience`` steps without improvement after ``best_step``, or the last
        step.
    best_value : float
        Validation loss at ``best_step``.
    """

    best_step: int
    stop_step: int
    best_value: float


def early_stopping(val_losses: np.ndarray, patience: int, min_delta: float = 0.0) -> EarlyStopping:
    """Early stopping on a validation curve, read online as training would.

    A step improves when its validation loss is below the best so far by more than ``min_delta``. Training
    stops after ``patience`` consecutive steps without improvement.

    Parameters
    ----------
    val_losses : numpy.ndarray of shape (T,)
        Validation loss after each step (index 0 = first evaluation).
    patience : int
        Number of steps without improvement tolerated, ``>= 1``.
    min_delta : float, default=0.0
        Minimum decrease that counts as an improvement.

    Returns
    -------
    EarlyStopping
        Best step, stopping step and best value.
    """
    val_losses = _as_1d("val_losses", val_losses)
    if not isinstance(patience, int | np.integer) or patience < 1:
        raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
    best_step, best = 0, val_losses[0]
    for t in range(1, val_losses.size):
        if val_losses[t] < best - min_delta:
            best_step, best = t, val_losses[t]
        elif t - best_step >= patience:
            return EarlyStopping(best_step, t, float(best))
    return EarlyStopping(best_step, val_losses.size - 1, float(best))
