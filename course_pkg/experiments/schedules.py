r"""The noisy quadratic model used by the chapter "Learning-rate schedules and warmup".

The loss is :math:`L(\theta) = \tfrac12 \sum_i \lambda_i \theta_i^2` (minimum 0 at :math:`\theta = 0`) and the
optimizer only sees noisy gradients :math:`g_t = H\theta_{t-1} + \sigma \xi_t`, :math:`\xi_t \sim
\mathcal N(0, I)`. SGD with step sizes :math:`\eta_t` then runs coordinate-wise

.. math:: \theta_{t,i} = (1 - \eta_t \lambda_i)\,\theta_{t-1,i} - \eta_t \sigma \xi_{t,i},

so the second moments obey the exact, deterministic recursion
:math:`\mathbb E\theta_{t,i}^2 = (1-\eta_t \lambda_i)^2 \mathbb E\theta_{t-1,i}^2 + \eta_t^2\sigma^2`: the expected
loss of any schedule costs one vectorised loop, no Monte Carlo. With a constant :math:`\eta` it settles at the
*noise floor* :math:`\sum_i \eta\sigma^2 / (2(2 - \eta \lambda_i)) \approx \eta d \sigma^2 / 4`.
"""

from __future__ import annotations

import numpy as np

from course_pkg.optim import schedules as S

__all__ = [
    "curvatures",
    "expected_loss",
    "noise_floor",
    "sgd_noisy_quadratic",
    "schedule_lrs",
    "SCHEDULES",
]

#: Names of the schedules offered by :func:`schedule_lrs`, in display order.
SCHEDULES = ("constant", "step", "multistep", "exponential", "polynomial", "cosine", "warmup+cosine", "1/t")


def curvatures(dim: int = 20, kappa: float = 10.0) -> np.ndarray:
    r"""Curvatures (Hessian eigenvalues) :math:`\lambda_d \ge \dots \ge \lambda_1`, log-spaced from 1 down to :math:`1/\kappa`.

    Returned largest first (index 0 is :math:`\lambda_d = 1`, the last is :math:`\lambda_1 = 1/\kappa`): the book's
    ascending labels :math:`\lambda_1 \le \dots \le \lambda_d` read the array backwards. The order is kept because the
    experiments' noise is drawn per coordinate in this order (seeded results depend on it).

    Parameters
    ----------
    dim : int, default 20
        Dimension :math:`d`.
    kappa : float, default 10.0
        Condition number :math:`\kappa = \lambda_{\max} / \lambda_{\min} \ge 1`.

    Returns
    -------
    numpy.ndarray
        Shape ``(dim,)``.
    """
    if dim < 1 or kappa < 1:
        raise ValueError(f"need dim >= 1 and kappa >= 1, got dim={dim}, kappa={kappa}")
    return np.geomspace(1.0, 1.0 / kappa, dim)


def expected_loss(etas: np.ndarray, h: np.ndarray, theta0: np.ndarray, sigma: float) -> np.ndarray:
    r"""Exact :math:`\mathbb E[L(\theta_t)]` of SGD on the noisy quadratic, for :math:`t = 0, \dots, T`.

    Parameters
    ----------
    etas : numpy.ndarray
        Step sizes :math:`\eta_1, \dots, \eta_T` (shape ``(T,)``).
    h : numpy.ndarray
        Curvatures :math:`\lambda_i` (shape ``(d,)``).
    theta0 : numpy.ndarray
        Starting point :math:`\theta_0` (shape ``(d,)``), deterministic.
    sigma : float
        Gradient noise level :math:`\sigma \ge 0`.

    Returns
    -------
    numpy.ndarray
        Shape ``(T + 1,)``: the expected loss before the first step and after each step.
    """
    etas = np.asarray(etas, dtype=np.float64)
    m = np.asarray(theta0, dtype=np.float64) ** 2
    out = np.empty(etas.size + 1)
    out[0] = 0.5 * h @ m
    for t, eta in enumerate(etas, start=1):
        m = (1.0 - eta * h) ** 2 * m + eta**2 * sigma**2
        out[t] = 0.5 * h @ m
    return out


