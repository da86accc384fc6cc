r"""Explorable of the chapter "Learning-rate schedules and warmup".

- :func:`schedule_race`: a schedule, its peak learning rate :math:`\eta_0` and the gradient noise
  :math:`\sigma` → the learning-rate curve :math:`\eta_t` and the exact expected loss
  :math:`\mathbb E[L(\theta_t)]` of SGD on a noisy quadratic (plus one sampled run), against the constant
  rate :math:`\eta_0` and its noise floor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_pkg.experiments import schedules as X
from course_pkg.explore import Choice, Explorable, LogGrid, plain_log_ticks

__all__ = ["schedule_race", "EXPLORABLES", "HORIZON", "DIM", "KAPPA"]

#: Number of SGD steps T, dimension d and condition number κ of the noisy quadratic.
HORIZON = 300
DIM = 20
KAPPA = 10.0


def _compute_race(schedule: str, lr: float, sigma: float) -> dict[str, Any]:
    h = X.curvatures(DIM, KAPPA)
    theta0 = np.full(DIM, 2.0)
    etas = X.schedule_lrs(schedule, lr, HORIZON)
    const = np.full(HORIZON, lr)
    with np.errstate(over="ignore", invalid="ignore"):
        loss = X.expected_loss(etas, h, theta0, sigma)
        const_loss = X.expected_loss(const, h, theta0, sigma)
        sample = X.sgd_noisy_quadratic(etas, h, theta0, sigma, n_runs=1, seed=0)[0]
    stable = lr < 2.0 / h.max()
    return {
        "schedule": schedule,
        "lr": lr,
        "sigma": sigma,
        "etas": etas,
        "loss": loss,
        "const_loss": const_loss,
        "sample": sample,
        "floor": X.noise_floor(lr, h, sigma) if stable else np.nan,
        "initial": float(loss[0]),
    }


def _draw_race(r: dict[str, Any], fig: Any) -> None:
    ax_lr, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    t = np.arange(1, r["etas"].size + 1)
    ax_lr.plot(t, np.full_like(r["etas"], r["lr"]), color="0.6", lw=1.5, label="constant η₀")
    ax_lr.plot(t, r["etas"], color="C0", lw=2, label=r["schedule"])
    ax_lr.set_xlabel("step t")
    ax_lr.set_ylabel("learning rate ηₜ")
    ax_lr.set_ylim(0, 1.45 * r["lr"])  # room for the legend above the curves
    ax_lr.set_title("schedule")
    ax_lr.legend(loc="upper right", fontsize=10)

    steps = np.arange(r["loss"].size)
    lo, hi = 1e-4, 10 * r["initial"]
    clip = lambda v: np.clip(np.nan_to_num(v, nan=hi, posinf=hi), lo, hi)  # noqa: E731
    ax_loss.semilogy(steps, clip(r["sample"]), color="C0", lw=0.6, alpha=0.35, label="one SGD run")
    ax_loss.semilogy(steps, clip(r["const_loss"]), color="0.6", lw=1.5, label="constant η₀ (expected)")
    ax_loss.semilogy(steps, clip(r["loss"]), color="C0", lw=2, label=f"{r['schedule']} (expected)")
    if np.isfinite(r["floor"]):
        ax_loss.axhline(r["floor"], color="C3", ls="--", lw=1, label="noise floor of η₀")
    ax_loss.set_ylim(lo, hi)
    plain_log_ticks(ax_loss.yaxis)  # mathtext labels and minor log ticks cost more to lay out than the rest
    ax_loss.set_xlabel("step t")
    ax_loss.set_ylabel("loss L(θₜ)")
    final = r["loss"][-1]
    status = f"final E[L] = {final:.2e}" if np.isfinite(final) and final < hi else "diverges"
    ax_loss.set_title(f"noisy quadratic, σ = {r['sigma']:g}: {status}", fontsize=10)
    ax_loss.legend(loc="lower left", fontsize=10)


def schedule_race() -> Explorable:
    """Schedule, peak learning rate and gradient noise → η_t and the expected loss on a noisy quadratic."""
    return Explorable(
        name="schedules-noisy-quadratic",
        title="Learning-rate schedules on a noisy quadratic",
        params={
            "schedule": Choice(list(X.SCHEDULES), default="cosine", label="schedule"),
            "lr": LogGrid(0.05, 1.6, num=5, default=0.4, label="peak learning rate η₀"),
            "sigma": Choice([0.1, 1.0], default=1.0, label="gradient noise σ"),
        },
        compute=_compute_race,
        draw=_draw_race,
        figsize=(8.0, 3.8),
    )


EXPLORABLES = [schedule_race]
