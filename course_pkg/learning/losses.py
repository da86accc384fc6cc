r"""Surrogate losses of the margin, regression losses, and losses derived by maximum likelihood.

**Margin losses.** For a binary label :math:`y \in \{-1, +1\}` and a real score :math:`f(x)`, the *margin* is
:math:`z = y f(x)`: positive when the sign of the score is right. Every classification loss here is a function
:math:`\phi(z)` of the margin:

=================  ===============================  ==============================
name               :math:`\phi(z)`                  :math:`\phi'(z)`
=================  ===============================  ==============================
``zero_one``       :math:`\mathbb 1[z \le 0]`       0 (almost everywhere)
``hinge``          :math:`\max(0, 1 - z)`           :math:`-\mathbb 1[z < 1]`
``squared_hinge``  :math:`\max(0, 1 - z)^2`         :math:`-2\max(0, 1 - z)`
``logistic``       :math:`\log(1 + e^{-z})`         :math:`-1/(1 + e^{z})`
``exponential``    :math:`e^{-z}`                   :math:`-e^{-z}`
=================  ===============================  ==============================

(natural logarithm; :math:`\log_2(1 + e^{-z})` is the version that upper-bounds the 0-1 loss).

**Regression losses** of a prediction :math:`\hat y` and a target :math:`y`: squared :math:`(\hat y - y)^2`
and absolute :math:`|\hat y - y|`.

**Negative log-likelihoods**: Gaussian, Laplace and Bernoulli. Minimizing them over a location parameter
gives back least squares, least absolute deviations and logistic regression.

**Many classes**: the softmax of logits :math:`f \in \mathbb R^C`, the softmax cross-entropy (the NLL of a
categorical label, ``torch.nn.CrossEntropyLoss``) and its gradient :math:`\operatorname{softmax}(f) - e_y`, the
entropy :math:`\mathcal H(q)` and the Kullback–Leibler divergence :math:`\mathrm{KL}(q \,\|\, \hat p)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

__all__ = [
    "MARGIN_LOSSES",
    "MarginLoss",
    "absolute_loss",
    "absolute_loss_grad",
    "bayes_margin",
    "bernoulli_nll",
    "conditional_risk",
    "error_rate",
    "exponential",
    "exponential_grad",
    "fit_linear_classifier",
    "gaussian_nll",
    "hinge",
    "entropy",
    "hinge_grad",
    "kl_divergence",
    "laplace_nll",
    "logistic",
    "logistic_grad",
    "regularized_objective",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_grad",
    "squared_hinge",
    "squared_hinge_grad",
    "squared_loss",
    "squared_loss_grad",
    "zero_one",
    "zero_one_grad",
]


def _f64(a: np.ndarray | float) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


# ---------------------------------------------------------------------------------------------- margin losses
def zero_one(z: np.ndarray) -> np.ndarray:
    r"""0-1 loss of the margin, :math:`\mathbb 1[z \le 0]` (a zero score counts as a mistake)."""
    return (_f64(z) <= 0).astype(np.float64)


def zero_one_grad(z: np.ndarray) -> np.ndarray:
    """Derivative of the 0-1 loss: zero wherever it exists (everywhere except ``z = 0``)."""
    return np.zeros_like(_f64(z))


def hinge(z: np.ndarray) -> np.ndarray:
    r"""Hinge loss :math:`\max(0, 1 - z)` (support vector machines)."""
    return np.maximum(0.0, 1.0 - _f64(z))


def hinge_grad(z: np.ndarray) -> np.ndarray:
    r"""A subgradient of the hinge loss, :math:`-\mathbb 1[z < 1]` (0 is chosen at the kink ``z = 1``)."""
    return -(_f64(z) < 1.0).astype(np.float64)


def squared_hinge(z: np.ndarray) -> np.ndarray:
    r"""Squared hinge loss :math:`\max(0, 1 - z)^2` (differentiable everywhere)."""
    return np.maximum(0.0, 1.0 - _f64(z)) ** 2


def squared_hinge_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of the squared hinge loss, :math:`-2\max(0, 1 - z)`."""
    return -2.0 * np.maximum(0.0, 1.0 - _f64(z))