def noise_floor(eta: float, h: np.ndarray, sigma: float) -> float:
    r"""Stationary expected loss :math:`\sum_i \eta\sigma^2 / (2(2 - \eta \lambda_i))` of SGD with a constant :math:`\eta`.

    Raises
    ------
    ValueError
        If :math:`\eta \ge 2 / h_{\max}` (SGD diverges: there is no stationary distribution).
    """
    if not 0 < eta < 2.0 / np.max(h):
        raise ValueError(
            f"constant eta={eta} must be in (0, 2/h_max) = (0, {2.0 / np.max(h):.3g}) to converge"
        )
    return float(np.sum(eta * sigma**2 / (2.0 * (2.0 - eta * h))))


def sgd_noisy_quadratic(
    etas: np.ndarray, h: np.ndarray, theta0: np.ndarray, sigma: float, n_runs: int = 1, seed: int = 0
) -> np.ndarray:
    r"""Loss :math:`L(\theta_t)` along ``n_runs`` independent SGD runs on the noisy quadratic (Monte Carlo).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_runs, T + 1)``.
    """
    rng = np.random.default_rng(seed)
    theta = np.tile(np.asarray(theta0, dtype=np.float64), (n_runs, 1))
    out = np.empty((n_runs, len(etas) + 1))
    out[:, 0] = 0.5 * (theta**2) @ h
    for t, eta in enumerate(etas, start=1):
        g = theta * h + sigma * rng.standard_normal(theta.shape)
        theta = theta - eta * g
        out[:, t] = 0.5 * (theta**2) @ h
    return out


def schedule_lrs(name: str, lr: float, num_steps: int) -> np.ndarray:
    r"""The step sizes :math:`\eta_1, \dots, \eta_T` of a named schedule with peak :math:`\eta_0` = ``lr``.

    The schedules' own parameters are set relative to the horizon :math:`T` = ``num_steps``: step decay by 0.3
    every :math:`T/3` steps, multistep ×0.1 at :math:`T/2` and :math:`3T/4`, exponential decay to 1 % at
    :math:`T`, linear (polynomial, power 1) decay to 0, cosine to 0 at :math:`T`, 10 % linear warmup then cosine,
    and inverse-time :math:`\eta_0 / (1 + t/\tau)` with :math:`\tau = T/10`.

    Parameters
    ----------
    name : str
        One of :data:`SCHEDULES`.
    lr : float
        Peak learning rate :math:`\eta_0`.
    num_steps : int
        Horizon :math:`T \ge 10`.

    Returns
    -------
    numpy.ndarray
        Shape ``(num_steps,)``.

    Raises
    ------
    ValueError
        If the name is unknown or ``num_steps < 10``.
    """
    T = int(num_steps)
    if T < 10:
        raise ValueError(f"num_steps must be >= 10, got {num_steps}")
    makers = {
        "constant": lambda: S.lr_sequence(S.LambdaLR, T, lr, lr_lambda=lambda t: 1.0),
        "step": lambda: S.lr_sequence(S.StepLR, T, lr, step_size=T // 3, gamma=0.3),
        "multistep": lambda: S.lr_sequence(S.MultiStepLR, T, lr, milestones=[T // 2, 3 * T // 4]),
        "exponential": lambda: S.lr_sequence(S.ExponentialLR, T, lr, gamma=0.01 ** (1.0 / T)),
        "polynomial": lambda: S.lr_sequence(S.PolynomialLR, T, lr, total_iters=T, power=1.0),
        "cosine": lambda: S.lr_sequence(S.CosineAnnealingLR, T, lr, T_max=T),
        "warmup+cosine": lambda: S.lr_sequence(S.WarmupCosine, T, lr, warmup_steps=T // 10, total_steps=T),
        "1/t": lambda: S.lr_sequence(S.InverseTimeLR, T, lr, tau=T / 10),
    }
    if name not in makers:
        raise ValueError(f"unknown schedule {name!r}; choose one of {SCHEDULES}")
    return makers[name]()
