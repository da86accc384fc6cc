"""Explorables of the chapter "Stochastic and minibatch gradient descent".

- :func:`minibatch_noise`: batch size B and learning rate η → the cloud of minibatch gradient estimates at a
  fixed point and the SGD trajectory on a 2-D least-squares problem.
- :func:`sharp_flat`: batch size B and learning rate η → where minibatch SGD settles on a 1-D loss with one
  sharp and one flat minimum of equal value. Each example shifts the loss by a random amount of standard
  deviation s, so a minibatch's gradient is L′(θ − ξ̄) with ξ̄ ~ N(0, s²/B): gradient noise proportional to the
  curvature, as for real minibatch gradients near a minimum.

The least-squares problem and the sharp/flat loss are in :mod:`course_pkg.experiments.sgd`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from course_pkg.experiments.sgd import (
    EXAMPLE_SHIFT,
    regression_problem,
    sharp_basin,
    sharp_flat_grad,
    sharp_flat_loss,
)
from course_pkg.explore import Choice, Explorable, contour_lines, draw_lines

__all__ = ["minibatch_noise", "sharp_flat", "EXPLORABLES"]

#: Starting point θ₀ of the trajectories (and point where the gradient cloud is drawn).
THETA0 = np.array([-2.0, 2.5])
#: Number of minibatch gradients in the cloud and number of SGD steps in the trajectory.
N_CLOUD = 300
N_STEPS = 40


def _batch_indices(rng: np.random.Generator, n_batches: int, n: int, batch_size: int) -> np.ndarray:
    """``n_batches`` index sets of size B, each drawn without replacement."""
    return np.argsort(rng.random((n_batches, n)), axis=1)[:, :batch_size]


def _compute_noise(batch_size: int, lr: float, seed: int = 0) -> dict[str, Any]:
    X, y = regression_problem(seed)
    n = X.shape[0]
    rng = np.random.default_rng(seed + 1)
    A = X.T @ X / n
    b = X.T @ y / n
    theta_star = np.linalg.solve(A, b)
    # cloud of minibatch gradients at θ₀
    per_example = (X @ THETA0 - y)[:, None] * X  # (n, 2)
    idx = _batch_indices(rng, N_CLOUD, n, batch_size)
    cloud = per_example[idx].mean(axis=1)
    full = per_example.mean(axis=0)
    # predicted covariance of the minibatch mean (sampling without replacement)
    sigma = np.cov(per_example.T, bias=True)
    predicted_cov = sigma / batch_size * (n - batch_size) / (n - 1)
    # SGD with reshuffling each epoch vs full-batch GD, same η and number of steps
    theta = THETA0.copy()
    gd = THETA0.copy()
    traj = [theta.copy()]
    gd_traj = [gd.copy()]
    perm = rng.permutation(n)
    pos = 0
    for _ in range(N_STEPS):
        if pos + batch_size > n:
            perm, pos = rng.permutation(n), 0
        bi = perm[pos : pos + batch_size]
        pos += batch_size
        g = ((X[bi] @ theta - y[bi])[:, None] * X[bi]).mean(axis=0)
        theta = theta - lr * g
        gd = gd - lr * (A @ gd - b)
        traj.append(theta.copy())
        gd_traj.append(gd.copy())
    return {
        "batch_size": batch_size,
        "lr": lr,
        "cloud": cloud,
        "full_gradient": full,
        "predicted_cov": predicted_cov,
        "trajectory": np.array(traj),
        "gd_trajectory": np.array(gd_traj),
        "theta_star": theta_star,
        "window": WINDOW,
        "level_lines": _level_lines(seed),
    }


#: The window (θ₁ from, to, θ₂ from, to) of the trajectory panel.
WINDOW = (-3.0, 3.0, -3.0, 3.5)


@cache
def _level_lines(seed: int) -> tuple[np.ndarray, ...]:
    """Level lines of the empirical risk over :data:`WINDOW` (12 levels at quantiles 0.01–0.9 of its values on a
    61 × 61 grid), computed once per process."""
    X, y = regression_problem(seed)
    n = X.shape[0]
    A, b = X.T @ X / n, X.T @ y / n
    T1, T2 = np.meshgrid(np.linspace(*WINDOW[:2], 61), np.linspace(*WINDOW[2:], 61))
    P = np.stack([T1.ravel(), T2.ravel()], axis=1)
    Z = (0.5 * np.einsum("ki,ij,kj->k", P, A, P) - P @ b + y @ y / (2 * n)).reshape(T1.shape)
    return contour_lines(T1, T2, Z, np.quantile(Z, np.linspace(0.01, 0.9, 12)))


def _draw_noise(result: dict[str, Any], fig: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax1, ax2 = fig.subplots(1, 2)
    cloud, full = result["cloud"], result["full_gradient"]
    ax1.plot(cloud[:, 0], cloud[:, 1], "o", ms=2, alpha=0.4, color="C0", label="minibatch gradients")
    # 2-standard-deviation ellipse of the predicted covariance
    w, V = np.linalg.eigh(result["predicted_cov"])
    ang = np.linspace(0, 2 * np.pi, 100)
    ell = full[:, None] + 2 * V @ (np.sqrt(np.maximum(w, 0))[:, None] * np.stack([np.cos(ang), np.sin(ang)]))
    ax1.plot(ell[0], ell[1], color="C3", lw=1.2, label="2σ/√B ellipse (theory)")
    ax1.plot(*full, "k*", ms=12, label="full gradient ∇R̂(θ₀)")
    ax1.set_xlim(full[0] - 6, full[0] + 6)
    ax1.set_ylim(full[1] - 5, full[1] + 5)
    ax1.xaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
    ax1.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
    ax1.set_xlabel("gradient component 1")
    ax1.set_ylabel("gradient component 2")
    ax1.set_title(f"{len(cloud)} minibatch gradients at θ₀, B = {result['batch_size']}", y=1.0)
    ax1.legend(loc="upper right", fontsize=10)
    draw_lines(ax2, result["level_lines"], "0.75", 0.8)
    gd, tr = result["gd_trajectory"], result["trajectory"]
    ax2.plot(gd[:, 0], gd[:, 1], "-", color="k", lw=1.5, label="full-batch GD")
    ax2.plot(tr[:, 0], tr[:, 1], ".-", color="C0", lw=1, ms=3, label=f"SGD, B = {result['batch_size']}")
    ax2.plot(*result["theta_star"], "r*", ms=12, label="minimiser θ*")
    x0, x1, y0, y1 = result["window"]
    ax2.set(xlim=(x0, x1), ylim=(y0, y1), xticks=(-2, 0, 2), yticks=(-2, 0, 2))
    ax2.set_xlabel("θ₁")
    ax2.set_ylabel("θ₂")
    ax2.set_title(f"{N_STEPS} steps with η = {result['lr']:.3g}", y=1.0)
    ax2.legend(loc="upper right", fontsize=10)


def minibatch_noise() -> Explorable:
    """Batch size → noise cloud of minibatch gradient estimates and the SGD trajectory."""
    return Explorable(
        name="sgd-minibatch-noise",
        title="Batch size, gradient noise and the SGD trajectory",
        params={
            "batch_size": Choice([1, 2, 4, 8, 16, 32, 64, 128, 256], default=8, label="batch size B"),
            "lr": Choice([0.03, 0.1, 0.2, 0.4, 0.8], default=0.2, label="learning rate η"),
        },
        compute=_compute_noise,
        draw=_draw_noise,
        figsize=(8.6, 4.1),
    )


# --- 1-D sharp and flat minimum -----------------------------------------------------------------------------

N_PARTICLES = 400
N_NOISY_STEPS = 300


def _compute_sharp_flat(batch_size: int, lr: float, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    lo, hi = sharp_basin()
    thetas = np.empty((N_NOISY_STEPS + 1, N_PARTICLES))  # row t: the particles after t steps
    thetas[0] = np.linspace(lo, 3.5, N_PARTICLES)  # start in the sharp basin or right of it
    # the shifts ξ̄ of every step, drawn at once (the same numbers as one draw of N_PARTICLES per step)
    shifts = EXAMPLE_SHIFT / np.sqrt(batch_size) * rng.standard_normal((N_NOISY_STEPS, N_PARTICLES))
    for t in range(N_NOISY_STEPS):
        g = sharp_flat_grad(thetas[t] - shifts[t])
        np.clip(thetas[t] - lr * g, -6.0, 6.0, out=thetas[t + 1])
    frac = np.mean((thetas < lo) | (thetas > hi), axis=1)
    return {
        "batch_size": batch_size,
        "lr": lr,
        "final": thetas[-1],
        "fraction_flat": frac,
        "sharp_basin": (lo, hi),
    }


#: Top of the loss axis; the histogram is drawn in its units, N_PARTICLES particles reaching the top.
LOSS_TOP = 3.0
COUNT_TICKS = (0, 200, 400)


def _draw_sharp_flat(result: dict[str, Any], fig: Any) -> None:
    from matplotlib.lines import TICKRIGHT
    from matplotlib.transforms import blended_transform_factory, offset_copy

    ax1, ax2 = fig.subplots(1, 2)
    th = np.linspace(-2, 4, 600)
    ax1.plot(th, sharp_flat_loss(th), "k", lw=1.5, label="loss L(θ)")
    ax1.set_xlabel("θ")
    ax1.set_ylabel("L(θ)")
    ax1.set(ylim=(0, LOSS_TOP), xticks=(-2, 0, 2, 4), yticks=(0, 1, 2, 3))
    # the histogram in the loss axis' units, with its own scale (particles) drawn on the right edge: what a twin
    # axes shows, without making one at every frame
    counts, edges = np.histogram(result["final"], bins=np.linspace(-2, 4, 61))
    scale = LOSS_TOP / N_PARTICLES
    ax1.stairs(counts * scale, edges, fill=True, color="C0", alpha=0.5)
    right = blended_transform_factory(ax1.transAxes, ax1.transData)
    ticks = [c * scale for c in COUNT_TICKS]
    ax1.plot([1.0] * len(ticks), ticks, ls="none", marker=TICKRIGHT, ms=3.5, mew=0.8, color="k",
             transform=right, clip_on=False)  # fmt: skip
    labels = offset_copy(right, fig=fig, x=7.0, units="points")
    for count, y in zip(COUNT_TICKS, ticks):
        ax1.text(1.0, y, str(count), transform=labels, ha="left", va="center", fontsize=10)
    ax1.text(1.0, LOSS_TOP / 2, f"particles after {N_NOISY_STEPS} steps", fontsize=10, rotation=90,
             ha="left", va="center", transform=offset_copy(right, fig=fig, x=31.0, units="points"))  # fmt: skip
    for edge in result["sharp_basin"]:
        ax1.axvline(edge, color="0.6", ls=":", lw=1)
    ax1.set_title(f"B = {result['batch_size']}, η = {result['lr']:.3g}", y=1.0)
    ax1.legend(loc="upper left", fontsize=10)
    ax2.plot(result["fraction_flat"], color="C2")
    ax2.set(ylim=(0, 1.02), xticks=(0, 100, 200, 300), yticks=(0, 0.5, 1))
    ax2.set_xlabel("step t")
    ax2.set_ylabel("fraction in the flat basin")
    ax2.set_title(f"final: {result['fraction_flat'][-1]:.0%} in the flat basin", y=1.0)


def sharp_flat() -> Explorable:
    """Batch size and learning rate → where minibatch SGD settles (sharp vs flat minimum)."""
    return Explorable(
        name="sgd-sharp-flat",
        title="Noise pushes SGD out of sharp minima",
        params={
            "batch_size": Choice([1, 2, 4, 8, 16, 32, 64, 128], default=4, label="batch size B"),
            "lr": Choice([0.005, 0.01, 0.015, 0.025], default=0.01, label="learning rate η"),
        },
        compute=_compute_sharp_flat,
        draw=_draw_sharp_flat,
        figsize=(8.6, 3.8),
    )


EXPLORABLES = [minibatch_noise, sharp_flat]
