"""Explorables of the chapter "Surrogate losses and where losses come from".

- :func:`surrogate_boundaries`: a surrogate loss, the regularization strength λ and a few mislabelled outliers →
  the losses as functions of the margin, the linear decision boundary each surrogate produces on 2-D data, and the
  0-1 error (training and test) that each one reaches.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.ticker import MaxNLocator
from scipy.special import expit

from course_pkg.data import make_blobs_2d
from course_pkg.explore import Choice, Explorable, Toggle
from course_pkg.learning.losses import MARGIN_LOSSES, error_rate

__all__ = ["EXPLORABLES", "LAMBDAS", "SURROGATES", "classification_data", "fit_all", "surrogate_boundaries"]

#: Surrogates offered (the 0-1 loss is drawn for reference but cannot be minimized by gradients).
SURROGATES = ("hinge", "squared_hinge", "logistic", "exponential")
#: Ridge strengths λ offered.
LAMBDAS = (1e-3, 1e-2, 1e-1, 1.0)
_COLORS = {"zero_one": "black", "hinge": "C0", "squared_hinge": "C1", "logistic": "C2", "exponential": "C3"}
_N_OUTLIERS = 8


@lru_cache(maxsize=2)
def classification_data(outliers: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two overlapping Gaussian blobs (200 training, 2000 test points), optionally with mislabelled outliers.

    The outliers are ``8`` points labelled -1 placed far inside the +1 region (around ``(3.5, 3.5)``); the test
    set has none.

    Parameters
    ----------
    outliers : bool
        Add the outliers to the training set.

    Returns
    -------
    tuple of numpy.ndarray
        ``(X_train, y_train, X_test, y_test)``, labels in ``{-1, +1}``.
    """
    X, y = make_blobs_2d(200, separation=1.5, seed=0)
    Xt, yt = make_blobs_2d(2000, separation=1.5, seed=1)
    if outliers:
        rng = np.random.default_rng(2)
        X = np.vstack([X, 3.5 + 0.3 * rng.standard_normal((_N_OUTLIERS, 2))])
        y = np.concatenate([y, -np.ones(_N_OUTLIERS)])
    return X, y, Xt, yt


