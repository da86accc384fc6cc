"""Explorables of the chapter "Bias–variance decomposition".

- :func:`capacity_noise_n`: polynomial degree (capacity), noise level σ and training-set size n → the cloud of
  polynomials fitted to fresh training sets around the true function, the stacked bias²/variance/noise bars
  with the measured expected error, and bias², variance and total error against the degree (the decompositions:
  :func:`course_pkg.experiments.bias_variance.decompositions_by_degree`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.legend_handler import HandlerTuple
from matplotlib.ticker import MaxNLocator

from course_pkg.experiments.bias_variance import DEGREES, X_TEST, decompositions_by_degree, true_function
from course_pkg.explore import Choice, Explorable, plain_log_ticks

__all__ = ["capacity_noise_n", "EXPLORABLES"]


def _compute(degree: int, sigma: float, n: int) -> dict[str, Any]:
    sweep = decompositions_by_degree(float(sigma), int(n))
    res = sweep[int(degree)]
    rng = np.random.default_rng(1)
    x_example = rng.uniform(0.0, 1.0, size=n)
    return {
        "degree": int(degree),
        "sigma": float(sigma),
        "n": int(n),
        "x": X_TEST,
        "f": res.f_test,
        "fits": res.predictions[:25],
        "mean_fit": res.mean_prediction,
        "x_example": x_example,
        "y_example": true_function(x_example) + sigma * rng.standard_normal(n),
        "parts": (res.bias2, res.variance, res.noise),
        "measured": res.expected_error,
        "degrees": np.array(DEGREES),
        "bias2_curve": np.array([sweep[d].bias2 for d in DEGREES]),
        "variance_curve": np.array([sweep[d].variance for d in DEGREES]),
        "error_curve": np.array([sweep[d].expected_error for d in DEGREES]),
    }


_COLORS = {"bias²": "#1f77b4", "variance": "#ff7f0e", "noise": "#7f7f7f"}
_DEGREE_LIM = (min(DEGREES) - 0.5, max(DEGREES) + 0.5)


def _short(value: float) -> str:
    """At most 5 digits: ``0.114``, ``47.57``, ``52616`` (the key stays inside its panel at every frame)."""
    return f"{value:.3f}" if value < 10 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _draw(r: dict[str, Any], fig: Any) -> None:
    ax1, ax2, ax3 = fig.subplots(1, 3, width_ratios=[1.5, 0.9, 1.2])
    if (layout := fig.get_layout_engine()) is not None:
        # gaps wide enough for the widest tick labels and legend of any frame, so that panels can be cut apart
        layout.set(wspace=0.08)
    # one collection for the 25 fits (each drawn on its own, so overlaps still darken as with 25 lines)
    # straight fits (degree ≤ 1) as their two end points: Agg draws a run of collinear points with joins so
    # ill-conditioned that the last-bit noise of constrained layout changes ~100 pixels from run to run
    ends = [0, -1] if r["degree"] <= 1 else slice(None)
    x, fits, mean_fit = r["x"][ends], r["fits"][:, ends], r["mean_fit"][ends]
    segments = np.stack([np.broadcast_to(x, fits.shape), fits], axis=-1)
    ax1.add_collection(LineCollection(segments, colors="#ff7f0e", alpha=0.25, linewidths=0.8))
    ax1.plot(r["x"], r["f"], color="black", lw=2, label="true f(x)")
    ax1.plot(x, mean_fit, color="#1f77b4", lw=2, ls="--", label="mean fit f̄(x)")
    ax1.scatter(
        r["x_example"], r["y_example"], s=10, color="black", alpha=0.5, zorder=3, label="one training set"
    )
    ax1.set_xlim(-0.05, 1.05)
    ax1.set_ylim(-2.5, 2.5)
    ax1.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])
    ax1.set_yticks([-2, -1, 0, 1, 2], ["−2", "−1", "0", "1", "2"])
    ax1.set_xlabel("x")
    ax1.set_ylabel("y")
    ax1.set_title(f"25 fits, degree {r['degree']}, n = {r['n']}, σ = {r['sigma']}", y=1.0)
    ax1.legend(loc="lower left", fontsize=10)

    # the three parts stacked, in one bar call
    parts = np.array(r["parts"])
    bars = ax2.bar(
        [0, 0, 0],
        parts,
        bottom=np.concatenate([[0.0], np.cumsum(parts)[:-1]]),
        color=list(_COLORS.values()),
        width=0.6,
    )
    (measured,) = ax2.plot([-0.4, 0.4], [r["measured"]] * 2, color="red", lw=2)
    ax2.set_xlim(-0.6, 0.6)
    ax2.set_xticks([])
    ax2.set_ylim(0, max(1.8 * parts.sum(), 1.8 * r["measured"], 0.1))  # room for the legend above the bar
    ax2.yaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
    ax2.set_ylabel("expected squared error")
    ax2.set_title("decomposition", y=1.0)

    d = r["degrees"]
    curves = (r["bias2_curve"], r["variance_curve"], r["error_curve"])
    ax3.set_yscale("log")
    (bias2,) = ax3.plot(d, curves[0], "o-", color=_COLORS["bias²"])
    (variance,) = ax3.plot(d, curves[1], "s-", color=_COLORS["variance"])
    (error,) = ax3.plot(d, curves[2], "^-", color="red")
    noise = r["sigma"] ** 2
    (noise_line,) = ax3.plot(_DEGREE_LIM, [noise, noise], color=_COLORS["noise"], ls=":")
    # the limits autoscaling would give (5 % margins in log space), so that the degree marker spans them
    lo, hi = (
        np.log10(min(noise, *(c.min() for c in curves))),
        np.log10(max(noise, *(c.max() for c in curves))),
    )
    ylim = 10.0 ** np.array([lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)])
    ax3.plot([r["degree"]] * 2, ylim, color="black", lw=0.8)
    ax3.set_xlim(_DEGREE_LIM)
    ax3.set_ylim(ylim)
    ax3.set_xticks([0, 3, 5, 7, 9], ["0", "3", "5", "7", "9"])
    ax3.set_xlabel("polynomial degree (capacity)")
    ax3.set_ylabel("average over x")
    ax3.set_title("the trade-off", y=1.0)
    plain_log_ticks(ax3.yaxis, labels="superscript")
    # one key for both panels: each entry shows the bar and the curve of its quantity
    labels = [f"{label} {_short(value)}" for label, value in zip(("bias²", "variance", "noise σ²"), parts)]
    ax2.legend(
        [(measured, error), *zip(bars, (bias2, variance, noise_line))],
        [f"error {_short(r['measured'])}", *labels],
        handler_map={tuple: HandlerTuple(ndivide=None, pad=0.5)},
        handlelength=3.6,
        fontsize=10,
        loc="upper center",
    )


def capacity_noise_n() -> Explorable:
    """Degree, noise σ and sample size n → fitted curves, decomposition bars and the trade-off curve.

    Returns
    -------
    Explorable
        72 frames (8 degrees × 3 noise levels × 3 sizes).
    """
    return Explorable(
        name="bias-variance-capacity",
        title="Bias² and variance against capacity, noise and sample size",
        params={
            "degree": Choice(list(DEGREES), default=3, label="polynomial degree"),
            "sigma": Choice([0.1, 0.3, 0.6], default=0.3, label="noise σ"),
            "n": Choice([15, 30, 60], default=30, label="training set size n"),
        },
        compute=_compute,
        draw=_draw,
        figsize=(9, 3.7),
    )


EXPLORABLES = [capacity_noise_n]
