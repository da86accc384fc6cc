"""Explorables of the part "Convexity and curvature".

- :func:`newton_vs_gd`: Newton's method (pure, or with Armijo backtracking) against gradient descent on the
  Rosenbrock valley, a non-quadratic valley whose floor bends; learning rate of gradient descent × valley steepness.
- :func:`worst_function`: gradient descent, accelerated gradient and conjugate gradients on Nesterov's worst
  function for first-order methods, against the lower bound; the iterate after k steps next to θ*.
- :func:`lbfgs_memory`: L-BFGS with m = 1 … 20 stored pairs against gradient descent and conjugate gradients on a
  random quadratic of condition number κ.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from course_pkg.curvature import accelerated_gradient, conjugate_gradient, newton, quadratic_gradient_descent
from course_pkg.experiments.curvature import (
    MEMORY_D,
    MEMORY_ITERATIONS,
    MEMORY_KAPPAS,
    MEMORY_SIZES,
    memory_curves,
    memory_runs,
    rosenbrock_hessian,
    worst_quadratic,
)
from course_pkg.explore import Choice, Explorable, LinGrid, LogGrid, Toggle, plain_log_ticks
from course_pkg.landscapes import gradient_descent, rosenbrock

BLUE = "#1f77b4"
ORANGE = "#d95f02"
GREEN = "#1b9e77"
GREY = "#8c8c8c"

#: Iterations shown for each method in :func:`newton_vs_gd`.
VALLEY_STEPS = 150
VALLEY_START = (-1.2, 1.0)  # the classical start on the far side of the bend


def _compute_newton_vs_gd(lr: float, steepness: float, line_search: bool) -> dict[str, Any]:
    ls = rosenbrock(b=float(steepness))
    start = np.array(VALLEY_START)
    gd = gradient_descent(ls.gradient, start, lr, VALLEY_STEPS)
    nt = newton(
        ls.gradient,
        lambda th: rosenbrock_hessian(th, b=float(steepness)),
        start,
        VALLEY_STEPS,
        value=ls.value,
        line_search=bool(line_search),
    )
    with np.errstate(over="ignore", invalid="ignore"):
        gd_loss, nt_loss = ls.value(gd), ls.value(nt)
    xs, ys = np.linspace(-2.0, 2.0, 120), np.linspace(-1.0, 3.0, 120)
    X, Y = np.meshgrid(xs, ys)
    return {
        "lr": lr,
        "steepness": float(steepness),
        "line_search": bool(line_search),
        "gd": gd,
        "newton": nt,
        "gd_loss": gd_loss,
        "newton_loss": nt_loss,
        "grid": (X, Y, ls.value(np.stack([X, Y], axis=-1))),
    }


def _draw_newton_vs_gd(r: dict[str, Any], fig: Any) -> None:
    ax_path, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
    X, Y, Z = r["grid"]
    ax_path.contour(X, Y, Z, levels=np.geomspace(0.1, 2000, 10), colors=GREY, linewidths=0.6)
    for key, colour, label in (("gd", BLUE, "gradient descent"), ("newton", ORANGE, "Newton")):
        path = r[key]
        shown = np.all(np.isfinite(path), axis=1) & np.all(np.abs(path) < 10, axis=1)
        ax_path.plot(
            path[shown, 0],
            path[shown, 1],
            "-o",
            color=colour,
            ms=2 if key == "gd" else 3.5,
            lw=1,
            label=label,
        )
    ax_path.plot(*VALLEY_START, "s", color="k", ms=5)
    ax_path.plot(1, 1, "*", color=GREEN, ms=11)
    ax_path.set(xlim=(-2, 2), ylim=(-1, 3), xlabel="θ₁", ylabel="θ₂")
    ax_path.legend(loc="lower right", fontsize=10)
    newton_kind = "Newton + Armijo backtracking" if r["line_search"] else "pure Newton (step 1)"
    ax_path.set_title(f"valley steepness b = {r['steepness']:g}\n{newton_kind}", fontsize=10, y=1.0)

    t = np.arange(VALLEY_STEPS + 1)
    for key, colour in (("gd_loss", BLUE), ("newton_loss", ORANGE)):
        loss = np.full(VALLEY_STEPS + 1, np.nan)
        values = np.where(np.isfinite(r[key]), r[key], np.nan)
        loss[: len(values)] = values
        if len(values) < len(loss):  # Newton stopped at the minimum (zero gradient)
            loss[len(values) :] = 0.0
        ax_loss.semilogy(t, np.clip(loss, 1e-16, 1e8), color=colour)
    ax_loss.set(ylim=(1e-16, 1e4), xlim=(0, VALLEY_STEPS), xlabel="iteration t", ylabel="L(θ_t) − L(θ*)")
    plain_log_ticks(ax_loss.yaxis)
    ax_loss.set_title(f"gradient descent with η = {r['lr']:.2g}", fontsize=10, y=1.0)
    ax_loss.grid(alpha=0.3)


def newton_vs_gd() -> Explorable:
    """Newton vs gradient descent on the Rosenbrock valley L = (1 − θ₁)² + b (θ₂ − θ₁²)²."""
    return Explorable(
        name="curvature-newton-gd",
        title="Newton's method vs gradient descent in a curved valley",
        params={
            "lr": LogGrid(1e-4, 1e-2, num=9, default=1e-3, label="learning rate η (gradient descent)"),
            "steepness": Choice([10, 100], default=100, label="valley steepness b"),
            "line_search": Toggle(default=True, label="Newton with backtracking line search"),
        },
        compute=_compute_newton_vs_gd,
        draw=_draw_newton_vs_gd,
        figsize=(8.0, 3.8),
    )


def _compute_lbfgs_memory(memory: int, kappa: float) -> dict[str, Any]:
    key = (int(memory), float(kappa))
    curves = memory_runs()[key] if key in memory_runs() else memory_curves(*key)
    return {"memory": key[0], "kappa": key[1], **curves}


def _draw_lbfgs_memory(r: dict[str, Any], fig: Any) -> None:
    ax = fig.subplots()
    for key, colour, label in (
        ("gd", BLUE, "gradient descent, η = 2/(μ+M)"),
        ("cg", GREEN, "conjugate gradients"),
        ("lbfgs", ORANGE, f"L-BFGS, m = {r['memory']}"),
    ):
        errors = np.maximum(r[key], 1e-16)
        ax.semilogy(
            np.arange(len(errors)), errors, color=colour, lw=1.8 if key == "lbfgs" else 1.2, label=label
        )
    ax.set(
        ylim=(1e-13, 2), xlim=(0, MEMORY_ITERATIONS), xlabel="iteration k", ylabel="‖θ_k − θ*‖ / ‖θ_0 − θ*‖"
    )
    plain_log_ticks(ax.yaxis)
    # under the axes: no corner of the plot is free of curves for every m and κ
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), fontsize=10, frameon=False)
    ax.set_title(f"random quadratic, d = {MEMORY_D}, κ = {r['kappa']:g}", fontsize=10, y=1.0)
    ax.grid(alpha=0.3)


def lbfgs_memory() -> Explorable:
    """L-BFGS memory m × condition number κ on a random quadratic, against gradient descent and CG."""
    return Explorable(
        name="curvature-lbfgs-memory",
        title="L-BFGS: how much memory does it need?",
        params={
            "memory": Choice(list(MEMORY_SIZES), default=5, label="memory m (stored pairs)"),
            "kappa": Choice(list(MEMORY_KAPPAS), default=100, label="condition number κ"),
        },
        compute=_compute_lbfgs_memory,
        draw=_draw_lbfgs_memory,
        figsize=(4.8, 4.6),
    )


#: Dimension, iterations and coordinates shown by :func:`worst_function`.
WORST_D, WORST_STEPS, WORST_SHOWN = 200, 150, 40


@functools.cache
def _worst_runs(kappa: float) -> dict[str, Any]:
    """The three methods' paths on Nesterov's worst function of condition number κ (they do not depend on k)."""
    problem = worst_quadratic(WORST_D, kappa)
    theta0 = np.zeros(WORST_D)
    paths = {
        "gd": quadratic_gradient_descent(
            problem.A, problem.b, theta0, 2 / (problem.mu + problem.M), WORST_STEPS
        ),
        "agd": accelerated_gradient(problem.A, problem.b, theta0, problem.mu, problem.M, WORST_STEPS),
        "cg": conjugate_gradient(problem.A, problem.b, theta0, tol=0.0, max_iter=WORST_STEPS),
    }
    start = np.linalg.norm(problem.theta_star)
    q = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    return {
        "errors": {m: np.linalg.norm(p - problem.theta_star, axis=1) / start for m, p in paths.items()},
        "bound": q ** np.arange(WORST_STEPS + 1),
        "theta_star": problem.theta_star[:WORST_SHOWN],
        "shown": {m: p[:, :WORST_SHOWN] for m, p in paths.items()},
    }


def _compute_worst_function(kappa: float, k: float) -> dict[str, Any]:
    runs = _worst_runs(float(kappa))
    k = int(k)
    return {
        "kappa": float(kappa),
        "k": k,
        "errors": runs["errors"],
        "bound": runs["bound"],
        "theta_star": runs["theta_star"],
        "iterates": {m: p[min(k, len(p) - 1)] for m, p in runs["shown"].items()},
    }


_WORST_STYLE = {
    "gd": (BLUE, "gradient descent"),
    "agd": (GREY, "accelerated gradient"),
    "cg": (ORANGE, "conjugate gradients"),
}


def _draw_worst_function(r: dict[str, Any], fig: Any) -> None:
    ax_err, ax_coord = fig.subplots(1, 2)
    t = np.arange(WORST_STEPS + 1)
    ax_err.semilogy(t, r["bound"], "k--", lw=1, label="lower bound q^k")
    for m, (colour, label) in _WORST_STYLE.items():
        errors = r["errors"][m]
        ax_err.semilogy(np.arange(len(errors)), np.maximum(errors, 1e-16), color=colour, label=label)
    ax_err.axvline(r["k"], color=GREEN, lw=0.8, ls=":")
    ax_err.set(ylim=(1e-8, 2), xlim=(0, WORST_STEPS), xlabel="iteration k", ylabel="‖θ_k − θ*‖ / ‖θ*‖")
    plain_log_ticks(ax_err.yaxis)
    ax_err.legend(loc="lower left", fontsize=10)
    ax_err.set_title(f"Nesterov's worst function, κ = {r['kappa']:g}", fontsize=10, y=1.0)
    ax_err.grid(alpha=0.3)

    i = np.arange(1, WORST_SHOWN + 1)
    ax_coord.plot(i, r["theta_star"], "*", color=GREEN, ms=5, label="θ*")
    for m, (colour, label) in _WORST_STYLE.items():
        ax_coord.plot(i, r["iterates"][m], "-", color=colour, lw=1.2, label=f"{label}, θ_k")
    ax_coord.axvspan(r["k"] + 0.5, WORST_SHOWN + 0.5, color=GREY, alpha=0.12)
    ax_coord.set(xlim=(0.5, WORST_SHOWN + 0.5), ylim=(-0.05, 1.05), xlabel="coordinate i", ylabel="θ_i")
    ax_coord.set_title(f"after k = {r['k']} steps:\nzero beyond coordinate k (shaded)", fontsize=10, y=1.0)
    ax_coord.grid(alpha=0.3)


def worst_function() -> Explorable:
    """First-order methods on Nesterov's worst function: errors against the lower bound, and the k-th iterate."""
    return Explorable(
        name="curvature-worst-function",
        title="The first-order lower bound: one coordinate per gradient",
        params={
            "kappa": Choice([10, 100, 1000], default=100, label="condition number κ"),
            "k": LinGrid(0, 40, num=11, default=12, label="iteration k"),
        },
        compute=_compute_worst_function,
        draw=_draw_worst_function,
        figsize=(8.0, 3.7),
    )


EXPLORABLES = [worst_function, newton_vs_gd, lbfgs_memory]
