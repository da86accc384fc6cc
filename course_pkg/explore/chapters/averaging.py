r"""Explorable of the chapter "Averaging, continuation and pretraining".

- :func:`noise_floor`: SGD with a constant learning rate :math:`\eta` on a noisy quadratic, and two averages of its
  iterates — Polyak's uniform mean :math:`\bar\theta_t` and the EMA :math:`\tilde\theta_t` with decay
  :math:`\beta_{\text{ema}}` — as one sampled run in the plane of the stiffest and the flattest coordinate, and as
  the exact expected loss of each against the step :math:`t`, with the three limits the chapter derives (the last
  iterate's noise floor, the EMA's lower floor, Polyak's :math:`1/t` decay).

The model is the one of the schedules chapter: :math:`L(\theta) = \frac12\sum_i h_i \theta_i^2` (minimum at
:math:`\theta^\star = 0`), gradients :math:`g_t = H\theta_{t-1} + \sigma\xi_t` with :math:`\xi_t \sim \mathcal
N(0, I)`. Per coordinate, :math:`(\theta_t, \bar\theta_t, \tilde\theta_t)` is a linear system driven by Gaussian
noise, so its second moments follow an exact recursion (:func:`averaged_expected_losses`): no Monte Carlo.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.signal import lfilter

from course_pkg.averaging import check_decay, ema_path, polyak_path
from course_pkg.explore import Choice, Explorable, LogGrid
from course_pkg.explore.core import plain_log_ticks

__all__ = [
    "DIM",
    "EXPLORABLES",
    "HORIZON",
    "KAPPA",
    "SIGMA",
    "averaged_expected_losses",
    "curvatures",
    "ema_floor",
    "last_iterate_floor",
    "noise_floor",
    "polyak_asymptote",
    "sample_run",
]

#: Dimension d, condition number κ, gradient noise σ, horizon T and starting point of the explorable's problem.
DIM = 10
KAPPA = 10.0
SIGMA = 1.0
HORIZON = 2000
THETA0 = 2.0

GREY = "#8c8c8c"
BLUE = "#1f77b4"
ORANGE = "#d95f02"
GREEN = "#1b9e77"


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


def _compute(lr: float, decay: float) -> dict[str, Any]:
    h = curvatures()
    losses = averaged_expected_losses(lr, h, np.full(DIM, THETA0), SIGMA, HORIZON, decay)
    run = sample_run(lr, h, THETA0, SIGMA, HORIZON, seed=0)[:, [0, -1]]  # stiffest and flattest coordinates
    return {
        "lr": lr,
        "decay": decay,
        **losses,
        "run": run,
        "run_polyak": polyak_path(run),
        "run_ema": ema_path(run, decay),
        "floor": last_iterate_floor(lr, h, SIGMA),
        "ema_floor": ema_floor(lr, h, SIGMA, decay),
        "asymptote": polyak_asymptote(h, SIGMA, np.arange(1, HORIZON + 1)),
        "initial": 0.5 * h.sum() * THETA0**2,
    }


def _draw(r: dict[str, Any], fig: Any) -> None:
    ax_p, ax_l = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25], "wspace": 0.42})
    run = r["run"]
    ax_p.plot(run[:, 0], run[:, 1], ".", color=GREY, ms=2, alpha=0.35, label="iterates θₜ")
    ax_p.plot(r["run_ema"][:, 0], r["run_ema"][:, 1], color=GREEN, lw=1.3, label="EMA")
    ax_p.plot(r["run_polyak"][:, 0], r["run_polyak"][:, 1], color=ORANGE, lw=1.8, label="Polyak")
    ax_p.plot([0], [0], "k*", ms=11, label="minimum θ*")
    lim = 3.2
    ax_p.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="stiffest coordinate (λ = 1)")
    ax_p.set_ylabel(f"flattest coordinate (λ = {1 / KAPPA:g})")
    ax_p.set_title("one run", fontsize=10)
    ax_p.legend(
        loc="upper left", fontsize=10, framealpha=0.9, handlelength=1.2, borderpad=0.3, labelspacing=0.2
    )
    ax_p.grid(alpha=0.3, lw=0.4)

    t = np.arange(1, r["last"].size + 1)
    lo, hi = 1e-3, 2 * r["initial"]
    ax_l.loglog(t, np.clip(r["last"], lo, hi), color=BLUE, lw=1.8, label="last iterate")
    ax_l.loglog(t, np.clip(r["ema"], lo, hi), color=GREEN, lw=1.8, label=f"EMA, βₑₘₐ = {r['decay']:g}")
    ax_l.loglog(t, np.clip(r["polyak"], lo, hi), color=ORANGE, lw=1.8, label="Polyak")
    ax_l.axhline(r["floor"], color=BLUE, ls="--", lw=0.9)
    ax_l.axhline(r["ema_floor"], color=GREEN, ls="--", lw=0.9)
    ax_l.loglog(
        t, np.clip(r["asymptote"], lo, hi), color=ORANGE, ls=":", lw=1.2, label="Polyak–Ruppert limit"
    )
    ax_l.set(ylim=(lo, hi), xlim=(1, t[-1]), xlabel="step t")
    ax_l.set_ylabel("expected loss E[L]")
    plain_log_ticks(ax_l.xaxis)
    plain_log_ticks(ax_l.yaxis)
    ax_l.set_title(f"η = {r['lr']:g}: dashed = the floors", fontsize=10)
    ax_l.legend(
        loc="lower left", fontsize=10, framealpha=0.9, handlelength=1.4, borderpad=0.3, labelspacing=0.2
    )
    ax_l.grid(alpha=0.3, lw=0.4)


def noise_floor() -> Explorable:
    """Learning rate × EMA decay: the last iterate, Polyak's average and the EMA on a noisy quadratic."""
    return Explorable(
        name="averaging-noise-floor",
        title="How averaging removes the noise floor: constant-step SGD on a noisy quadratic",
        params={
            "lr": LogGrid(0.025, 1.6, num=7, default=0.4, label="learning rate η"),
            "decay": Choice([0.9, 0.99, 0.999], default=0.99, label="EMA decay βₑₘₐ"),
        },
        compute=_compute,
        draw=_draw,
        figsize=(7.8, 4.2),
    )


EXPLORABLES = [noise_floor]
