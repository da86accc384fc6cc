"""Explorables of the chapter "Initialization and normalization".

- :func:`depth_signal`: a deep fully connected network at initialization; the standard deviation of the
  pre-activations (forward pass) and of the backpropagated gradients (backward pass) layer by layer, for an initializer
  (Glorot, He, or the badly scaled N(0, 1)) × an activation (ReLU, tanh) × the depth (the passes:
  :func:`course_pkg.experiments.deepnets.signal_through_depth`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_pkg.experiments.deepnets import INITS, WIDTH, signal_through_depth
from course_pkg.explore import Choice, Explorable, LinGrid, log10_ticks

BLUE = "#1f77b4"
ORANGE = "#d95f02"
GREY = "#8c8c8c"
RED = "#c0392b"

#: Values off the plotted range [1e-15, 1e15] are drawn at its edge.
YLIM = (1e-15, 1e15)


def _compute(init: str, activation: str, depth: int) -> dict[str, Any]:
    r = signal_through_depth(init, activation, int(depth))
    return {"init": init, "activation": activation, "depth": int(depth), **r}


def _clip(v: np.ndarray) -> np.ndarray:
    v = np.where(np.isfinite(v), v, YLIM[1])
    return np.clip(v, *YLIM)


#: Tick marks of the log-scaled y axes: every fifth power of ten.
Y_TICKS = (1e-10, 1e-5, 1.0, 1e5, 1e10)


def _draw(r: dict[str, Any], fig: Any) -> None:
    # log10 values on linear axes with fixed ticks: the same picture as a log scale, without setting one up per frame
    ax_f, ax_b = fig.subplots(1, 2)
    layers = np.arange(1, r["depth"] + 1)
    step = 5 if r["depth"] <= 25 else 10
    color = {"Glorot": BLUE, "He": ORANGE}.get(r["init"], RED)
    for ax, key, title in [
        (ax_f, "z_std", "forward: std of the pre-activations z⁽ᵏ⁾"),
        (ax_b, "grad_std", "backward: std of the gradients ∂L/∂z⁽ᵏ⁾"),
    ]:
        v = r[key]
        ax.plot(layers, np.log10(_clip(v)), "-o", color=color, ms=3, lw=1.3)
        ax.axhline(0.0, color=GREY, lw=0.8, ls="--")
        ax.set(xlabel="layer k", ylim=np.log10(YLIM), xlim=(0.5, max(r["depth"], 2) + 0.5))
        ax.set_xticks(np.arange(step, r["depth"] + 1, step))
        log10_ticks(ax.yaxis, Y_TICKS)
        ratio = v[-1] / v[0] if key == "z_std" else v[0] / v[-1]
        where = "last/first" if key == "z_std" else "first/last"
        ax.set_title(f"{title}\n{where} layer: {ratio:.2g}", fontsize=10, y=1.0)
        ax.grid(axis="y", alpha=0.3, lw=0.4)
    ax_f.set_ylabel(f"{r['init']} init, {r['activation']}, width {WIDTH}")


def depth_signal() -> Explorable:
    """Initializer × activation × depth: how the forward signal and the gradients scale through the layers."""
    return Explorable(
        name="deepnets-depth-signal",
        title="Signal propagation at initialization: initializer × activation × depth",
        params={
            "init": Choice(list(INITS), default="Glorot", label="initializer"),
            "activation": Choice(["ReLU", "tanh"], default="ReLU", label="activation φ"),
            "depth": LinGrid(5, 50, num=10, default=30, label="depth (layers)"),
        },
        compute=_compute,
        draw=_draw,
        figsize=(8.6, 3.8),
    )


EXPLORABLES = [depth_signal]
