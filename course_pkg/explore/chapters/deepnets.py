"""Explorables of the chapter "Initialization and normalization".

- :func:`depth_signal`: a deep fully connected network at initialization; the standard deviation of the
  pre-activations (forward pass) and of the backpropagated gradients (backward pass) layer by layer, for an initializer
  (Glorot, He, or the badly scaled N(0, 1)) × an activation (ReLU, tanh) × the depth.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_pkg.explore import Choice, Explorable, LinGrid, plain_log_ticks

BLUE = "#1f77b4"
ORANGE = "#d95f02"
GREY = "#8c8c8c"
RED = "#c0392b"

#: Width n of every hidden layer and batch size B of the explorable's network.
WIDTH = 128
BATCH = 32
#: Weight standard deviation of each initializer for a square ``n × n`` layer (fan_in = fan_out = n).
INITS = {
    "Glorot": lambda n: np.sqrt(2.0 / (n + n)),
    "He": lambda n: np.sqrt(2.0 / n),
    "N(0, 1)": lambda n: 1.0,
}
#: Values off the plotted range [1e-15, 1e15] are drawn at its edge.
YLIM = (1e-15, 1e15)


def signal_through_depth(
    init: str, activation: str, depth: int, width: int = WIDTH, batch: int = BATCH, seed: int = 0
) -> dict[str, np.ndarray]:
    """Forward and backward pass of a bias-free MLP at initialization, recording the spread layer by layer.

    Layer k = 1, …, N (N = depth) computes ``z⁽ᵏ⁾ = h⁽ᵏ⁻¹⁾ W⁽ᵏ⁾ᵀ`` and ``h⁽ᵏ⁾ = φ(z⁽ᵏ⁾)`` with ``W⁽ᵏ⁾`` of shape
    ``(width, width)`` drawn i.i.d. ``N(0, s²)`` (``s`` from :data:`INITS`) and ``h⁽⁰⁾ = x ~ N(0, I)``. The backward
    pass starts from ``∂L/∂h⁽ᴺ⁾ ~ N(0, I)`` (a random linear read-out) and applies the chain rule
    ``∂L/∂z⁽ᵏ⁾ = ∂L/∂h⁽ᵏ⁾ ⊙ φ'(z⁽ᵏ⁾)``, ``∂L/∂h⁽ᵏ⁻¹⁾ = ∂L/∂z⁽ᵏ⁾ W⁽ᵏ⁾``.

    BLAS runs on one thread (the matrices are small, and a busy machine makes threads slower, not faster).

    Returns
    -------
    dict
        ``z_std`` (std of ``z⁽ᵏ⁾``) and ``grad_std`` (std of the backpropagated ``∂L/∂z⁽ᵏ⁾``), each of length
        N (index k − 1).
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {list(INITS)}, got {init!r}")
    if activation not in ("ReLU", "tanh"):
        raise ValueError(f"activation must be 'ReLU' or 'tanh', got {activation!r}")
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        return _signal(INITS[init](width), activation, depth, width, batch, seed)


def _signal(
    s: float, activation: str, depth: int, width: int, batch: int, seed: int
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((batch, width))
    zs, ws = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(depth):
            w = s * rng.standard_normal((width, width))
            z = h @ w.T
            h = np.maximum(z, 0.0) if activation == "ReLU" else np.tanh(z)
            ws.append(w)
            zs.append(z)
        dh = rng.standard_normal((batch, width))
        grad_std = np.empty(depth)
        for ell in range(depth - 1, -1, -1):
            z = zs[ell]
            dz = dh * ((z > 0) if activation == "ReLU" else 1.0 - np.tanh(z) ** 2)
            grad_std[ell] = dz.std()
            dh = dz @ ws[ell]
    return {
        "z_std": np.array([z.std() for z in zs]),
        "grad_std": grad_std,
    }


def _compute(init: str, activation: str, depth: int) -> dict[str, Any]:
    r = signal_through_depth(init, activation, int(depth))
    return {"init": init, "activation": activation, "depth": int(depth), **r}


def _clip(v: np.ndarray) -> np.ndarray:
    v = np.where(np.isfinite(v), v, YLIM[1])
    return np.clip(v, *YLIM)


def _draw(r: dict[str, Any], fig: Any) -> None:
    ax_f, ax_b = fig.subplots(1, 2)
    layers = np.arange(1, r["depth"] + 1)
    color = {"Glorot": BLUE, "He": ORANGE}.get(r["init"], RED)
    for ax, key, title in [
        (ax_f, "z_std", "forward: std of the pre-activations z⁽ᵏ⁾"),
        (ax_b, "grad_std", "backward: std of the gradients ∂L/∂z⁽ᵏ⁾"),
    ]:
        v = r[key]
        ax.semilogy(layers, _clip(v), "-o", color=color, ms=3, lw=1.3)
        ax.axhline(1.0, color=GREY, lw=0.8, ls="--")
        ax.set(xlabel="layer k", ylim=YLIM, xlim=(0.5, max(r["depth"], 2) + 0.5))
        ratio = v[-1] / v[0] if key == "z_std" else v[0] / v[-1]
        where = "last/first" if key == "z_std" else "first/last"
        ax.set_title(f"{title}\n{where} layer: {ratio:.2g}", fontsize=10, y=1.0)
        ax.grid(alpha=0.3, lw=0.4)
        plain_log_ticks(ax.yaxis)
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
