"""Explorables of the chapter "Momentum and Nesterov" (in the spirit of Goh, "Why Momentum Really Works", 2017).

Heavy-ball and Nesterov momentum in torch's form, their characteristic polynomials on a quadratic and the
convergence rate they give are stated once, in :mod:`course_pkg.experiments.momentum`.

- :func:`momentum_quadratic`: η and β on an ill-conditioned 2-D quadratic (κ = 100): trajectory, error per
  eigencomponent, and the (η, β) convergence-rate map with the current point marked.
- :func:`momentum_rosenbrock`: η, β and Nesterov on Rosenbrock's function: trajectory, error along the Hessian
  eigenvectors at the minimum, and the local (η, β) rate map of the linearisation at the minimum.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from course_pkg.experiments.momentum import convergence_rate, heavy_ball_quadratic, optimal_heavy_ball
from course_pkg.explore import Choice, Explorable, Toggle, contour_lines, draw_lines, plain_log_ticks

__all__ = [
    "momentum_quadratic",
    "momentum_rosenbrock",
    "EXPLORABLES",
]

#: Eigenvalues (λ_max, λ_min) of the quadratic of :func:`momentum_quadratic`: condition number κ = 100.
QUAD_EIGS = np.array([1.0, 0.01])
QUAD_THETA0 = np.array([1.0, 1.0])
QUAD_STEPS = 100
ROSEN_THETA0 = (-1.2, 1.0)
ROSEN_STEPS = 2000
#: Hessian of Rosenbrock's function f(x, y) = (1 − x)² + 100 (y − x²)² at its minimum (1, 1).
ROSEN_HESSIAN = np.array([[802.0, -400.0], [-400.0, 200.0]])


def _rate_map(eigenvalues: np.ndarray, lrs: np.ndarray, betas: np.ndarray, nesterov: bool) -> np.ndarray:
    L, Bt = np.meshgrid(lrs, betas)
    rate = convergence_rate(L, Bt, eigenvalues, nesterov=nesterov)
    rate.flags.writeable = False  # cached: shared by every frame
    return rate


def _draw_map(ax: Any, key: Any, result: dict[str, Any]) -> None:
    """The (η, β) map as an image over log10 η, and its colour key drawn as an image in the axes ``key``.

    The map depends only on the problem (and Nesterov), so it is the same in most frames; the key is a plain image
    with its own ticks rather than ``fig.colorbar`` (no colour-bar machinery to rebuild at every frame).
    """
    import matplotlib as mpl

    lrs, betas, rate = result["map_lrs"], result["map_betas"], result["map"]
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(rate < 1, np.log10(1 - rate), np.nan)  # log10(1 − rate): larger is faster
    lo, hi = float(np.nanmin(speed)), float(np.nanmax(speed))
    cmap = mpl.colormaps["viridis"].with_extremes(bad="0.85")
    lx = np.log10(lrs)
    ax.imshow(
        speed,
        origin="lower",
        aspect="auto",
        cmap=cmap,
        vmin=lo,
        vmax=hi,
        extent=(lx[0], lx[-1], betas[0], betas[-1]),
        interpolation="nearest",
    )
    # not clipped by the axes: at β = 0 (the bottom edge) the whole ring stays visible
    ax.plot(
        np.log10(result["lr"]), result["beta"], "o", ms=9, mfc="none", mec="r", mew=2, clip_on=False, zorder=5
    )
    if "optimum" in result:
        ax.plot(np.log10(result["optimum"][0]), result["optimum"][1], "w*", ms=11, mec="k", zorder=5)
    ticks = [e for e in range(int(np.floor(lx[0])), int(np.ceil(lx[-1])) + 1) if lx[0] <= e <= lx[-1]]
    ax.set_xticks(ticks, [f"{10.0**e:g}" for e in ticks])
    ax.set_xlabel("learning rate η (log scale)")
    ax.set_yticks([0.0, 0.5, 0.9], ["0", "0.5", "0.9"])
    ax.set_ylabel("momentum β")
    # the key in the title, not in a legend over the map
    best = "; ☆ fastest" if "optimum" in result else ""
    ax.set_title(f"rate {result['rate']:.4g} at ○{best}\n(grey: diverges)", fontsize=10, y=1.0)
    key.imshow(
        np.linspace(lo, hi, 256)[:, None],
        origin="lower",
        aspect="auto",
        cmap=cmap,
        vmin=lo,
        vmax=hi,
        extent=(0.0, 1.0, lo, hi),
        interpolation="nearest",
    )
    key.set_xticks([])
    key.yaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
    key.yaxis.tick_right()
    key.yaxis.set_label_position("right")
    key.set_ylabel("log₁₀(1 − rate): larger is faster")


# --- the ill-conditioned quadratic ---------------------------------------------------------------------------


QUAD_MAP_LRS = np.geomspace(0.02, 5.0, 60)
QUAD_MAP_BETAS = np.linspace(0.0, 0.995, 60)


@functools.cache
def _quadratic_map() -> np.ndarray:
    """The (η, β) rate map of the quadratic: the same for every frame, computed once."""
    return _rate_map(QUAD_EIGS, QUAD_MAP_LRS, QUAD_MAP_BETAS, nesterov=False)


@functools.cache
def _quadratic_contours() -> tuple[np.ndarray, ...]:
    x = np.linspace(-1.5, 1.5, 61)
    y = np.linspace(-0.5, 1.5, 61)
    X, Y = np.meshgrid(x, y)
    Z = 0.5 * (QUAD_EIGS[0] * X**2 + QUAD_EIGS[1] * Y**2)
    return contour_lines(X, Y, Z, np.geomspace(1e-4, 1.2, 12))


def _compute_quadratic(lr: float, beta: float) -> dict[str, Any]:
    traj = heavy_ball_quadratic(lr, beta, QUAD_EIGS, QUAD_THETA0, QUAD_STEPS)
    gd = heavy_ball_quadratic(lr, 0.0, QUAD_EIGS, QUAD_THETA0, QUAD_STEPS)
    eta_opt, beta_opt, _ = optimal_heavy_ball(QUAD_EIGS.min(), QUAD_EIGS.max())
    return {
        "lr": lr,
        "beta": beta,
        "trajectory": traj,
        "gd_trajectory": gd,
        "rate": float(convergence_rate(lr, beta, QUAD_EIGS)),
        "component_rates": np.array([float(convergence_rate(lr, beta, [lam])) for lam in QUAD_EIGS]),
        "map_lrs": QUAD_MAP_LRS,
        "map_betas": QUAD_MAP_BETAS,
        "map": _quadratic_map(),
        "optimum": (eta_opt, beta_opt),
    }


def _log_error_ticks(ax: Any, exponents: Sequence[int]) -> None:
    """A few fixed powers of ten on a log y axis (plain labels, no minor ticks)."""
    plain_log_ticks(ax.yaxis)
    ax.set_yticks([10.0**e for e in exponents], [f"1e{e}" if e else "1" for e in exponents])


def _draw_quadratic(result: dict[str, Any], fig: Any) -> None:
    ax1, ax2, ax3, key = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 0.07]})
    draw_lines(ax1, _quadratic_contours(), "0.75", 0.7)
    gd, tr = result["gd_trajectory"], result["trajectory"]
    ax1.plot(gd[:, 0], gd[:, 1], "-", color="0.3", lw=0.8)
    ax1.plot(tr[:, 0], tr[:, 1], "-", color="C0", lw=0.8)
    ax1.plot(0, 0, "r*", ms=10)
    ax1.set_xlim(-1.5, 1.5)
    ax1.set_ylim(-0.5, 1.5)
    ax1.set_xticks([-1, 0, 1], ["−1", "0", "1"])
    ax1.set_yticks([0, 1], ["0", "1"])
    ax1.set_xlabel("θ₁ (λ₁ = 1)")
    ax1.set_ylabel("θ₂ (λ₂ = 0.01)")
    # the key in the title (two lines, as the map's): no legend over the trajectories
    ax1.set_title(
        f"{QUAD_STEPS} steps, η = {result['lr']:.3g}\nblue: β = {result['beta']:g}; grey: β = 0 (GD)",
        fontsize=10,
        y=1.0,
    )
    t = np.arange(tr.shape[0])
    ax2.set_yscale("log")  # once: semilogy would set it again for every curve
    for i, (lam, c) in enumerate(zip(QUAD_EIGS, ["C1", "C2"])):
        err = np.abs(tr[:, i])
        ax2.plot(t, np.where(np.isfinite(err), err, np.nan), color=c, label=f"component λ = {lam:g}")
        rate_i = result["component_rates"][i]
        ax2.plot(t, rate_i**t, color=c, ls=":", lw=1, label="rateᵗ (dotted)" if i == 0 else None)
    ax2.set_ylim(1e-16, 1e3)  # room for the legend under the curves
    _log_error_ticks(ax2, [-15, -10, -5, 0])
    ax2.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10], integer=True))  # diverged: a short run
    ax2.set_xlabel("step t")
    ax2.set_ylabel("|error| along eigenvector")
    ax2.set_title("error per eigencomponent", fontsize=10, y=1.0)
    ax2.legend(fontsize=10, loc="lower left")
    _draw_map(ax3, key, result)


def momentum_quadratic() -> Explorable:
    """Step size and momentum on an ill-conditioned quadratic: trajectory, eigencomponents, (η, β) map."""
    return Explorable(
        name="momentum-quadratic",
        title="Why momentum works: an ill-conditioned quadratic (κ = 100)",
        params={
            "lr": Choice([0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 3.3, 3.5], default=1.0, label="learning rate η"),
            "beta": Choice([0.0, 0.5, 0.67, 0.8, 0.9, 0.95, 0.99], default=0.9, label="momentum β"),
        },
        compute=_compute_quadratic,
        draw=_draw_quadratic,
        figsize=(9.6, 3.8),
    )


# --- Rosenbrock ---------------------------------------------------------------------------------------------


def _rosenbrock_run(lr: float, beta: float, nesterov: bool, steps: int) -> np.ndarray:
    """Momentum (torch's form) on f(x, y) = (1 − x)² + 100 (y − x²)², in plain floats for speed."""
    x, y = ROSEN_THETA0
    vx = vy = 0.0
    out = np.full((steps + 1, 2), np.nan)
    out[0] = (x, y)
    for t in range(1, steps + 1):
        r = y - x * x
        gx = -2.0 * (1.0 - x) - 400.0 * x * r
        gy = 200.0 * r
        vx = beta * vx + gx
        vy = beta * vy + gy
        if nesterov:
            x -= lr * (gx + beta * vx)
            y -= lr * (gy + beta * vy)
        else:
            x -= lr * vx
            y -= lr * vy
        if not (abs(x) < 1e3 and abs(y) < 1e3):
            break
        out[t] = (x, y)
    return out


ROSEN_MAP_LRS = np.geomspace(1e-5, 1e-2, 60)
ROSEN_MAP_BETAS = np.linspace(0.0, 0.995, 60)


@functools.cache
def _rosenbrock_map(nesterov: bool) -> np.ndarray:
    """The local (η, β) rate map at the minimum: it depends only on Nesterov, computed once for each."""
    eigs = np.linalg.eigvalsh(ROSEN_HESSIAN)
    return _rate_map(eigs, ROSEN_MAP_LRS, ROSEN_MAP_BETAS, nesterov=nesterov)


@functools.cache
def _rosenbrock_contours() -> tuple[np.ndarray, ...]:
    x = np.linspace(-2.0, 2.0, 90)
    y = np.linspace(-1.0, 3.0, 90)
    X, Y = np.meshgrid(x, y)
    Z = (1 - X) ** 2 + 100 * (Y - X**2) ** 2
    return contour_lines(X, Y, Z, np.geomspace(0.1, 2000, 14))


def _compute_rosenbrock(lr: float, beta: float, nesterov: bool) -> dict[str, Any]:
    traj = _rosenbrock_run(lr, beta, nesterov, ROSEN_STEPS)
    eigs, vecs = np.linalg.eigh(ROSEN_HESSIAN)
    comps = (traj - 1.0) @ vecs  # error along the Hessian eigenvectors at the minimum
    x, y = traj[:, 0], traj[:, 1]
    return {
        "lr": lr,
        "beta": beta,
        "nesterov": nesterov,
        "trajectory": traj,
        "loss": (1 - x) ** 2 + 100 * (y - x**2) ** 2,
        "components": comps,
        "eigenvalues": eigs,
        "rate": float(convergence_rate(lr, beta, eigs, nesterov=nesterov)),
        "map_lrs": ROSEN_MAP_LRS,
        "map_betas": ROSEN_MAP_BETAS,
        "map": _rosenbrock_map(bool(nesterov)),
    }


def _draw_rosenbrock(result: dict[str, Any], fig: Any) -> None:
    ax1, ax2, ax3, key = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 0.07]})
    draw_lines(ax1, _rosenbrock_contours(), "0.75", 0.7)
    tr = result["trajectory"]
    ax1.plot(tr[:, 0], tr[:, 1], "-", color="C0", lw=1)
    ax1.plot(*ROSEN_THETA0, "ko", ms=5)
    ax1.plot(1, 1, "r*", ms=10)
    ax1.set_xlim(-2.0, 2.0)
    ax1.set_ylim(-1.0, 3.0)
    ax1.set_xticks([-2, -1, 0, 1, 2], ["−2", "−1", "0", "1", "2"])
    ax1.set_yticks([-1, 0, 1, 2, 3], ["−1", "0", "1", "2", "3"])
    ax1.set_xlabel("x")
    ax1.set_ylabel("y")
    kind = "Nesterov" if result["nesterov"] else "heavy ball"
    ax1.set_title(f"{kind}, η = {result['lr']:.3g}, β = {result['beta']:g}", fontsize=10, y=1.0)
    t = np.arange(tr.shape[0])
    ax2.set_yscale("log")  # once: semilogy would set it again for every curve
    for i, c in enumerate(["C2", "C1"]):
        err = np.abs(result["components"][:, i])
        ax2.plot(t, err, color=c, label=f"eigenvector λ = {result['eigenvalues'][i]:.3g}")
    ax2.plot(t, result["loss"], color="k", lw=0.8, label="loss f(x, y)")
    ax2.set_ylim(1e-20, 1e4)  # room for the legend under the curves
    _log_error_ticks(ax2, [-20, -15, -10, -5, 0])
    ax2.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10], integer=True))  # diverged: a short run
    ax2.set_xlabel("step t")
    ax2.set_ylabel("|error| / loss")
    ax2.set_title(f"{ROSEN_STEPS} steps from (−1.2, 1)", fontsize=10, y=1.0)
    ax2.legend(fontsize=10, loc="lower left")
    _draw_map(ax3, key, result)
    ax3.set_title(f"local rate at (1, 1): {result['rate']:.4g}\nat ○ (grey: diverges)", fontsize=10, y=1.0)


def momentum_rosenbrock() -> Explorable:
    """Step size, momentum and Nesterov on Rosenbrock's function."""
    return Explorable(
        name="momentum-rosenbrock",
        title="Momentum on Rosenbrock's banana",
        params={
            "lr": Choice([1e-4, 3e-4, 1e-3, 2e-3, 3e-3], default=1e-3, label="learning rate η"),
            "beta": Choice([0.0, 0.5, 0.9, 0.95, 0.99], default=0.9, label="momentum β"),
            "nesterov": Toggle(default=False, label="Nesterov"),
        },
        compute=_compute_rosenbrock,
        draw=_draw_rosenbrock,
        figsize=(9.6, 3.8),
    )


EXPLORABLES = [momentum_quadratic, momentum_rosenbrock]