def logistic(z: np.ndarray) -> np.ndarray:
    r"""Logistic loss :math:`\log(1 + e^{-z})`, computed stably as ``logaddexp(0, -z)``."""
    return np.logaddexp(0.0, -_f64(z))


def logistic_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of the logistic loss, :math:`-\sigma(-z) = -1/(1 + e^{z})`."""
    return -expit(-_f64(z))


def exponential(z: np.ndarray) -> np.ndarray:
    r"""Exponential loss :math:`e^{-z}` (AdaBoost)."""
    return np.exp(-_f64(z))


def exponential_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of the exponential loss, :math:`-e^{-z}`."""
    return -np.exp(-_f64(z))


@dataclass(frozen=True)
class MarginLoss:
    """A loss of the margin with its derivative.

    Attributes
    ----------
    name : str
        Key in :data:`MARGIN_LOSSES`.
    label : str
        Human-readable name.
    value : callable
        :math:`\\phi(z)`, elementwise.
    grad : callable
        :math:`\\phi'(z)` (a subgradient at kinks), elementwise.
    convex : bool
        Whether :math:`\\phi` is convex.
    smooth : bool
        Whether :math:`\\phi` is differentiable everywhere.
    """

    name: str
    label: str
    value: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    convex: bool
    smooth: bool

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Evaluate :math:`\\phi(z)`."""
        return self.value(z)


MARGIN_LOSSES: dict[str, MarginLoss] = {
    "zero_one": MarginLoss("zero_one", "0-1", zero_one, zero_one_grad, convex=False, smooth=False),
    "hinge": MarginLoss("hinge", "hinge", hinge, hinge_grad, convex=True, smooth=False),
    "squared_hinge": MarginLoss(
        "squared_hinge", "squared hinge", squared_hinge, squared_hinge_grad, convex=True, smooth=True
    ),
    "logistic": MarginLoss("logistic", "logistic", logistic, logistic_grad, convex=True, smooth=True),
    "exponential": MarginLoss(
        "exponential", "exponential", exponential, exponential_grad, convex=True, smooth=True
    ),
}
"""The margin losses by name."""


def _get_loss(loss: str | MarginLoss) -> MarginLoss:
    if isinstance(loss, MarginLoss):
        return loss
    if loss not in MARGIN_LOSSES:
        raise ValueError(f"unknown margin loss {loss!r}; choose one of {sorted(MARGIN_LOSSES)}")
    return MARGIN_LOSSES[loss]


def error_rate(scores: np.ndarray, y: np.ndarray) -> float:
    r"""Empirical 0-1 risk of real-valued scores, :math:`\frac1n\sum_i \mathbb 1[y_i f(x_i) \le 0]`.

    Parameters
    ----------
    scores : numpy.ndarray of shape (n,)
        Scores :math:`f(x_i)`.
    y : numpy.ndarray of shape (n,)
        Labels in ``{-1, +1}``.

    Returns
    -------
    float
        Fraction of mistakes.
    """
    scores, y = _f64(scores), _f64(y)
    if scores.shape != y.shape or scores.ndim != 1 or scores.size == 0:
        raise ValueError(
            f"scores and y must be non-empty 1-D arrays of equal length, got {scores.shape}, {y.shape}"
        )
    return float(np.mean(zero_one(y * scores)))


def conditional_risk(loss: str | MarginLoss, z: np.ndarray, q: float) -> np.ndarray:
    r"""Conditional risk :math:`R_q(z) = q\,\phi(z) + (1 - q)\,\phi(-z)` of the score :math:`z`.

    It is the expected loss at an input :math:`x` where :math:`\Pr[y = +1 \mid x] = q`, if the model outputs
    the score :math:`z = f_\theta(x)`.

    Parameters
    ----------
    loss : str or MarginLoss
        Margin loss :math:`\phi`.
    z : numpy.ndarray
        Scores.
    q : float
        Probability of the positive class, in ``[0, 1]``.

    Returns
    -------
    numpy.ndarray
        :math:`R_q(z)`, same shape as ``z``.
    """
    phi = _get_loss(loss)
    if not 0.0 <= float(q) <= 1.0:
        raise ValueError(f"q must be in [0, 1], got {q}")
    z = _f64(z)
    return q * phi(z) + (1.0 - q) * phi(-z)


def bayes_margin(loss: str, q: np.ndarray) -> np.ndarray:
    r"""Closed-form minimizer :math:`z^\star(q)` of the conditional risk :math:`R_q`.

    ``logistic``: :math:`\log\frac{q}{1-q}`; ``exponential``: :math:`\frac12\log\frac{q}{1-q}`;
    ``squared_hinge``: :math:`2q - 1`; ``hinge``: :math:`\operatorname{sign}(2q - 1)`. Each has the sign of
    :math:`2q - 1`, the Bayes decision: these losses are *classification calibrated*. The 0-1 loss is
    minimized by any score of that sign; the unit score ``sign(2q - 1)`` is returned.

    Parameters
    ----------
    loss : str
        Name of a margin loss.
    q : numpy.ndarray
        Probabilities of the positive class, in ``(0, 1)`` (logistic and exponential diverge at 0 and 1).

    Returns
    -------
    numpy.ndarray
        Minimizing scores, same shape as ``q``.
    """
    _get_loss(loss)
    q = _f64(q)
    if np.any((q < 0) | (q > 1)):
        raise ValueError("q must be in [0, 1]")
    with np.errstate(divide="ignore"):
        if loss == "logistic":
            return np.log(q) - np.log1p(-q)
        if loss == "exponential":
            return 0.5 * (np.log(q) - np.log1p(-q))
        if loss == "squared_hinge":
            return 2.0 * q - 1.0
    return np.sign(2.0 * q - 1.0)


# ------------------------------------------------------------------------------------------ regression losses
def squared_loss(y_pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""Squared loss :math:`(\hat y - y)^2`, elementwise."""
    return (_f64(y_pred) - _f64(y)) ** 2


