"""Explorables of the chapter "Empirical risk minimization and generalization".

- :func:`degree_sample_size`: polynomial degree (capacity) × training-set size n → the least-squares fit on the
  data, training vs test error against the degree (the generalization gap), and the learning curve (errors
  against n) of the chosen degree.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from course_pkg.data import default_regression_function, make_regression_1d
from course_pkg.explore import Choice, Explorable
from course_pkg.explore.core import superscript_power_label
from course_pkg.learning.erm import fit_polynomial, polynomial_risk_curves, predict_polynomial

__all__ = ["DEGREES", "NOISE", "SIZES", "EXPLORABLES", "degree_sample_size", "training_pool"]

#: Degrees offered (capacity axis).
DEGREES = (0, 1, 2, 3, 4, 5, 7, 9, 12)
#: Training-set sizes offered; the training set of size n is the first n points of one pool.
SIZES = (10, 20, 40, 80, 160)
#: Noise standard deviation σ of the targets.
NOISE = 0.3
_N_TEST = 2000
_X_PLOT = np.linspace(-1.0, 1.0, 200)
#: The x ranges of the error panels: autoscaling's 5 % margins, fixed (the markers of the current degree and
#: size span the panels' full heights).
_DEGREE_LIM = (-0.6, 12.6)
_SIZE_LIM = (10 / 16**0.05, 160 * 16**0.05)


@lru_cache(maxsize=1)
def training_pool() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fixed pool of training points (``max(SIZES)``) and the large test set, seeded.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x_pool, y_pool, x_test, y_test)``; the training set of size n is ``(x_pool[:n], y_pool[:n])``.
    """
    x, y = make_regression_1d(max(SIZES), noise=NOISE, seed=0)
    xt, yt = make_regression_1d(_N_TEST, noise=NOISE, seed=1)
    return x, y, xt, yt


@lru_cache(maxsize=len(SIZES))
def _curves(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, y, xt, yt = training_pool()
    c = polynomial_risk_curves(x[:n], y[:n], xt, yt, DEGREES)
    return c.train, c.test


def _compute(degree: int, n: int) -> dict[str, Any]:
    x, y, xt, yt = training_pool()
    degree, n = int(degree), int(n)
    theta = fit_polynomial(x[:n], y[:n], degree, basis="legendre")
    train, test = _curves(n)
    i = DEGREES.index(degree)
    by_n = np.array([_curves(m) for m in SIZES])  # (len(SIZES), 2, len(DEGREES))
    return {
        "degree": degree,
        "n": n,
        "x": x[:n],
        "y": y[:n],
        "x_plot": _X_PLOT,
        "f_plot": default_regression_function(_X_PLOT),
        "fit_plot": predict_polynomial(theta, _X_PLOT, "legendre"),
        "degrees": np.array(DEGREES),
        "train": train,
        "test": test,
        "sizes": np.array(SIZES),
        "train_by_n": by_n[:, 0, i],
        "test_by_n": by_n[:, 1, i],
        "noise_var": NOISE**2,
    }


def _decade_ticks(axis: Any, lo: float, hi: float) -> None:
    """A label ``10ᵏ`` at every power of ten in [lo, hi] and no minor ticks: the ticks of
    :func:`~course_pkg.explore.plain_log_ticks`, fixed, with no locator to run at every draw."""
    from matplotlib.ticker import NullLocator

    powers = [10.0**k for k in range(math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9) + 1)]
    axis.set_ticks(powers, [superscript_power_label(v) for v in powers])
    axis.set_minor_locator(NullLocator())


def _draw(r: dict[str, Any], fig: Any) -> None:
    from matplotlib import ticker

    ax1, ax2, ax3 = fig.subplots(1, 3)
    ax1.scatter(r["x"], r["y"], s=14, color="black", alpha=0.7, label=f"training set (n = {r['n']})")
    ax1.plot(r["x_plot"], r["f_plot"], color="gray", lw=2, ls="--", label="true f(x)")
    ax1.plot(r["x_plot"], r["fit_plot"], color="C3", lw=2, label=f"ERM fit, degree {r['degree']}")
    ax1.set_xlim(-1.1, 1.1)
    ax1.set_ylim(-2.5, 2.5)
    ax1.set_xticks([-1, 0, 1], ["−1", "0", "1"])
    ax1.set_yticks([-2, 0, 2], ["−2", "0", "2"])
    ax1.set_xlabel("x")
    ax1.set_ylabel("y")
    ax1.set_title("data and fitted polynomial", y=1.0)
    ax1.legend(loc="lower right", fontsize=10)

    train = np.maximum(r["train"], 1e-4)
    ylim = (min(0.5 * r["noise_var"], train.min()) * 0.8, 10)
    ax2.set_yscale("log")  # once (semilogy sets the scale, and makes new locators, at every call)
    ax2.plot(r["degrees"], train, "o-", color="C0", label="training error R̂")
    ax2.plot(r["degrees"], r["test"], "s-", color="C3", label="test error ≈ R")
    ax2.plot(_DEGREE_LIM, [r["noise_var"]] * 2, color="gray", ls=":", label="noise σ²")
    ax2.plot([r["degree"]] * 2, ylim, color="black", lw=0.8)
    ax2.set_xlim(_DEGREE_LIM)
    ax2.set_ylim(ylim)
    ax2.set_xticks([0, 3, 6, 9, 12], ["0", "3", "6", "9", "12"])
    _decade_ticks(ax2.yaxis, *ylim)
    ax2.set_xlabel("polynomial degree (capacity)")
    ax2.set_ylabel("mean squared error")
    ax2.set_title(f"errors vs capacity (n = {r['n']})", y=1.0)
    ax2.legend(fontsize=10, loc="upper center")

    ax3.set_xscale("log")
    ax3.set_yscale("log")
    ax3.plot(r["sizes"], np.maximum(r["train_by_n"], 1e-4), "o-", color="C0")
    ax3.plot(r["sizes"], r["test_by_n"], "s-", color="C3")
    ax3.plot(_SIZE_LIM, [r["noise_var"]] * 2, color="gray", ls=":")
    ax3.plot([r["n"]] * 2, ylim, color="black", lw=0.8)
    ax3.set_xlim(_SIZE_LIM)
    ax3.set_ylim(ylim)
    ax3.set_xlabel("training-set size n")
    ax3.set_ylabel("mean squared error")
    ax3.set_title(f"learning curve (degree {r['degree']})", y=1.0)
    ax3.set_xticks(r["sizes"], labels=[str(v) for v in r["sizes"]])
    ax3.xaxis.set_minor_locator(ticker.NullLocator())
    _decade_ticks(ax3.yaxis, *ylim)
    # no legend of its own: the curves are those of the errors-vs-capacity panel, in the same styles


def degree_sample_size() -> Explorable:
    """Polynomial degree × sample size → fit, training vs test error curves, learning curve.

    Returns
    -------
    Explorable
        45 frames (9 degrees × 5 sizes).
    """
    return Explorable(
        name="erm-degree-sample-size",
        title="Capacity × data: polynomial degree and training-set size",
        params={
            "degree": Choice(list(DEGREES), default=3, label="polynomial degree"),
            "n": Choice(list(SIZES), default=20, label="training-set size n"),
        },
        compute=_compute,
        draw=_draw,
        figsize=(9, 3.6),
    )


EXPLORABLES = [degree_sample_size]
