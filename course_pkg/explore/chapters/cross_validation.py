"""Explorables of the chapter "Cross-validation and model selection".

- :func:`folds_and_curve`: number of folds K and shuffle seed → the folds drawn, the K-fold CV curve against the
  true test curve over polynomial degrees (with the degree each selects), and the spread of the CV estimate
  across seeds for every K.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from course_pkg.data import make_regression_1d
from course_pkg.explore import Choice, Explorable, plain_log_ticks
from course_pkg.learning.cv import kfold_indices
from course_pkg.learning.erm import fit_polynomial, polynomial_risk_curves, predict_polynomial

__all__ = [
    "DEGREES",
    "EXPLORABLES",
    "FOLDS",
    "N",
    "cv_curve",
    "folds_and_curve",
    "polynomial_learner",
    "mse_score",
    "regression_data",
    "spread_over_seeds",
]

#: Training-set size.
N = 40
#: Degrees compared.
DEGREES = tuple(range(11))
#: Numbers of folds offered (``N`` is leave-one-out).
FOLDS = (2, 3, 5, 10, 20, N)
#: Seeds offered by the slider.
SEEDS = (0, 1, 2, 3, 4)
#: Degree whose CV estimate is tracked across seeds.
TRACKED_DEGREE = 3
_N_SPREAD_SEEDS = 20


@lru_cache(maxsize=1)
def regression_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The training set (``N`` points) and a 5000-point test set, noise σ = 0.3, seeded.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x, y, x_test, y_test)``.
    """
    x, y = make_regression_1d(N, noise=0.3, seed=13)
    xt, yt = make_regression_1d(5000, noise=0.3, seed=1000)
    return x, y, xt, yt


def polynomial_learner(degree: int):
    """A learning procedure ``fit(x, y) -> θ`` for least-squares polynomials of the given degree (Legendre basis).

    Parameters
    ----------
    degree : int
        Polynomial degree.

    Returns
    -------
    callable
        ``fit(x, y) -> numpy.ndarray`` of coefficients.
    """
    return lambda x, y: fit_polynomial(x, y, degree, basis="legendre")