def _smooth_terms(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(φ(z), φ'(z), φ''(z))`` elementwise for the smooth surrogates (the formulas of :data:`MARGIN_LOSSES`)."""
    if name == "logistic":
        s = expit(-z)
        return np.logaddexp(0.0, -z), -s, s * (1.0 - s)
    if name == "exponential":
        e = np.exp(-z)
        return e, -e, e
    r = np.maximum(0.0, 1.0 - z)  # squared hinge: piecewise quadratic, generalized Hessian
    return r * r, -2.0 * r, 2.0 * (r > 0)


def _fit_newton(Z: np.ndarray, name: str, lam: float, n_iter: int = 100, tol: float = 1e-10) -> np.ndarray:
    """Damped Newton on J(θ) = mean φ(Z θ) + λ/2 ‖w‖² (rows of Z are y_i (x_i, 1)); the intercept is not penalized."""
    n, d = Z.shape
    reg = np.full(d, float(lam))
    reg[-1] = 0.0
    theta = np.zeros(d)

    def objective(th: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        v, d1, d2 = _smooth_terms(name, Z @ th)
        return float(v.mean() + 0.5 * lam * th[:-1] @ th[:-1]), d1, d2

    val, d1, d2 = objective(theta)
    for _ in range(n_iter):
        grad = Z.T @ d1 / n + reg * theta
        if np.max(np.abs(grad)) < tol:
            break
        hess = (Z.T * d2) @ Z / n + np.diag(reg) + 1e-12 * np.eye(d)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while True:  # Armijo backtracking
            cand = theta - t * step
            cval, cd1, cd2 = objective(cand)
            if cval <= val - 1e-4 * t * (grad @ step) or t < 1e-10:
                break
            t *= 0.5
        theta, val, d1, d2 = cand, cval, cd1, cd2
    return theta


@lru_cache(maxsize=2)
def _fit_hinge_all(outliers: bool, n_iter: int = 1500) -> np.ndarray:
    """The subgradient method of :func:`~course_pkg.learning.losses.fit_linear_classifier` for the hinge loss
    (step 1/(λ(t + 1)), best iterate), run for every λ of :data:`LAMBDAS` at once (one column each) with the
    objective inlined: the same iterates, a fraction of the time. Returns shape ``(len(LAMBDAS), 3)``."""
    X, y, _, _ = classification_data(bool(outliers))
    Z = y[:, None] * np.column_stack([X, np.ones(len(X))])
    n, d = Z.shape
    lam = np.array(LAMBDAS)
    theta = np.zeros((d, lam.size))
    best, best_val = theta.copy(), np.full(lam.size, np.inf)
    for t in range(1, n_iter + 1):
        z = Z @ theta
        w = theta[:-1]
        val = np.maximum(0.0, 1.0 - z).mean(axis=0) + 0.5 * lam * (w * w).sum(axis=0)
        better = val < best_val
        best[:, better], best_val[better] = theta[:, better], val[better]
        g = -((z < 1.0).T @ Z).T / n
        g[:-1] += lam * w
        theta = theta - g / (lam * (t + 1))
    return best.T


@lru_cache(maxsize=8)
def fit_all(outliers: bool, lam: float) -> dict[str, np.ndarray]:
    """Fit a linear classifier with every surrogate of :data:`SURROGATES`.

    The minimizers are those of :func:`~course_pkg.learning.losses.fit_linear_classifier` (same objective; the
    hinge loss by the same subgradient iterates, 1500 steps), computed faster for live redraws: the smooth
    surrogates by a damped Newton method on the 3 parameters instead of L-BFGS.

    Parameters
    ----------
    outliers : bool
        Training set with or without outliers (see :func:`classification_data`).
    lam : float
        Ridge strength λ.

    Returns
    -------
    dict of str to numpy.ndarray
        Surrogate name → fitted ``(w1, w2, b)``.
    """
    X, y, _, _ = classification_data(bool(outliers))
    Z = y[:, None] * np.column_stack([X, np.ones(len(X))])
    hinge = _fit_hinge_all(bool(outliers))[LAMBDAS.index(float(lam))]
    return {name: hinge if name == "hinge" else _fit_newton(Z, name, float(lam)) for name in SURROGATES}


def _compute(loss: str, lam: float, outliers: bool) -> dict[str, Any]:
    X, y, Xt, yt = classification_data(bool(outliers))
    thetas = fit_all(bool(outliers), float(lam))
    z = np.linspace(-3.0, 3.0, 301)
    errors = {
        name: (error_rate(X @ th[:2] + th[2], y), error_rate(Xt @ th[:2] + th[2], yt))
        for name, th in thetas.items()
    }
    return {
        "loss": loss,
        "lam": float(lam),
        "outliers": bool(outliers),
        "z": z,
        "curves": {name: MARGIN_LOSSES[name](z) for name in ("zero_one", *SURROGATES)},
        "X": X,
        "y": y,
        "thetas": thetas,
        "errors": errors,
    }


def _boundary(theta: np.ndarray, xs: np.ndarray) -> np.ndarray:
    w1, w2, b = theta
    if abs(w2) < 1e-12:
        return np.full_like(xs, np.nan)
    return -(w1 * xs + b) / w2


def _draw(r: dict[str, Any], fig: Any) -> None:
    ax1, ax2, ax3 = fig.subplots(1, 3, width_ratios=[1.0, 1.1, 1.0])
    sel = r["loss"]
    for name, values in r["curves"].items():
        strong = name in (sel, "zero_one")
        ax1.plot(
            r["z"],
            values,
            color=_COLORS[name],
            lw=2.5 if strong else 1.0,
            alpha=1.0 if strong else 0.4,
            label=MARGIN_LOSSES[name].label,
        )
    ax1.set_ylim(0, 4)
    ax1.set_xticks([-3, -1.5, 0, 1.5, 3], ["−3", "−1.5", "0", "1.5", "3"])
    ax1.set_yticks([0, 1, 2, 3, 4], ["0", "1", "2", "3", "4"])
    ax1.set_xlabel("margin z = y f(x)")
    ax1.set_ylabel("loss φ(z)")
    ax1.set_title("losses of the margin", y=1.0)
    ax1.legend(fontsize=10, loc="upper right")  # where "best" put it on every frame

    X, y = r["X"], r["y"]
    ax2.scatter(X[y > 0, 0], X[y > 0, 1], s=8, color="C0", alpha=0.6, label="y = +1")
    ax2.scatter(X[y < 0, 0], X[y < 0, 1], s=8, color="C3", alpha=0.6, marker="x", label="y = −1")
    # each boundary is a straight line: its two end points (a line of many collinear points is drawn by Agg with
    # joins so ill-conditioned that moving the axes by an ulp, as constrained layout does from run to run, changes
    # dozens of pixels; two points draw the same line, always the same way)
    xs = np.array([-4.5, 4.5])
    for name, theta in r["thetas"].items():
        strong = name == sel
        ax2.plot(
            xs,
            _boundary(theta, xs),
            color=_COLORS[name],
            lw=2.5 if strong else 1.0,
            alpha=1.0 if strong else 0.5,
            ls="-" if strong else "--",
        )
    ax2.set_xlim(-4.5, 4.5)
    ax2.set_ylim(-4.5, 4.5)
    ticks, labels = [-4, 0, 4], ["−4", "0", "4"]
    ax2.set_xticks(ticks, labels)
    ax2.set_yticks(ticks, labels)
    ax2.set_xlabel("x₁")
    ax2.set_ylabel("x₂")
    ax2.set_title(f"decision boundaries (λ = {r['lam']:g})", y=1.0)
    ax2.legend(fontsize=10, loc="lower right")

    names = list(r["errors"])
    pos = np.arange(len(names))
    train = [100 * r["errors"][n][0] for n in names]
    test = [100 * r["errors"][n][1] for n in names]
    # the 8 bars as one collection (train: light, left; test: dark, right; the chosen surrogate's outlined)
    heights = np.array([train, test]).T.ravel()
    left = np.ravel(np.column_stack([pos - 0.4, pos]))
    corners = np.stack([left, left, left + 0.4, left + 0.4], axis=-1)
    verts = np.stack([corners, np.stack([0 * heights, heights, heights, 0 * heights], axis=-1)], axis=-1)
    alpha = np.tile([0.5, 1.0], len(names))
    face = [to_rgba(_COLORS[n], a) for n, a in zip(np.repeat(names, 2), alpha)]
    edge = [(0.0, 0.0, 0.0, a if n == sel else 0.0) for n, a in zip(np.repeat(names, 2), alpha)]
    ax3.add_collection(PolyCollection(verts, facecolors=face, edgecolors=edge, linewidths=1.0))
    ax3.set_xlim(-0.6, len(names) - 0.4)
    for p, v in zip(pos, test):
        ax3.text(p + 0.2, v + 0.3, f"{v:.1f}", ha="center", fontsize=10)
    short = {"squared_hinge": "sq.\nhinge", "exponential": "exp."}
    ax3.set_xticks(pos, [short.get(n, MARGIN_LOSSES[n].label) for n in names], fontsize=10)
    ax3.set_ylim(0, max(max(train), max(test)) * 1.25 + 1)
    ax3.yaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
    ax3.set_ylabel("0-1 error (%)")
    ax3.set_title("0-1 error (light: train)", y=1.0)


def surrogate_boundaries() -> Explorable:
    """Surrogate loss × λ × outliers → losses over the margin, decision boundaries, 0-1 errors.

    Returns
    -------
    Explorable
        32 frames (4 surrogates × 4 values of λ × outliers on/off).
    """
    return Explorable(
        name="losses-surrogate-boundaries",
        title="Surrogate losses: the boundary each one draws and the 0-1 error it reaches",
        params={
            "loss": Choice(list(SURROGATES), default="logistic", label="surrogate loss"),
            "lam": Choice(list(LAMBDAS), default=1e-2, label="ridge strength λ"),
            "outliers": Toggle(default=False, label="8 mislabelled outliers"),
        },
        compute=_compute,
        draw=_draw,
        figsize=(9, 3.7),
    )


EXPLORABLES = [surrogate_boundaries]
