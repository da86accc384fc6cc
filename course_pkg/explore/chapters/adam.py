"""Explorable of the chapter "Adam and its family".

Adam (torch's form, ε added after the square root, g_t the gradient at θ_{t−1}, operations elementwise):

    m_t = β₁ m_{t−1} + (1 − β₁) g_t,    v_t = β₂ v_{t−1} + (1 − β₂) g_t²,
    m̂_t = m_t / (1 − β₁ᵗ),    v̂_t = v_t / (1 − β₂ᵗ),    θ_t = θ_{t−1} − η_t m̂_t / (√v̂_t + ε)

with m_0 = v_0 = 0. Without bias correction m̂_t, v̂_t are replaced by m_t, v_t. With a linear warmup of W steps,
η_t = η min(1, t/W) (the runs: :func:`course_pkg.experiments.adam.adam_run`).

:func:`adam_dynamics`: β₁, β₂, bias correction and warmup length → trajectory on a noisy ill-conditioned quadratic,
the size of every step per coordinate, and the loss.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from course_pkg.experiments.adam import adam_run
from course_pkg.explore import Choice, Explorable, Toggle, contour_lines, draw_lines, plain_log_ticks

__all__ = ["adam_dynamics", "EXPLORABLES"]

QUAD_EIGS = np.array([1.0, 0.01])
THETA0 = np.array([1.5, 2.0])
LR = 0.05
NOISE = 0.05
STEPS = 300


def _noisy_quadratic(seed: int = 0) -> Any:
    noise = NOISE * np.random.default_rng(seed).standard_normal((STEPS, 2))
    return lambda theta, t: QUAD_EIGS * theta + noise[t - 1]


@functools.cache
def _default_run() -> dict[str, np.ndarray]:
    """The run at the defaults (drawn grey in every frame): the same for every frame, computed once."""
    run = adam_run(_noisy_quadratic(), THETA0, STEPS, LR, 0.9, 0.999, 1e-8, True, 0)
    for values in run.values():
        values.flags.writeable = False  # shared by every frame
    return run


def _compute(beta1: float, beta2: float, bias_correction: bool, warmup: int) -> dict[str, Any]:
    run = adam_run(_noisy_quadratic(), THETA0, STEPS, LR, beta1, beta2, 1e-8, bias_correction, warmup)
    ref = _default_run()
    th = run["theta"]
    return {
        "beta1": beta1,
        "beta2": beta2,
        "bias_correction": bias_correction,
        "warmup": warmup,
        "theta": th,
        "step": run["step"],
        "lr": run["lr"],
        "loss": 0.5 * (th**2 * QUAD_EIGS).sum(axis=1),
        "ref_theta": ref["theta"],
        "ref_loss": 0.5 * (ref["theta"] ** 2 * QUAD_EIGS).sum(axis=1),
    }


@functools.cache
def _contours() -> tuple[np.ndarray, ...]:
    """Contour lines of the quadratic over the trajectory panel: the same in every frame, computed once."""
    X, Y = np.meshgrid(np.linspace(-2.5, 2.5, 61), np.linspace(-1.0, 3.0, 61))
    return contour_lines(X, Y, 0.5 * (X**2 + 0.01 * Y**2), np.geomspace(1e-4, 3, 12))


def _draw(result: dict[str, Any], fig: Any) -> None:
    ax1, ax2, ax3 = fig.subplots(1, 3)
    draw_lines(ax1, _contours(), "0.75", 0.7)
    ref, th = result["ref_theta"], result["theta"]
    ax1.plot(ref[:, 0], ref[:, 1], "-", color="0.5", lw=0.8)
    ax1.plot(th[:, 0], th[:, 1], "-", color="C0", lw=0.8)
    ax1.plot(0, 0, "r*", ms=10)
    ax1.set_xlim(-2.5, 2.5)
    ax1.set_ylim(-1.0, 3.0)
    ax1.set_xticks([-2, 0, 2], ["−2", "0", "2"])
    ax1.set_yticks([0, 1, 2, 3])
    ax1.set_xlabel("θ₁ (curvature 1)")
    ax1.set_ylabel("θ₂ (curvature 0.01)")
    corr = "with" if result["bias_correction"] else "without"
    ax1.set_title(
        f"β₁ = {result['beta1']:g}, β₂ = {result['beta2']:g}, warmup {result['warmup']}\n{corr} bias correction",
        fontsize=10,
    )
    # the key where no trajectory goes (they run from (1.5, 2) towards the origin), cheaper than a legend
    ax1.text(
        0.04,
        0.97,
        "grey: defaults",
        color="0.35",
        fontsize=10,
        va="top",
        transform=ax1.transAxes,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5},
    )
    t = np.arange(1, th.shape[0])
    ax2.set_xscale("log")  # once: loglog would set both scales again for every curve
    ax2.set_yscale("log")
    for j, c in enumerate(["C1", "C2"]):
        ax2.plot(t, np.abs(result["step"][:, j]) / LR, color=c, lw=1, label=f"|Δθ{'₁₂'[j]}| / η")
    ax2.plot(t, result["lr"] / LR, "k--", lw=0.8, label="ηₜ / η (warmup)")
    ax2.set_ylim(1e-5, 1e2)  # room for the legend under the curves
    plain_log_ticks(ax2.xaxis, labels="decimal", numticks=6)
    plain_log_ticks(ax2.yaxis)
    ax2.set_yticks([1e-4, 1e-2, 1.0, 1e2], ["0.0001", "0.01", "1", "100"])
    ax2.set_xlabel("step t")
    ax2.set_ylabel("step size in units of η")
    ax2.set_title(f"step sizes (η = {LR})", fontsize=10, y=1.0)
    ax2.legend(fontsize=10, loc="lower left")
    ax3.set_yscale("log")
    ax3.plot(result["ref_loss"], color="0.5", lw=0.8)
    ax3.plot(result["loss"], color="C0")
    ax3.set_ylim(1e-8, 10.0)
    plain_log_ticks(ax3.yaxis)
    ax3.set_yticks([1e-8, 1e-6, 1e-4, 1e-2, 1.0], ["1e-8", "1e-6", "0.0001", "0.01", "1"])
    ax3.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10], integer=True))
    ax3.set_xlabel("step t")
    ax3.set_ylabel("loss L(θₜ)")
    ax3.set_title("loss (grey: defaults)", fontsize=10, y=1.0)


def adam_dynamics() -> Explorable:
    """β₁, β₂, bias correction and warmup → Adam's trajectory and effective step sizes."""
    return Explorable(
        name="adam-dynamics",
        title="Adam's moments, bias correction and warmup",
        params={
            "beta1": Choice([0.0, 0.5, 0.9], default=0.9, label="β₁"),
            "beta2": Choice([0.9, 0.99, 0.999], default=0.999, label="β₂"),
            "bias_correction": Toggle(default=True, label="bias correction"),
            "warmup": Choice([0, 20, 100], default=0, label="warmup steps W"),
        },
        compute=_compute,
        draw=_draw,
        figsize=(9.6, 3.8),
    )


EXPLORABLES = [adam_dynamics]
