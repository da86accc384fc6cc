"""Explorable of the chapter "Choosing an optimizer" (its experiments are :mod:`course_pkg.experiments.choosing`).

- :func:`optimizer_race`: problem and a multiplier of the tuned learning rates → trajectories and loss curves of
  SGD, momentum, Adagrad, RMSprop and Adam, each at its own tuned η.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

# what the explorable uses, and (F401) names tests/course_pkg/test_explore_choosing.py still reads from here; they
# live in course_pkg.experiments.choosing, which chapters import
from course_pkg.experiments.choosing import (  # noqa: F401
    LR_EXPONENTS,
    PROBLEMS,
    TUNED_EXPONENTS,
    make_optimizer,
    optimal_value,
    run_landscape,
    train_digits_mlp,
    train_least_squares,
    tune_landscape,
    wilson_data,
)
from course_pkg.explore import Choice, Explorable, plain_log_ticks

__all__ = ["optimizer_race", "EXPLORABLES"]

# ------------------------------------------------------------------------------------------- explorable
_COLORS = {
    "SGD": "#1f77b4",
    "Momentum": "#ff7f0e",
    "Adagrad": "#2ca02c",
    "RMSprop": "#d62728",
    "Adam": "#9467bd",
}
_MULTIPLIERS = {0.32: -1, 1.0: 0, 3.2: 1}


@lru_cache(maxsize=8)
def _problem_runs(problem: str) -> dict[int, dict[str, Any]]:
    # all multipliers at once: the first frame of a problem pays, the others read the cache
    out = {}
    for offset in _MULTIPLIERS.values():
        race: dict[str, Any] = {"tuned": TUNED_EXPONENTS[problem], "lr": {}, "trajectories": {}, "gaps": {}}
        for name, k in TUNED_EXPONENTS[problem].items():
            race["trajectories"][name], race["gaps"][name] = run_landscape(problem, name, k + offset)
            race["lr"][name] = 10.0 ** ((k + offset) / 2)
        out[offset] = race
    return out


def _compute_race(problem: str, lr_multiplier: float) -> dict[str, Any]:
    race = _problem_runs(problem)[_MULTIPLIERS[lr_multiplier]]
    landscape, start = PROBLEMS[problem]
    X, Y, Z = landscape.grid(120)
    return {**race, "problem": problem, "multiplier": lr_multiplier, "grid": (X, Y, Z), "start": start,
            "minima": np.asarray(landscape.minima), "window": landscape.window,
            "l_star": optimal_value(landscape)}  # fmt: skip


def _draw_race(r: dict[str, Any], fig: Any) -> None:
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1, 1.1])
    X, Y, Z = r["grid"]
    levels = r["l_star"] + np.geomspace(1e-2, max(float(np.nanmax(Z) - r["l_star"]), 1.0), 25)
    ax1.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.6, alpha=0.6)
    for name, traj in r["trajectories"].items():
        ax1.plot(traj[:, 0], traj[:, 1], "-", color=_COLORS[name], lw=1.3, label=name)
    ax1.plot(*r["start"], "ko", ms=5)
    ax1.plot(r["minima"][:, 0], r["minima"][:, 1], "k*", ms=10)
    x0, x1, y0, y1 = r["window"]
    ax1.set_xlim(x0, x1)
    ax1.set_ylim(y0, y1)
    outside = [
        name
        for name, traj in r["trajectories"].items()
        if not (x0 <= traj[-1, 0] <= x1 and y0 <= traj[-1, 1] <= y1)
    ]
    if outside:  # a path that leaves the window would otherwise look like a missing racer
        ax1.text(0.02, 0.02, "ends outside the window:\n" + ", ".join(outside), transform=ax1.transAxes,
                 fontsize=10, color="0.2", backgroundcolor="white")  # fmt: skip
    ax1.set_xlabel("θ₁")
    ax1.set_ylabel("θ₂")
    ax1.set_title(f"{r['problem']}: every η = tuned × {r['multiplier']}", y=1.0)
    steps = None
    for name, gaps in r["gaps"].items():
        steps = np.arange(len(gaps))
        ax2.semilogy(
            steps, np.maximum(gaps, 1e-12), color=_COLORS[name], label=f"{name} (η = {r['lr'][name]:.2g})"
        )
    ax2.set_ylim(1e-12, None)
    ax2.set_xlabel("step t")
    ax2.set_ylabel("L(θₜ) − L*")
    ax2.set_title("optimality gap (log scale)", y=1.0)
    ax2.legend(fontsize=10, loc="lower left")
    plain_log_ticks(ax2.yaxis, labels="superscript")


def optimizer_race() -> Explorable:
    """Problem × learning-rate multiplier → trajectories and gaps of five optimizers, each at its tuned η.

    Returns
    -------
    Explorable
        9 frames (3 problems × 3 multipliers of the tuned learning rates: ÷√10, ×1, ×√10).
    """
    return Explorable(
        name="optimizer-race",
        title="A fair race: every optimizer at its own tuned learning rate",
        params={
            "problem": Choice(list(PROBLEMS), default="rosenbrock", label="problem"),
            "lr_multiplier": Choice(list(_MULTIPLIERS), default=1.0, label="η multiplier (× tuned)"),
        },
        compute=_compute_race,
        draw=_draw_race,
        figsize=(8.6, 3.9),
    )


EXPLORABLES: list[Callable[[], Explorable]] = [optimizer_race]
