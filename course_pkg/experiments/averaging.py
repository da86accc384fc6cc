r"""Experiments of the chapter "Averaging, continuation and pretraining": averaging the iterates of constant-step SGD.

The model is the one of the schedules chapter: :math:`L(\theta) = \frac12\sum_i h_i \theta_i^2` (minimum at
:math:`\theta^\star = 0`), gradients :math:`g_t = H\theta_{t-1} + \sigma\xi_t` with :math:`\xi_t \sim \mathcal
N(0, I)`. Per coordinate, :math:`(\theta_t, \bar\theta_t, \tilde\theta_t)` — the iterate, Polyak's uniform mean
and the EMA with decay :math:`\beta_{\text{ema}}` — is a linear system driven by Gaussian noise, so its second
moments follow an exact recursion: no Monte Carlo.

- :func:`curvatures`: the curvatures :math:`h_i`, log-spaced from 1 down to :math:`1/\kappa`.
- :func:`averaged_expected_losses`: the exact expected losses of the three against the step :math:`t`.
- :func:`last_iterate_floor`, :func:`ema_floor`, :func:`polyak_asymptote`: the three limits the chapter derives
  (the last iterate's noise floor, the EMA's lower floor, Polyak's :math:`1/t` decay).
- :func:`sample_run`: one sampled SGD run.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from course_pkg.averaging import check_decay

__all__ = [
    "DIM",
    "HORIZON",
    "KAPPA",
    "SIGMA",
    "THETA0",
    "averaged_expected_losses",
    "curvatures",
    "ema_floor",
    "last_iterate_floor",
    "polyak_asymptote",
    "sample_run",
]

#: Dimension d, condition number κ, gradient noise σ, horizon T and starting point of the explorable's problem.
DIM = 10
KAPPA = 10.0
SIGMA = 1.0
HORIZON = 2000
THETA0 = 2.0


def curvatures(dim: int = DIM, kappa: float = KAPPA) -> np.ndarray:
    r"""Curvatures :math:`h_1 \ge \dots \ge h_d`, log-spaced from 1 down to :math:`1/\kappa`."""
    if dim < 1 or kappa < 1:
        raise ValueError(f"need dim >= 1 and kappa >= 1, got dim={dim}, kappa={kappa}")
    return np.geomspace(1.0, 1.0 / kappa, dim)


def _check_eta(eta: float, h: np.ndarray) -> None:
    if not 0 < eta < 2.0 / np.max(h):
        raise ValueError(
            f"eta={eta} must be in (0, 2/h_max) = (0, {2.0 / np.max(h):.3g}) for SGD to converge"
        )


def averaged_expected_losses(
    eta: float, h: np.ndarray, theta0: np.ndarray, sigma: float, steps: int, decay: float
) -> dict[str, np.ndarray]:
    r"""Exact expected losses :math:`\mathbb E[L(\theta_t)]`, :math:`\mathbb E[L(\bar\theta_t)]` and
    :math:`\mathbb E[L(\tilde\theta_t)]` for :math:`t = 1, \dots, T`.

    Per coordinate :math:`i`, with :math:`r = 1 - \eta h_i` and :math:`n_t = -\eta\sigma\xi_{t,i}`,

    .. math:: \theta_t = r\theta_{t-1} + n_t, \quad \bar\theta_t = c_t\bar\theta_{t-1} + (1 - c_t)\theta_t,
              \quad \tilde\theta_t = e_t\tilde\theta_{t-1} + (1 - e_t)\theta_t,

    with :math:`c_t = (t-1)/t` (uniform mean) and :math:`e_1 = 0`, :math:`e_t = \beta_{\text{ema}}` after (the
    first average is the first iterate, as in ``AveragedModel``). The vector :math:`z_t = (\theta_t, \bar\theta_t,
    \tilde\theta_t)` obeys :math:`z_t = A_t z_{t-1} + b_t n_t`, so its second-moment matrix obeys
    :math:`S_t = A_t S_{t-1} A_t^\top + \eta^2\sigma^2 b_t b_t^\top` exactly.

    Returns
    -------
    dict
        ``last``, ``polyak``, ``ema``: arrays of shape ``(steps,)``, entry ``t - 1`` for step :math:`t`.
    """
    check_decay(decay)
    _check_eta(eta, h)
    h = np.asarray(h, dtype=np.float64)
    theta0 = np.broadcast_to(np.asarray(theta0, dtype=np.float64), h.shape)
    r = 1.0 - eta * h
    q = (eta * sigma) ** 2
    e = decay
    # The entries of S_t that the losses need, each a first-order linear recursion y_t = a y_{t-1} + x_t in t
    # (vectorised with a linear filter instead of a Python loop over t). With U_t = t θ̄_t = U_{t-1} + θ_t
    # (U_0 = 0) the uniform mean's coefficients no longer depend on t:
    #   S00_t = E[θ_t²]      = r² S00_{t-1} + q,
    #   P_t   = E[U_t θ_t]   = r P_{t-1} + S00_t,                         P_0 = 0,
    #   Q_t   = E[U_t²]      = Q_{t-1} + 2 r P_{t-1} + S00_t,              Q_0 = 0,   E[θ̄_t²] = Q_t / t²,
    # and for the EMA (θ̃_1 = θ_1, then β_ema = e):
    #   R_t   = E[θ̃_t θ_t]   = e r R_{t-1} + (1 - e) S00_t,                 R_1 = S00_1,
    #   V_t   = E[θ̃_t²]      = e² V_{t-1} + 2 e (1 - e) r R_{t-1} + (1 - e)² S00_t,   V_1 = S00_1.
    s00 = _recursion(r**2, np.full((steps, h.size), q), theta0**2)
    p = _recursion(r, s00, np.zeros(h.size))
    p_before = np.vstack([np.zeros(h.size), p[:-1]])
    u2 = np.cumsum(2 * r * p_before + s00, axis=0)
    ema = s00.copy()
    if steps > 1:
        cross = _recursion(e * r, (1 - e) * s00[1:], s00[0])  # R_2, ..., R_T
        cross_before = np.vstack([s00[:1], cross[:-1]])  # R_1, ..., R_{T-1}
        drive = 2 * e * (1 - e) * r * cross_before + (1 - e) ** 2 * s00[1:]
        ema[1:] = _recursion(np.full(h.size, e**2), drive, s00[0])
    t = np.arange(1, steps + 1, dtype=np.float64)[:, None]
    return {"last": 0.5 * s00 @ h, "polyak": 0.5 * (u2 / t**2) @ h, "ema": 0.5 * ema @ h}


def _recursion(a: np.ndarray, x: np.ndarray, y0: np.ndarray) -> np.ndarray:
    """y_t = a y_{t-1} + x_t for t = 1, ..., T, per column: ``a`` and ``y0`` of shape (d,), ``x`` (T, d)."""
    out = np.empty_like(x)
    for i in range(x.shape[1]):
        out[:, i] = lfilter([1.0], [1.0, -a[i]], x[:, i], zi=[a[i] * y0[i]])[0]
    return out


def last_iterate_floor(eta: float, h: np.ndarray, sigma: float) -> float:
    r"""The last iterate's noise floor :math:`\sum_i \eta\sigma^2 / (2(2 - \eta h_i))`."""
    _check_eta(eta, h)
    return float(np.sum(eta * sigma**2 / (2.0 * (2.0 - eta * h))))


