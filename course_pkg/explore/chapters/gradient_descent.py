"""Explorables of the chapter "Gradient descent, step sizes and the shape of the loss".

- :func:`lr_condition`: gradient descent on a 2-D quadratic; learning rate η × condition number κ, with the
  per-step contraction factor that shows the divergence boundary η = 2/λ_max.
- :func:`cliff_clipping`: a gentle slope ending at a steep wall; gradient descent with and without gradient-norm
  clipping (threshold slider).
- :func:`saddle_noise`: a saddle point; plain gradient descent started on its stable manifold stops at the saddle,
  gradient descent with a little noise escapes to a minimum.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from course_pkg.explore import Choice, Explorable, LogGrid, Toggle, contour_lines, draw_lines, plain_log_ticks
from course_pkg.landscapes import cliff, gradient_descent, quadratic, saddle

BLUE = "#1f77b4"
ORANGE = "#d95f02"
GREY = "#8c8c8c"
RED = "#c0392b"
GREEN = "#1b9e77"


QUADRATIC_STEPS = 40


@functools.cache
def _quadratic_contours(kappa: float) -> tuple[np.ndarray, ...]:
    """Contours of the quadratic of condition number κ over its window: computed once per κ."""
    X, Y, Z = quadratic(kappa=kappa).grid(60)
    return contour_lines(X, Y, Z, np.geomspace(0.02, Z.max(), 9))


@functools.cache
def _saddle_contours() -> tuple[np.ndarray, ...]:
    """Contours of the saddle landscape over its window: the same in every frame, computed once."""
    X, Y, Z = saddle().grid(70)
    return contour_lines(X, Y, Z, np.linspace(-0.24, 2.0, 12))


# -- (a) learning rate × condition number ------------------------------------------------------------------------
def _compute_lr_condition(lr: float, kappa: float) -> dict[str, Any]:
    ls = quadratic(kappa=float(kappa))
    path = gradient_descent(ls.gradient, np.array(ls.start), lr, QUADRATIC_STEPS)
    with np.errstate(over="ignore", invalid="ignore"):
        loss = ls.value(path)
    etas = np.geomspace(1e-2, 10**0.5, 200)
    lam_min, lam_max = 1.0, float(kappa)
    rho = np.maximum(np.abs(1 - etas * lam_min), np.abs(1 - etas * lam_max))
    return {
        "lr": lr,
        "kappa": float(kappa),
        "path": path,
        "loss": loss,
        "window": ls.window,
        "etas": etas,
        "rho": rho,
        "rho_now": max(abs(1 - lr * lam_min), abs(1 - lr * lam_max)),
    }


def _draw_lr_condition(r: dict[str, Any], fig: Any) -> None:
    ax_path, ax_loss, ax_rho = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.25, 1, 1]})
    x0, x1, y0, y1 = r["window"]
    draw_lines(ax_path, _quadratic_contours(r["kappa"]), GREY)
    path = r["path"]
    finite = np.all(np.isfinite(path), axis=1) & np.all(np.abs(path) < 1e3, axis=1)
    ax_path.plot(path[finite, 0], path[finite, 1], "-o", color=BLUE, ms=2.5, lw=1)
    ax_path.plot(*path[0], "s", color="k", ms=5)
    ax_path.plot(0, 0, "*", color=GREEN, ms=10)
    ax_path.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="θ₁ (flat direction, λ_min = 1)")
    ax_path.set_xticks([-2, -1, 0, 1, 2], ["−2", "−1", "0", "1", "2"])
    ax_path.set_yticks([-1, 0, 1], ["−1", "0", "1"])
    ax_path.set_ylabel("θ₂ (steep direction, λ_max = κ)")
    ax_path.set_title(f"path of θ_t, η = {r['lr']:.3g}, κ = {r['kappa']:g}", fontsize=10, y=1.0)

    loss = np.where(np.isfinite(r["loss"]), r["loss"], np.nan)
    ax_loss.semilogy(np.arange(len(loss)), np.clip(loss, 1e-12, 1e12), color=BLUE)
    ax_loss.set(ylim=(1e-10, 1e6), xlim=(0, len(loss) - 1), xlabel="step t", ylabel="loss L(θ_t)")
    plain_log_ticks(ax_loss.yaxis)
    ax_loss.set_yticks([1e-10, 1e-6, 1e-2, 1e2, 1e6], ["1e-10", "1e-6", "1e-2", "1e2", "1e6"])
    ax_loss.set_xticks([0, 20, 40])
    verdict = "diverges" if r["rho_now"] > 1 else ("converges" if r["rho_now"] < 1 else "oscillates")
    ax_loss.set_title(f"loss: {verdict}", fontsize=10, y=1.0, color=RED if r["rho_now"] > 1 else "k")
    ax_loss.grid(alpha=0.3)

    boundary = 2.0 / r["kappa"]
    best = 2.0 / (1.0 + r["kappa"])
    ax_rho.semilogx(r["etas"], r["rho"], color="k", lw=1.2)
    ax_rho.axhline(1.0, color=RED, lw=0.8, ls="--")
    ax_rho.axvspan(boundary, r["etas"][-1], color=RED, alpha=0.1)
    ax_rho.axvline(best, color=GREEN, lw=0.8, ls=":")
    # inside the axes whatever the boundary: top left, where ρ(η) stays near 1
    ax_rho.text(0.03, 0.96, "diverges where\nη > 2/λ_max", color=RED, fontsize=10, va="top",
                transform=ax_rho.transAxes)  # fmt: skip
    ax_rho.text(best, 0.05, "η* ", color=GREEN, fontsize=10, ha="right")
    ax_rho.plot(r["lr"], min(r["rho_now"], 1.95), "o", color=BLUE, ms=7)
    ax_rho.set(
        xlabel="learning rate η",
        ylabel="ρ(η) = max |1 − ηλ|",
        ylim=(0, 2),
        xlim=(r["etas"][0], r["etas"][-1]),
    )
    ax_rho.set_title("contraction per step", fontsize=10, y=1.0)
    ax_rho.set_yticks([0, 0.5, 1, 1.5, 2], ["0", "0.5", "1", "1.5", "2"])
    plain_log_ticks(ax_rho.xaxis)
    ax_rho.grid(alpha=0.3, lw=0.4)


def lr_condition() -> Explorable:
    """Learning rate η × condition number κ on the quadratic ``½(θ₁² + κ θ₂²)``."""
    return Explorable(
        name="gd-lr-condition",
        title="Gradient descent on a quadratic: learning rate × condition number",
        params={
            "lr": LogGrid(0.01, 10**0.5, num=16, default=0.1, label="learning rate η"),  # 6 per decade
            "kappa": Choice([1, 4, 16, 50], default=16, label="condition number κ"),
        },
        compute=_compute_lr_condition,
        draw=_draw_lr_condition,
        figsize=(8.6, 3.5),
    )


# -- (b) cliff and clipping ---------------------------------------------------------------------------------------
CLIFF = {"height": 50.0, "sharpness": 100.0, "wall": 1.0, "slope": 1.0}
CLIFF_START = (-1.5, 0.0)
CLIFF_STEPS = 100


def _read_only(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    for a in arrays:
        a.flags.writeable = False  # cached: shared by the frames that show it
    return arrays


@functools.cache
def _cliff_path(lr: float, threshold: float | None) -> tuple[np.ndarray, ...]:
    """Path and losses of gradient descent on the cliff (``threshold=None``: no clipping), computed once: the run
    without clipping is the same for every τ, and toggling clipping swaps the same two runs."""
    ls = cliff(**CLIFF)
    path = gradient_descent(ls.gradient, np.array(CLIFF_START), lr, CLIFF_STEPS, clip=threshold)
    return _read_only(path, ls.value(path))


@functools.cache
def _cliff_section() -> tuple[np.ndarray, ...]:
    """The loss along θ₁ (θ₂ = 0): the same in every frame."""
    xs = np.linspace(-4.0, 1.6, 400)
    return _read_only(xs, cliff(**CLIFF).value(np.stack([xs, np.zeros_like(xs)], -1)))


def _compute_cliff(lr: float, threshold: float, clip: bool) -> dict[str, Any]:
    ls = cliff(**CLIFF)
    free, loss_free = _cliff_path(lr, None)
    clipped, loss_clipped = _cliff_path(lr, threshold)
    return {
        "lr": lr,
        "threshold": threshold,
        "clip": bool(clip),
        "free": free,
        "clipped": clipped,
        "loss_free": loss_free,
        "loss_clipped": loss_clipped,
        "section": _cliff_section(),
        "minimum": ls.minima[0],
        "loss_min": float(ls.value(ls.minima[0])),
    }


def _draw_cliff(r: dict[str, Any], fig: Any) -> None:
    ax_land, ax_pos, ax_loss = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.2, 1, 1]})
    main, other = ("clipped", "free") if r["clip"] else ("free", "clipped")
    color = ORANGE if r["clip"] else BLUE
    label = f"clipped, τ = {r['threshold']:.3g}" if r["clip"] else "no clipping"
    other_label = "no clipping" if r["clip"] else f"clipped, τ = {r['threshold']:.3g}"
    xs, section = r["section"]
    path = r[main]
    t = np.arange(len(path))

    ax_land.plot(xs, section, color="k", lw=1.2)
    ax_land.scatter(path[:, 0], r[f"loss_{main}"], c=t, cmap="viridis", s=10, zorder=3)
    ax_land.plot(*r["minimum"][:1], r["loss_min"], "*", color=GREEN, ms=11, zorder=4)
    ax_land.set(
        xlim=(xs[0], xs[-1]), ylim=(section.min() - 0.3, section.min() + 6), xlabel="θ₁", ylabel="L(θ₁, 0)"
    )
    ax_land.set_title("loss along θ₁; iterates\ndark → light as t grows", fontsize=10, y=1.0)
    ax_land.set_xticks([-4, -2, 0], ["−4", "−2", "0"])
    ax_land.set_yticks([-1, 1, 3, 5], ["−1", "1", "3", "5"])

    ax_pos.plot(t, r[other][:, 0], color=GREY, lw=0.8, label=other_label)
    ax_pos.plot(t, path[:, 0], color=color, lw=1.3, label=label)
    ax_pos.axhline(CLIFF["wall"], color=RED, lw=0.8, ls=":")
    ax_pos.text(0, CLIFF["wall"] + 0.05, "wall", color=RED, fontsize=10, va="bottom")
    ax_pos.set(xlabel="step t", ylabel="θ₁,t", xlim=(0, t[-1]), ylim=(-5.2, 1.6))  # room for the legend
    ax_pos.set_title(f"position, η = {r['lr']:g}", fontsize=10, y=1.0)
    ax_pos.set_xticks([0, 50, 100])
    ax_pos.set_yticks([-4, -2, 0], ["−4", "−2", "0"])
    ax_pos.legend(loc="lower right", fontsize=10)

    gap = lambda v: np.clip(v - r["loss_min"], 1e-4, None)  # noqa: E731
    ax_loss.set_yscale("log")
    ax_loss.plot(t, gap(r[f"loss_{other}"]), color=GREY, lw=0.8)
    ax_loss.plot(t, gap(r[f"loss_{main}"]), color=color, lw=1.3)
    ax_loss.set(xlabel="step t", ylabel="L(θ_t) − L(θ*)", ylim=(1e-4, 1e2), xlim=(0, t[-1]))
    plain_log_ticks(ax_loss.yaxis)
    ax_loss.set_yticks([1e-4, 1e-2, 1, 1e2], ["1e-4", "1e-2", "1", "1e2"])
    ax_loss.set_xticks([0, 50, 100])
    # the longest step tells the two apart: a clipped step is at most ητ long, so with a large τ the iterate
    # falls back from the wall in short hops and reaches it again sooner (more hops, each far shorter)
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    jumps = int(np.sum(steps > 0.5))
    cap = f" (cap ητ = {r['lr'] * r['threshold']:.2g})" if r["clip"] else ""
    ax_loss.set_title(
        f"longest step {steps.max():.2g}{cap}\n{jumps} steps longer than 0.5", fontsize=10, y=1.0
    )
    ax_loss.grid(alpha=0.3)


def cliff_clipping() -> Explorable:
    """Gradient descent towards a steep wall, with and without gradient-norm clipping."""
    return Explorable(
        name="gd-cliff-clipping",
        title="A cliff: exploding gradients and gradient clipping",
        params={
            "lr": Choice([0.02, 0.05, 0.1], default=0.1, label="learning rate η"),
            "threshold": LogGrid(0.1, 10.0, num=9, default=1.0, label="clipping threshold τ"),
            "clip": Toggle(default=False, label="clip the gradient norm"),
        },
        compute=_compute_cliff,
        draw=_draw_cliff,
        figsize=(8.6, 3.6),
    )


# -- (c) saddle and noise -----------------------------------------------------------------------------------------
SADDLE_STEPS = 150


@functools.cache
def _saddle_plain(lr: float) -> tuple[np.ndarray, ...]:
    """Plain gradient descent from the start on the stable manifold: it depends only on η, computed once each."""
    ls = saddle()
    path = gradient_descent(ls.gradient, np.array(ls.start), lr, SADDLE_STEPS)
    return _read_only(path, ls.value(path))


def _compute_saddle(noise: float, lr: float, seed: int) -> dict[str, Any]:
    ls = saddle()
    plain, loss_plain = _saddle_plain(lr)
    noisy = gradient_descent(ls.gradient, np.array(ls.start), lr, SADDLE_STEPS, noise=noise, seed=seed)
    loss_noisy = ls.value(noisy)
    escaped = np.nonzero(loss_noisy < -0.125)[0]
    return {
        "noise": noise,
        "lr": lr,
        "plain": plain,
        "noisy": noisy,
        "loss_plain": loss_plain,
        "loss_noisy": loss_noisy,
        "escape_step": int(escaped[0]) if len(escaped) else None,
        "window": ls.window,
        "minima": ls.minima,
    }


def _draw_saddle(r: dict[str, Any], fig: Any) -> None:
    ax_path, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    draw_lines(ax_path, _saddle_contours(), GREY)
    ax_path.plot(r["plain"][:, 0], r["plain"][:, 1], "-o", color=BLUE, ms=2, lw=1, label="gradient descent")
    ax_path.plot(
        r["noisy"][:, 0],
        r["noisy"][:, 1],
        "-",
        color=ORANGE,
        lw=1.2,
        label=f"with noise σ = {r['noise']:.0e}",
    )
    ax_path.plot(0, 0, "x", color=RED, ms=9, mew=2, label="saddle")
    ax_path.plot(r["minima"][:, 0], r["minima"][:, 1], "*", color=GREEN, ms=11, ls="none", label="minima")
    x0, x1, y0, y1 = r["window"]
    ax_path.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="θ₁", ylabel="θ₂")
    ax_path.set_xticks([-2, -1, 0, 1, 2], ["−2", "−1", "0", "1", "2"])
    ax_path.set_yticks([-1, 0, 1], ["−1", "0", "1"])
    ax_path.set_title(f"η = {r['lr']:g}: L = ½θ₁² + ¼θ₂⁴ − ½θ₂²", fontsize=10, y=1.0)
    ax_path.legend(loc="lower left", fontsize=10, framealpha=0.9)

    # the colours of the runs are those of the left panel's legend
    t = np.arange(len(r["loss_plain"]))
    ax_loss.plot(t, r["loss_plain"], color=BLUE, lw=1.2)
    ax_loss.plot(t, r["loss_noisy"], color=ORANGE, lw=1.2)
    ax_loss.axhline(0.0, color=RED, lw=0.8, ls=":")
    ax_loss.axhline(-0.25, color=GREEN, lw=0.8, ls="--")
    # top right: the curves are there only in the first steps, at the far left
    key = {"fontsize": 10, "ha": "right", "va": "top", "transform": ax_loss.transAxes}
    ax_loss.text(0.97, 0.96, "dotted: saddle value", color=RED, **key)
    ax_loss.text(0.97, 0.86, "dashed: minimum value", color=GREEN, **key)
    ax_loss.set(xlabel="step t", ylabel="loss L(θ_t)", ylim=(-0.3, 0.5), xlim=(0, t[-1]))
    ax_loss.set_xticks([0, 50, 100, 150])
    ax_loss.set_yticks([-0.2, 0, 0.2, 0.4], ["−0.2", "0", "0.2", "0.4"])
    step = r["escape_step"]
    ax_loss.set_title(
        f"noisy run escapes at step {step}" if step is not None else "no escape within the run",
        fontsize=10,
        y=1.0,
    )
    ax_loss.grid(alpha=0.3)


def saddle_noise() -> Explorable:
    """Gradient descent stuck at a saddle point vs gradient descent with a little gradient noise."""
    return Explorable(
        name="gd-saddle-noise",
        title="A saddle point: gradient descent with and without noise",
        params={
            "noise": LogGrid(1e-8, 1e-1, num=8, default=1e-4, label="noise σ"),
            "lr": Choice([0.05, 0.1, 0.2], default=0.1, label="learning rate η"),
            "seed": Choice([0, 1, 2], default=0, label="seed"),
        },
        compute=_compute_saddle,
        draw=_draw_saddle,
        figsize=(8.6, 3.6),
    )


EXPLORABLES = [lr_condition, cliff_clipping, saddle_noise]
