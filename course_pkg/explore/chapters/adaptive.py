"""Explorables of the chapter "Adaptive learning rates: Adagrad, RMSprop, AdaDelta".

The update rules and what "effective learning rate" means are stated once, in :mod:`course_pkg.experiments.adaptive`.

:func:`effective_lr`: problem (ill-conditioned quadratic or a sparse-feature regression stream), method and η →
trajectory, error per coordinate (against plain SGD), and the effective learning rate of each coordinate over time
(the problems and runs: :mod:`course_pkg.experiments.adaptive`).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from course_pkg.experiments.adaptive import adaptive_run, quadratic_problem, sparse_problem
from course_pkg.explore import Choice, Explorable, contour_lines, draw_lines, plain_log_ticks

__all__ = ["effective_lr", "EXPLORABLES"]


@functools.lru_cache(maxsize=16)
def _reference_run(problem: str, method: str, lr: float) -> dict[str, Any]:
    """The SGD reference of a frame: it depends only on the problem and its η, so every method shares it."""
    prob = quadratic_problem() if problem == "quadratic" else sparse_problem()
    run = adaptive_run(method, lr, prob["gradients"], prob["theta0"], prob["steps"])
    for value in run.values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return run


def _compute(problem: str, method: str, lr: float) -> dict[str, Any]:
    prob = quadratic_problem() if problem == "quadratic" else sparse_problem()
    run = adaptive_run(method, lr, prob["gradients"], prob["theta0"], prob["steps"])
    # reference: plain SGD with the same η (Adadelta's lr is a multiplier: use η = 0.1), constant on the
    # deterministic quadratic, decaying like η/√t on the noisy stream (what online convergence needs)
    sgd_lr = lr if method != "Adadelta" else 0.1
    ref_method = "SGD" if problem == "quadratic" else "SGD-sqrt"
    ref = _reference_run(problem, ref_method, float(sgd_lr))
    return {
        "problem": problem,
        "method": method,
        "lr": lr,
        "sgd_lr": sgd_lr,
        "sgd_label": f"SGD, η = {sgd_lr:.3g}" if problem == "quadratic" else f"SGD, η/√t, η = {sgd_lr:.3g}",
        "theta": run["theta"],
        "eff_lr": run["eff_lr"],
        "sgd_theta": ref["theta"],
        "theta_star": prob["theta_star"],
    }


@functools.cache
def _quadratic_contours() -> tuple[np.ndarray, ...]:
    """Contour lines of L(θ) = ½ (θ₁² + 0.01 θ₂²) over the trajectory panel: the same in every frame."""
    X, Y = np.meshgrid(np.linspace(-1.5, 1.5, 61), np.linspace(-0.5, 1.5, 61))
    return contour_lines(X, Y, 0.5 * (X**2 + 0.01 * Y**2), np.geomspace(1e-4, 1.2, 12))


def _draw(result: dict[str, Any], fig: Any) -> None:
    ax1, ax2, ax3 = fig.subplots(1, 3)
    th, ts = result["theta"], result["theta_star"]
    with np.errstate(over="ignore", invalid="ignore"):
        if result["problem"] == "quadratic":
            draw_lines(ax1, _quadratic_contours(), "0.75", 0.7)
            ax1.set_xlim(-1.5, 1.5)
            ax1.set_ylim(-0.5, 1.5)
            ax1.set_xticks([-1, 0, 1], ["−1", "0", "1"])
            ax1.set_yticks([0, 1], ["0", "1"])
            names = ["θ₁ (curvature 1)", "θ₂ (curvature 0.01)"]
        else:
            ax1.set_xlim(-0.5, 2.5)
            ax1.set_ylim(-0.5, 3.0)
            ax1.set_xticks([0, 1, 2])
            ax1.set_yticks([0, 1, 2, 3])
            names = ["θ₁ (dense feature)", "θ₂ (rare feature, 5%)"]
        ax1.plot(result["sgd_theta"][:, 0], result["sgd_theta"][:, 1], "-", color="0.5", lw=0.8)
        ax1.plot(th[:, 0], th[:, 1], "-", color="C0", lw=0.8)
        ax1.plot(*ts, "r*", ms=10)
        ax1.set_xlabel(names[0])
        ax1.set_ylabel(names[1])
        # the key in the title: a legend would cover the trajectories, which may cross the whole panel
        ax1.set_title(
            f"blue: {result['method']}, η = {result['lr']:.3g}\ngrey: {result['sgd_label']}",
            fontsize=10,
            y=1.0,
        )
        # the colours of the two coordinates are the same in the middle and right panels: one legend for both
        t = np.arange(th.shape[0])
        ax2.set_yscale("log")  # once: semilogy would set it again for every curve
        for j, c in enumerate(["C1", "C2"]):
            err = np.abs(th[:, j] - ts[j])
            ax2.plot(t, np.where(np.isfinite(err), err, np.nan), color=c, label=names[j])
            ax2.plot(
                t,
                np.abs(result["sgd_theta"][:, j] - ts[j]),
                color=c,
                ls=":",
                lw=1,
            )
        ax2.set_ylim(1e-12, 1e2)  # room for the legend under the curves
        plain_log_ticks(ax2.yaxis)
        ax2.set_yticks([1e-12, 1e-8, 1e-4, 1.0], ["1e-12", "1e-8", "1e-4", "1"])
        ax2.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10], integer=True))
        ax2.set_xlabel("step t")
        ax2.set_ylabel("|θⱼ − θ*ⱼ|")
        ax2.set_title("error per coordinate\n(dotted: SGD)", fontsize=10, y=1.0)
        ax2.legend(fontsize=10, loc="lower left")
        # log-spaced subsample of the steps: the curves are smooth on a log axis
        te = np.unique(np.geomspace(1, th.shape[0] - 1, 200).astype(int))
        ax3.set_xscale("log")
        ax3.set_yscale("log")
        for j, c in enumerate(["C1", "C2"]):
            ax3.plot(te, result["eff_lr"][te - 1, j], color=c)
        ax3.axhline(result["lr"], color="k", ls="--", lw=0.8)
        ax3.set_ylim(1e-4, 1e4)
        plain_log_ticks(ax3.xaxis)
        ax3.set_xticks([1, 10, 100, 1000], ["1", "10", "100", "1000"])  # 1000: only on the 1000-step stream
        plain_log_ticks(ax3.yaxis)
        ax3.set_yticks([1e-4, 1e-2, 1.0, 1e2, 1e4], ["0.0001", "0.01", "1", "100", "10000"])
        ax3.set_xlabel("step t")
        ax3.set_ylabel("effective learning rate")
        ax3.set_title("effective η per coordinate\n(dashed: η)", fontsize=10, y=1.0)


def effective_lr() -> Explorable:
    """Per-coordinate effective learning rates of Adagrad, RMSprop and Adadelta over time."""
    return Explorable(
        name="adaptive-effective-lr",
        title="Per-coordinate effective learning rates",
        params={
            "problem": Choice(["quadratic", "sparse"], default="quadratic", label="problem"),
            "method": Choice(["Adagrad", "RMSprop", "Adadelta"], default="Adagrad", label="method"),
            "lr": Choice([0.01, 0.03, 0.1, 0.3, 1.0, 3.0], default=0.3, label="learning rate η"),
        },
        compute=_compute,
        draw=_draw,
        figsize=(9.6, 3.8),
    )


EXPLORABLES = [effective_lr]
