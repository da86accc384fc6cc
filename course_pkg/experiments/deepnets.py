"""Experiments of the chapter "Initialization and normalization": the signal through a deep network at initialization.

- :func:`signal_through_depth`: the forward and backward pass of a bias-free fully connected network at
  initialization, with the standard deviation of the pre-activations and of the backpropagated gradients layer by
  layer, for an initializer of :data:`INITS` (Glorot, He, or the badly scaled N(0, 1)) and an activation (ReLU, tanh).
"""

from __future__ import annotations

import numpy as np

__all__ = ["WIDTH", "BATCH", "INITS", "signal_through_depth"]

#: Width n of every hidden layer and batch size B of the explorable's network.
WIDTH = 128
BATCH = 32
#: Weight standard deviation of each initializer for a square ``n × n`` layer (fan_in = fan_out = n).
INITS = {
    "Glorot": lambda n: np.sqrt(2.0 / (n + n)),
    "He": lambda n: np.sqrt(2.0 / n),
    "N(0, 1)": lambda n: 1.0,
}


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