def mse_score(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error of the polynomial ``theta`` (Legendre basis) on ``(x, y)``.

    Parameters
    ----------
    theta : numpy.ndarray
        Coefficients.
    x, y : numpy.ndarray
        Validation inputs and targets.

    Returns
    -------
    float
        The validation error.
    """
    return float(np.mean((predict_polynomial(theta, x, "legendre") - y) ** 2))


def cv_curve(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """k-fold CV error of every degree in :data:`DEGREES` on :func:`regression_data` (shuffled with ``seed``).

    Cached; leave-one-out (``k = N``) is computed once, since every seed gives the same folds in another order.

    Parameters
    ----------
    k : int
        Number of folds.
    seed : int
        Shuffle seed (ignored for leave-one-out, where every shuffle gives the same folds up to order).

    Returns
    -------
    mean, se : numpy.ndarray of shape (len(DEGREES),)
        CV estimate per degree and the standard error of the fold scores' mean.
    """
    return _cv_curve(int(k), int(seed) if k < N else 0)


@lru_cache(maxsize=64)
def _cv_curve(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # what ``cross_val_curve(polynomial_learner, DEGREES, mse_score, x, y, k, shuffle=True, seed=seed)`` computes
    # (the tests compare both with scikit-learn), with the Legendre features built once for the highest degree:
    # the columns of lower degrees are its first columns, so every fit is a least-squares solve on a slice
    x, y, _, _ = regression_data()
    features = np.polynomial.legendre.legvander(x, max(DEGREES))
    folds = kfold_indices(N, k, shuffle=True, seed=seed)
    scores = np.empty((len(DEGREES), len(folds)))
    for j, (train, val) in enumerate(folds):
        scale = np.sqrt(len(train))
        A, b = features[train] / scale, y[train] / scale
        for i, degree in enumerate(DEGREES):
            theta, *_ = np.linalg.lstsq(A[:, : degree + 1], b, rcond=None)
            scores[i, j] = np.mean((features[val, : degree + 1] @ theta - y[val]) ** 2)
    return scores.mean(axis=1), scores.std(axis=1, ddof=1) / np.sqrt(k)


@lru_cache(maxsize=1)
def spread_over_seeds() -> np.ndarray:
    """CV estimate of the degree-:data:`TRACKED_DEGREE` model for every k of :data:`FOLDS` and 20 seeds.

    Returns
    -------
    numpy.ndarray of shape (len(FOLDS), 20)
        CV estimates.
    """
    x, y, _, _ = regression_data()
    out = np.empty((len(FOLDS), _N_SPREAD_SEEDS))
    fit = polynomial_learner(TRACKED_DEGREE)
    for i, k in enumerate(FOLDS):
        for s in range(_N_SPREAD_SEEDS):
            folds = kfold_indices(N, k, shuffle=True, seed=s)
            out[i, s] = np.mean([mse_score(fit(x[tr], y[tr]), x[va], y[va]) for tr, va in folds])
    return out


@lru_cache(maxsize=1)
def _test_curve() -> np.ndarray:
    x, y, xt, yt = regression_data()
    return polynomial_risk_curves(x, y, xt, yt, DEGREES).test


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
        "test": _test_curve(),
        "folds": np.array(FOLDS),
        "spread": spread_over_seeds(),
        "tracked_degree": TRACKED_DEGREE,
    }


def _draw(r: dict[str, Any], fig: Any) -> None:
    ax1, ax2, ax3 = fig.subplots(1, 3, width_ratios=[1.0, 1.2, 1.0])
    ax1.imshow(r["assignment"], aspect="auto", cmap="Oranges", vmin=0, vmax=1.4, interpolation="nearest")
    ax1.set_xlabel(f"the n = {N} samples, by x")
    ax1.set_ylabel("fold")
    ax1.set_yticks([0, r["k"] - 1], [1, r["k"]])
    ax1.set_title(f"{r['k']} folds, seed {r['seed']}\n(dark: validation)", y=1.0)

    d = r["degrees"]
    ax2.semilogy(d, r["test"], "s-", color="C3", label="held-out test error")
    ax2.errorbar(
        d, r["cv_mean"], yerr=r["cv_se"], fmt="o-", color="C0", capsize=2, label=f"{r['k']}-fold CV ± s.e."
    )
    ax2.axvline(d[np.argmin(r["cv_mean"])], color="C0", ls="--", lw=1, label="chosen by CV")
    ax2.axvline(d[np.argmin(r["test"])], color="C3", ls=":", lw=1, label="best on test")
    ax2.set_ylim(0.05, 5)
    ax2.set_xticks(d[::2])
    ax2.set_xlabel("polynomial degree")
    ax2.set_ylabel("mean squared error")
    ax2.set_title("CV curve vs test curve", y=1.0)
    ax2.legend(fontsize=10, loc="upper center")

    folds = r["folds"]
    pos = np.arange(len(folds))
    shuffles = r["spread"].shape[1]
    # one collection for every K (the points in the order of one scatter per K)
    ax3.scatter(np.repeat(pos, shuffles), np.ravel(r["spread"]), s=10, color="C0", alpha=0.5)
    current = int(np.flatnonzero(folds == r["k"])[0])
    ax3.scatter(
        [current], [r["spread"][current, r["seed"]]], s=60, facecolor="none", edgecolor="black", zorder=3
    )
    ax3.axhline(r["test"][r["tracked_degree"]], color="C3", label="held-out test error")
    ax3.set_xticks(pos, [str(k) if k < N else f"{k}\n(LOO)" for k in folds])
    ax3.set_xlabel("number of folds K")
    ax3.set_ylabel(f"CV estimate, degree {r['tracked_degree']}")
    ax3.set_title("spread over 20 shuffles", y=1.0)
    ax3.legend(fontsize=10, loc="upper right")  # where "best" put it on every frame
    plain_log_ticks(ax2.yaxis, labels="superscript")


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
