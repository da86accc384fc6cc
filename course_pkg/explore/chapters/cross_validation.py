"""Explorables of the chapter "Cross-validation and model selection".

- :func:`folds_and_curve`: number of folds K and shuffle seed → the folds drawn, the K-fold CV curve against the
  true test curve over polynomial degrees (with the degree each selects), and the spread of the CV estimate
  across seeds for every K (the numbers: :mod:`course_pkg.experiments.cross_validation`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_pkg.experiments.cross_validation import (
    DEGREES,
    FOLDS,
    SEEDS,
    TRACKED_DEGREE,
    N,
    cv_curve,
    regression_data,
    spread_over_seeds,
    true_test_curve,
)
from course_pkg.explore import Choice, Explorable
from course_pkg.learning.cv import kfold_indices

__all__ = ["EXPLORABLES", "folds_and_curve"]


def _compute(k: int, seed: int) -> dict[str, Any]:
    x, _, _, _ = regression_data()
    k, seed = int(k), int(seed)
    order = np.argsort(x)
    assignment = np.zeros((k, N))
    for j, (_, va) in enumerate(kfold_indices(N, k, shuffle=True, seed=seed)):
        assignment[j, np.searchsorted(x[order], x[va])] = 1.0
    mean, se = cv_curve(k, seed)
    return {
        "k": k,
        "seed": seed,
        "assignment": assignment,
        "degrees": np.array(DEGREES),
        "cv_mean": mean,
        "cv_se": se,
        "test": true_test_curve(),
        "folds": np.array(FOLDS),
        "spread": spread_over_seeds(),
        "tracked_degree": TRACKED_DEGREE,
    }


_YLIM = (0.05, 5.0)  # of the CV-curve panel


def _draw(r: dict[str, Any], fig: Any) -> None:
    from matplotlib.collections import LineCollection
    from matplotlib.ticker import MaxNLocator, NullLocator

    ax1, ax2, ax3 = fig.subplots(1, 3, width_ratios=[1.0, 1.2, 1.0])
    ax1.imshow(r["assignment"], aspect="auto", cmap="Oranges", vmin=0, vmax=1.4, interpolation="nearest")
    ax1.set_xlabel(f"the n = {N} samples, by x")
    ax1.set_ylabel("fold")
    ax1.set_xticks([0, 10, 20, 30], ["0", "10", "20", "30"])
    # labels two digits wide in every frame (a figure space, U+2007, is a digit wide): the axes sit where the default
    # frame's layout put them, and a wider "40" pushed the "fold" label out of the figure
    ax1.set_yticks([0, r["k"] - 1], [f"{v:\u2007>2}" for v in (1, r["k"])])
    ax1.set_title(f"{r['k']} folds, seed {r['seed']}\n(dark: validation)", y=1.0)

    d = r["degrees"]
    mean, se = r["cv_mean"], r["cv_se"]
    ax2.set_yscale("log")
    ax2.plot(d, r["test"], "s-", color="C3", label="held-out test error")
    # the error bars (what ``errorbar`` draws: bars and caps, drawn as one collection and one line of markers)
    (cv_line,) = ax2.plot(d, mean, "o-", color="C0", label=f"{r['k']}-fold CV ± s.e.")
    ends = np.stack([mean - se, mean + se])
    ax2.add_collection(
        LineCollection(np.stack([np.stack([d, d], 1), ends.T], -1), colors="C0", linewidths=1.5)
    )
    ax2.plot(np.tile(d, 2), ends.ravel(), ls="none", marker="_", ms=4, mew=1.5, color="C0")
    ax2.plot([d[np.argmin(mean)]] * 2, _YLIM, color="C0", ls="--", lw=1, label="chosen by CV")
    ax2.plot([d[np.argmin(r["test"])]] * 2, _YLIM, color="C3", ls=":", lw=1, label="best on test")
    ax2.set_xlim(d[0] - 0.5, d[-1] + 0.5)
    ax2.set_ylim(_YLIM)
    ax2.set_xticks(d[::2], [str(v) for v in d[::2]])
    ax2.set_yticks([0.1, 1.0], ["10⁻¹", "10⁰"])
    ax2.yaxis.set_minor_locator(NullLocator())
    ax2.set_xlabel("polynomial degree")
    ax2.set_ylabel("mean squared error")
    ax2.set_title("CV curve vs test curve", y=1.0)
    ax2.legend(fontsize=10, loc="upper center")

    folds = r["folds"]
    pos = np.arange(len(folds))
    shuffles = r["spread"].shape[1]
    # the points as markers of one line (what scatter draws, s = 10 and 60 pt², edges 1.5 pt, at less cost)
    ax3.plot(np.repeat(pos, shuffles), np.ravel(r["spread"]), "o", ms=10**0.5, mew=1.5, color="C0", alpha=0.5)
    current = int(np.flatnonzero(folds == r["k"])[0])
    ax3.plot(
        [current],
        [r["spread"][current, r["seed"]]],
        "o",
        ms=60**0.5,
        mew=1.5,
        mfc="none",
        mec="black",
        zorder=3,
    )
    ax3.axhline(r["test"][r["tracked_degree"]], color="C3", label="held-out test error")
    ax3.set_xticks(pos, [str(k) if k < N else f"{k}\n(LOO)" for k in folds])
    ax3.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
    ax3.set_xlabel("number of folds K")
    ax3.set_ylabel(f"CV estimate, degree {r['tracked_degree']}")
    ax3.set_title("spread over 20 shuffles", y=1.0)
    ax3.legend(fontsize=10, loc="upper right")  # where "best" put it on every frame


def folds_and_curve() -> Explorable:
    """Number of folds × shuffle seed → folds, CV curve vs test curve, spread of the CV estimate.

    Returns
    -------
    Explorable
        30 frames (6 values of k × 5 seeds).
    """
    return Explorable(
        name="cv-folds-curve",
        title="K-fold cross-validation: the folds, the CV curve and its spread",
        params={
            "k": Choice(list(FOLDS), default=5, label="number of folds K"),
            "seed": Choice(list(SEEDS), default=0, label="shuffle seed"),
        },
        compute=_compute,
        draw=_draw,
        figsize=(8.1, 3.7),
    )


EXPLORABLES = [folds_and_curve]
