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
from course_pkg.explore import Choice, Explorable, contour_lines, draw_lines, log10_ticks

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
#: Ticks of the optimality gap's log axis: every fourth power of ten.
GAP_EXPONENTS = np.arange(-12, 13, 4)


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


@lru_cache(maxsize=8)
def _contour_lines(problem: str) -> tuple[list[np.ndarray], np.ndarray]:
    """The level lines of a problem's loss over its window, and their colours (computed once per problem).

    The levels are L* + 25 log-spaced offsets from 10⁻² to the largest loss in the window; coloured by viridis,
    scaled linearly from the lowest to the highest level (what ``ax.contour(..., cmap="viridis")`` draws).
    """
    from matplotlib import colormaps

    landscape, _ = PROBLEMS[problem]
    X, Y, Z = landscape.grid(120)
    l_star = optimal_value(landscape)
    levels = l_star + np.geomspace(1e-2, max(float(np.nanmax(Z) - l_star), 1.0), 25)
    segments, of_level = contour_lines(X, Y, Z, levels, with_levels=True)
    return list(segments), colormaps["viridis"]((of_level - levels[0]) / (levels[-1] - levels[0]))


def _compute_race(problem: str, lr_multiplier: float) -> dict[str, Any]:
    race = _problem_runs(problem)[_MULTIPLIERS[lr_multiplier]]
    landscape, start = PROBLEMS[problem]
    return {**race, "problem": problem, "multiplier": lr_multiplier, "contours": _contour_lines(problem),
            "start": start, "minima": np.asarray(landscape.minima), "window": landscape.window}  # fmt: skip


def _draw_race(r: dict[str, Any], fig: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1, 1.1])
    segments, colors = r["contours"]
    draw_lines(ax1, segments, colors, linewidths=0.6, alpha=0.6)
    for name, traj in r["trajectories"].items():
        ax1.plot(traj[:, 0], traj[:, 1], "-", color=_COLORS[name], lw=1.3)
    ax1.plot(*r["start"], "ko", ms=5)
    ax1.plot(r["minima"][:, 0], r["minima"][:, 1], "k*", ms=10)
    x0, x1, y0, y1 = r["window"]
    ax1.set_xlim(x0, x1)
    ax1.set_ylim(y0, y1)
    ax1.xaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
    ax1.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
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
    # the gaps as log10 values on a linear axis with fixed ticks: a log plot without a log scale to set up
    top = -12.0
    for name, gaps in r["gaps"].items():
        with np.errstate(divide="ignore", invalid="ignore"):
            log_gaps = np.log10(np.maximum(gaps, 1e-12))
        finite = log_gaps[np.isfinite(log_gaps)]
        top = max(top, float(finite.max())) if finite.size else top
        ax2.plot(
            np.arange(len(gaps)), log_gaps, color=_COLORS[name], label=f"{name} (η = {r['lr'][name]:.2g})"
        )
    log10_ticks(ax2.yaxis, 10.0**GAP_EXPONENTS)
    ax2.set_ylim(
        -12, top + 0.05 * (top + 12) if top > -12 else -11
    )  # the data's top, plus autoscale's margin
    ax2.xaxis.set_major_locator(MaxNLocator(4))
    ax2.set_xlabel("step t")
    ax2.set_ylabel("L(θₜ) − L*")
    ax2.set_title("optimality gap (log scale)", y=1.0)
    ax2.legend(fontsize=10, loc="lower left")


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