def ema_floor(eta: float, h: np.ndarray, sigma: float, decay: float) -> float:
    r"""The EMA's stationary expected loss: the last iterate's floor, coordinate by coordinate, times
    :math:`\frac{(1 - \beta_{\text{ema}})(1 + \beta_{\text{ema}} r_i)}{(1 + \beta_{\text{ema}})(1 - \beta_{\text{ema}}
    r_i)}`, :math:`r_i = 1 - \eta h_i`."""
    check_decay(decay)
    _check_eta(eta, h)
    r, b = 1.0 - eta * h, decay
    per_coordinate = eta * sigma**2 / (2.0 * (2.0 - eta * h))
    return float(np.sum(per_coordinate * (1 - b) * (1 + b * r) / ((1 + b) * (1 - b * r))))


def polyak_asymptote(h: np.ndarray, sigma: float, t: np.ndarray | float) -> np.ndarray | float:
    r"""Polyak–Ruppert's limit :math:`\mathbb E[L(\bar\theta_t)] \approx \frac{1}{2t}\operatorname{tr}(H^{-1}\Sigma)
    = \frac{\sigma^2}{2t}\sum_i 1/h_i` (noise covariance :math:`\Sigma = \sigma^2 I`), whatever :math:`\eta`."""
    return sigma**2 * np.sum(1.0 / np.asarray(h)) / (2.0 * np.asarray(t, dtype=np.float64))


def sample_run(
    eta: float, h: np.ndarray, theta0: float, sigma: float, steps: int, seed: int = 0
) -> np.ndarray:
    r"""One SGD run: the iterates :math:`\theta_1, \dots, \theta_T` (shape ``(steps, d)``)."""
    _check_eta(eta, h)
    h = np.asarray(h, dtype=np.float64)
    xi = np.random.default_rng(seed).standard_normal((steps, h.size))  # ξ_1, ..., ξ_T (row by row)
    # θ_t = θ_{t-1} - η (h θ_{t-1} + σ ξ_t) = (1 - η h) θ_{t-1} - η σ ξ_t, as a linear filter over t
    return _recursion(1.0 - eta * h, -eta * sigma * xi, np.full(h.size, float(theta0)))