def squared_loss_grad(y_pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""Derivative of the squared loss with respect to the prediction, :math:`2(\hat y - y)`."""
    return 2.0 * (_f64(y_pred) - _f64(y))


def absolute_loss(y_pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""Absolute loss :math:`|\hat y - y|`, elementwise."""
    return np.abs(_f64(y_pred) - _f64(y))


def absolute_loss_grad(y_pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""A subgradient of the absolute loss, :math:`\operatorname{sign}(\hat y - y)` (0 at a tie)."""
    return np.sign(_f64(y_pred) - _f64(y))


# ------------------------------------------------------------------------------------ negative log-likelihoods
def _check_scale(name: str, scale: np.ndarray | float) -> np.ndarray:
    scale = _f64(scale)
    if np.any(~(scale > 0)):
        raise ValueError(f"{name} must be > 0")
    return scale


def gaussian_nll(y: np.ndarray, mean: np.ndarray, std: np.ndarray | float = 1.0) -> np.ndarray:
    r"""Negative log-density of :math:`\mathcal N(\hat y, \sigma^2)`:
    :math:`\frac12\log(2\pi\sigma^2) + \frac{(y - \hat y)^2}{2\sigma^2}`.

    Parameters
    ----------
    y : numpy.ndarray
        Observations.
    mean : numpy.ndarray
        Means :math:`\hat y` (broadcast against ``y``).
    std : numpy.ndarray or float, default=1.0
        Standard deviations :math:`\sigma > 0`.

    Returns
    -------
    numpy.ndarray
        Elementwise negative log-likelihood.
    """
    std = _check_scale("std", std)
    return 0.5 * np.log(2.0 * np.pi * std**2) + (_f64(y) - _f64(mean)) ** 2 / (2.0 * std**2)


def laplace_nll(y: np.ndarray, loc: np.ndarray, scale: np.ndarray | float = 1.0) -> np.ndarray:
    r"""Negative log-density of the Laplace distribution: :math:`\log(2b) + \frac{|y - \mu|}{b}`.

    Parameters
    ----------
    y : numpy.ndarray
        Observations.
    loc : numpy.ndarray
        Locations :math:`\mu`.
    scale : numpy.ndarray or float, default=1.0
        Scales :math:`b > 0`.

    Returns
    -------
    numpy.ndarray
        Elementwise negative log-likelihood.
    """
    scale = _check_scale("scale", scale)
    return np.log(2.0 * scale) + np.abs(_f64(y) - _f64(loc)) / scale


def bernoulli_nll(y01: np.ndarray, logit: np.ndarray) -> np.ndarray:
    r"""Negative log-likelihood of :math:`y \in \{0, 1\}` under :math:`\Pr[y = 1] = \operatorname{sigmoid}(f)`,
    :math:`f` the logit.

    Equals :math:`\log(1 + e^{f}) - y f`, and, with :math:`\tilde y = 2y - 1 \in \{-1, +1\}`, the logistic loss
    of the margin: :math:`\log(1 + e^{-\tilde y f})`.

    Parameters
    ----------
    y01 : numpy.ndarray
        Labels in ``{0, 1}``.
    logit : numpy.ndarray
        Logits :math:`f`.

    Returns
    -------
    numpy.ndarray
        Elementwise negative log-likelihood.
    """
    y01, logit = _f64(y01), _f64(logit)
    if np.any((y01 != 0) & (y01 != 1)):
        raise ValueError("y01 must contain only 0 and 1")
    # the margin form avoids the cancellation of log(1 + e^s) - s for y = 1 and large s
    return np.logaddexp(0.0, -(2.0 * y01 - 1.0) * logit)


# ------------------------------------------------------------------------------------------- linear classifier
def regularized_objective(
    theta: np.ndarray, X: np.ndarray, y: np.ndarray, loss: str | MarginLoss, lam: float
) -> tuple[float, np.ndarray]:
    r"""Regularized empirical risk of a linear classifier and its (sub)gradient.

    With :math:`\theta = (w, w_0)` and scores :math:`f_\theta(x) = w^\top x + w_0`,
    :math:`J(\theta) = \frac1n\sum_i \phi(y_i f_\theta(x_i)) + \frac\lambda2\lVert w\rVert^2` (the intercept
    :math:`w_0` is not penalized).

    Parameters
    ----------
    theta : numpy.ndarray of shape (d + 1,)
        Weights followed by the intercept.
    X : numpy.ndarray of shape (n, d)
        Features.
    y : numpy.ndarray of shape (n,)
        Labels in ``{-1, +1}``.
    loss : str or MarginLoss
        Margin loss :math:`\phi`.
    lam : float
        Penalty :math:`\lambda \ge 0`.

    Returns
    -------
    value : float
        :math:`J(\theta)`.
    grad : numpy.ndarray of shape (d + 1,)
        :math:`\nabla J(\theta)` (a subgradient for the hinge loss).
    """
    phi = _get_loss(loss)
    w, b = theta[:-1], theta[-1]
    z = y * (X @ w + b)
    dz = phi.grad(z) * y / y.size
    value = float(np.mean(phi(z)) + 0.5 * lam * w @ w)
    grad = np.concatenate([X.T @ dz + lam * w, [dz.sum()]])
    return value, grad


def fit_linear_classifier(
    X: np.ndarray,
    y: np.ndarray,
    loss: str | MarginLoss = "logistic",
    lam: float = 1e-2,
    n_iter: int = 3000,
    tol: float = 1e-10,
) -> np.ndarray:
    r"""Minimize the regularized surrogate risk of :func:`regularized_objective` over a linear classifier.

    Smooth losses use L-BFGS (:func:`scipy.optimize.minimize`). The hinge loss, which is not differentiable,
    uses the subgradient method :math:`\theta_t = \theta_{t-1} - \eta_t g_t` with :math:`\eta_t = 1/(\lambda
    (t + 1))` (the step of Pegasos for a :math:`\lambda`-strongly convex objective) and returns the best iterate.
    The 0-1 loss has zero gradient almost everywhere, so it cannot be minimized this way: it raises.

    Parameters
    ----------
    X : numpy.ndarray of shape (n, d)
        Features.
    y : numpy.ndarray of shape (n,)
        Labels in ``{-1, +1}``.
    loss : str or MarginLoss, default="logistic"
        Surrogate loss.
    lam : float, default=1e-2
        L2 penalty :math:`\lambda > 0` on the weights (keeps the minimizer finite on separable data).
    n_iter : int, default=3000
        Maximum number of iterations.
    tol : float, default=1e-10
        Gradient tolerance of L-BFGS.

    Returns
    -------
    numpy.ndarray of shape (d + 1,)
        :math:`\hat\theta = (\hat w, \hat w_0)`.
    """
    from scipy.optimize import minimize

    phi = _get_loss(loss)
    X, y = _f64(X), _f64(y)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty 2-D array, got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    if not np.all((y == 1) | (y == -1)):
        raise ValueError("y must contain labels in {-1, +1}")
    if not float(lam) > 0:
        raise ValueError(f"lam must be > 0, got {lam}")
    if phi.name == "zero_one":
        raise ValueError(
            "the 0-1 loss has zero gradient almost everywhere and cannot be minimized by gradients"
        )
    theta0 = np.zeros(X.shape[1] + 1)
    if phi.smooth:
        res = minimize(
            regularized_objective,
            theta0,
            args=(X, y, phi, lam),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": n_iter, "gtol": tol, "ftol": 1e-15},
        )
        return res.x
    theta, best, best_val = theta0, theta0, np.inf
    for t in range(1, n_iter + 1):
        val, g = regularized_objective(theta, X, y, phi, lam)
        if val < best_val:
            best, best_val = theta, val
        theta = theta - g / (lam * (t + 1))
    return best


# ------------------------------------------------------------------------------------------------ many classes
def softmax(logits: np.ndarray) -> np.ndarray:
    r"""Softmax along the last axis, :math:`\operatorname{softmax}(f)_c = e^{f_c} / \sum_{c'} e^{f_{c'}}`.

    The maximum logit is subtracted first, which changes nothing mathematically and avoids overflow.

    Parameters
    ----------
    logits : numpy.ndarray of shape (..., C)
        Logits :math:`f`.

    Returns
    -------
    numpy.ndarray of shape (..., C)
        Probabilities :math:`\hat p` (non-negative, summing to 1 along the last axis).
    """
    f = _f64(logits)
    if f.ndim == 0 or f.shape[-1] == 0:
        raise ValueError(f"logits must have a non-empty last axis (the classes), got shape {f.shape}")
    e = np.exp(f - f.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _check_logits_labels(logits: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = _f64(logits)
    y = np.asarray(y)
    if f.ndim != 2 or f.shape[0] == 0 or f.shape[1] < 2:
        raise ValueError(f"logits must have shape (n, C) with n >= 1 and C >= 2, got {f.shape}")
    if y.shape != (f.shape[0],):
        raise ValueError(f"y must have shape ({f.shape[0]},) to match logits, got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or np.any((y < 0) | (y >= f.shape[1])):
        raise ValueError(f"y must hold integer class indices in [0, {f.shape[1] - 1}]")
    return f, y


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""Per-example softmax cross-entropy :math:`-\log \operatorname{softmax}(f)_y
    = -f_y + \log \sum_c e^{f_c}`.

    It is the negative log-likelihood of the label under the categorical distribution :math:`\hat p =
    \operatorname{softmax}(f)`; ``torch.nn.CrossEntropyLoss(reduction="none")`` computes the same from logits.
    With two classes it is the logistic loss of the margin :math:`f_y - f_{c \ne y}`.

    Parameters
    ----------
    logits : numpy.ndarray of shape (n, C)
        Logits :math:`f`, one row per example.
    y : numpy.ndarray of shape (n,)
        Integer class indices in ``[0, C - 1]``.

    Returns
    -------
    numpy.ndarray of shape (n,)
        The losses.
    """
    f, y = _check_logits_labels(logits, y)
    rows = np.arange(len(y))
    top = f.argmax(axis=1)
    shifted = np.exp(f - f[rows, top][:, None])
    shifted[rows, top] = 0.0  # log sum_c e^{f_c} = f_top + log1p(sum over c != top): exact for confident rows
    return (f[rows, top] - f[rows, y]) + np.log1p(shifted.sum(axis=1))


def softmax_cross_entropy_grad(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""Gradient of :func:`softmax_cross_entropy` with respect to the logits: :math:`\hat p - e_y`.

    Parameters
    ----------
    logits : numpy.ndarray of shape (n, C)
        Logits :math:`f`.
    y : numpy.ndarray of shape (n,)
        Integer class indices in ``[0, C - 1]``.

    Returns
    -------
    numpy.ndarray of shape (n, C)
        Row :math:`i` is :math:`\operatorname{softmax}(f_i) - e_{y_i}` (:math:`e_c` the :math:`c`-th unit vector).
    """
    f, y = _check_logits_labels(logits, y)
    g = softmax(f)
    g[np.arange(len(y)), y] -= 1.0
    return g


def _check_distribution(name: str, p: np.ndarray) -> np.ndarray:
    p = _f64(p)
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError(f"{name} must have a non-empty last axis (the classes), got shape {p.shape}")
    if np.any(p < 0) or not np.allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-9):
        raise ValueError(f"{name} must be non-negative and sum to 1 along the last axis")
    return p


def entropy(q: np.ndarray) -> np.ndarray:
    r"""Entropy :math:`\mathcal H(q) = -\sum_c q_c \log q_c` along the last axis (natural log, :math:`0 \log 0 = 0`).

    Parameters
    ----------
    q : numpy.ndarray of shape (..., C)
        Probability vectors.

    Returns
    -------
    numpy.ndarray of shape (...)
        Entropies, in nats.
    """
    q = _check_distribution("q", q)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)
    return -terms.sum(axis=-1)


def kl_divergence(q: np.ndarray, p: np.ndarray) -> np.ndarray:
    r"""Kullback–Leibler divergence :math:`\mathrm{KL}(q \,\|\, p) = \sum_c q_c \log(q_c / p_c)` along the last axis.

    Non-negative, zero exactly when :math:`q = p`, and infinite when some :math:`p_c = 0 < q_c`.
    :math:`\mathrm{KL}(q \,\|\, p) = \mathcal H(q, p) - \mathcal H(q)`, the cross-entropy minus the entropy.

    Parameters
    ----------
    q, p : numpy.ndarray of shape (..., C)
        Probability vectors (broadcast against each other).

    Returns
    -------
    numpy.ndarray of shape (...)
        Divergences, in nats.
    """
    q, p = _check_distribution("q", q), _check_distribution("p", p)
    q, p = np.broadcast_arrays(q, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(q > 0, q * (np.log(np.where(q > 0, q, 1.0)) - np.log(p)), 0.0)
    return terms.sum(axis=-1)
