r"""Explorable of the chapter "Averaging, continuation and pretraining".

- :func:`noise_floor`: SGD with a constant learning rate :math:`\eta` on a noisy quadratic, and two averages of its
  iterates — Polyak's uniform mean :math:`\bar\theta_t` and the EMA :math:`\tilde\theta_t` with decay
  :math:`\beta_{\text{ema}}` — as one sampled run in the plane of the stiffest and the flattest coordinate, and as
  the exact expected loss of each against the step :math:`t`, with the three limits the chapter derives (the last
  iterate's noise floor, the EMA's lower floor, Polyak's :math:`1/t` decay).

The model is the one of the schedules chapter: :math:`L(\theta) = \frac12\sum_i h_i \theta_i^2` (minimum at
:math:`\theta^\star = 0`), gradients :math:`g_t = H\theta_{t-1} + \sigma\xi_t` with :math:`\xi_t \sim \mathcal
N(0, I)`. Per coordinate, :math:`(\theta_t, \bar\theta_t, \tilde\theta_t)` is a linear system driven by Gaussian
noise, so its second moments follow an exact recursion
(:func:`course_pkg.experiments.averaging.averaged_expected_losses`): no Monte Carlo.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_pkg.averaging import ema_path, polyak_path
from course_pkg.experiments.averaging import (
    DIM,
    HORIZON,
    KAPPA,
    SIGMA,
    THETA0,
    averaged_expected_losses,
    curvatures,
    ema_floor,
    last_iterate_floor,
    polyak_asymptote,
    sample_run,
)
from course_pkg.explore import Choice, Explorable, LogGrid, log10_ticks

__all__ = ["EXPLORABLES", "noise_floor"]

GREY = "#8c8c8c"
BLUE = "#1f77b4"
ORANGE = "#d95f02"
GREEN = "#1b9e77"


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


#: Ticks of the run's plane and of the log₁₀ axes of the losses (every power of ten).
PLANE_TICKS = (-2.0, 0.0, 2.0)
STEP_TICKS = (1, 10, 100, 1000)
LOSS_TICKS = (1e-3, 1e-2, 1e-1, 1.0, 10.0)


def _draw(r: dict[str, Any], fig: Any) -> None:
    ax_p, ax_l = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25], "wspace": 0.42})
    run = r["run"]
    ax_p.plot(run[:, 0], run[:, 1], ".", color=GREY, ms=2, alpha=0.35, label="iterates θₜ")
    ax_p.plot(r["run_ema"][:, 0], r["run_ema"][:, 1], color=GREEN, lw=1.3)
    ax_p.plot(r["run_polyak"][:, 0], r["run_polyak"][:, 1], color=ORANGE, lw=1.8)
    ax_p.plot([0], [0], "k*", ms=11, label="minimum θ*")
    lim = 3.2
    ax_p.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="stiffest coordinate (λ = 1)")
    ax_p.set(xticks=PLANE_TICKS, yticks=PLANE_TICKS)
    ax_p.set_ylabel(f"flattest coordinate (λ = {1 / KAPPA:g})")
    ax_p.set_title("one run (EMA, Polyak: colours as right)", fontsize=10)
    # the averages' colours are named by the right panel's legend
    ax_p.legend(
        loc="upper left", fontsize=10, framealpha=0.9, handlelength=1.2, borderpad=0.3, labelspacing=0.2
    )

    # the losses as log10 values on linear axes with fixed ticks: a log-log plot without log scales to set up
    t = np.arange(1, r["last"].size + 1)
    log_t = np.log10(t)
    lo, hi = 1e-3, 2 * r["initial"]

    def log_loss(v: np.ndarray) -> np.ndarray:
        return np.log10(np.clip(v, lo, hi))

    ax_l.plot(log_t, log_loss(r["last"]), color=BLUE, lw=1.8, label="last iterate")
    ax_l.plot(log_t, log_loss(r["ema"]), color=GREEN, lw=1.8, label=f"EMA, βₑₘₐ = {r['decay']:g}")
    ax_l.plot(log_t, log_loss(r["polyak"]), color=ORANGE, lw=1.8, label="Polyak")
    ax_l.axhline(np.log10(r["floor"]), color=BLUE, ls="--", lw=0.9)
    ax_l.axhline(np.log10(r["ema_floor"]), color=GREEN, ls="--", lw=0.9)
    ax_l.plot(log_t, log_loss(r["asymptote"]), color=ORANGE, ls=":", lw=1.2, label="Polyak–Ruppert limit")
    ax_l.set(ylim=(np.log10(lo), np.log10(hi)), xlim=(0, log_t[-1]), xlabel="step t")
    log10_ticks(ax_l.xaxis, STEP_TICKS, labels="decimal")
    log10_ticks(ax_l.yaxis, LOSS_TICKS, labels="decimal")
    ax_l.set_ylabel("expected loss E[L]")
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
