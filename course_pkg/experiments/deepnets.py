"""Experiments of the chapter "Initialization and normalization": the signal through a deep network at initialization.

- :func:`signal_through_depth`: the forward and backward pass of a bias-free fully connected network at
  initialization, with the standard deviation of the pre-activations and of the backpropagated gradients layer by
  layer, for an initializer of :data:`INITS` (Glorot, He, or the badly scaled N(0, 1)) and an activation (ReLU, tanh).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from course_pkg.experiments import one_blas_thread

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
    with one_blas_thread():
        return _signal(INITS[init](width), activation, depth, width, batch, seed)


#: The normal draws of this many layers (or of the depth, if larger) are made once per process and reused.
_CACHED_LAYERS = 50


@cache
def _normal_stream(seed: int, count: int) -> np.ndarray:
    """The first ``count`` standard normal draws of ``default_rng(seed)`` (read-only): the same numbers as drawing
    them in chunks of any sizes, in order."""
    draws = np.random.default_rng(seed).standard_normal(count)
    draws.flags.writeable = False
    return draws


def _signal(
    s: float, activation: str, depth: int, width: int, batch: int, seed: int
) -> dict[str, np.ndarray]:
    # the documented draws, in order: x (batch × width), W⁽¹⁾, …, W⁽ᴺ⁾ (width × width each), ∂L/∂h⁽ᴺ⁾ (batch ×
    # width); the prefix x, W⁽¹⁾, W⁽²⁾, … is the same for every depth, so one stream serves them all
    bw, ww = batch * width, width * width
    stream = _normal_stream(seed, 2 * bw + max(depth, _CACHED_LAYERS) * ww)
    h = stream[:bw].reshape(batch, width)
    normal_ws = stream[bw : bw + depth * ww].reshape(depth, width, width)
    dh = stream[bw + depth * ww : 2 * bw + depth * ww].reshape(batch, width)
    zs, hs, ws = [], [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(depth):
            w = s * normal_ws[k]
            z = h @ w.T
            h = np.maximum(z, 0.0) if activation == "ReLU" else np.tanh(z)
            ws.append(w)
            zs.append(z)
            hs.append(h)
        grad_std = np.empty(depth)
        for ell in range(depth - 1, -1, -1):
            # φ'(z) = 1 - tanh(z)² is read off the forward pass's h = tanh(z)
            dz = dh * ((zs[ell] > 0) if activation == "ReLU" else 1.0 - hs[ell] ** 2)
            grad_std[ell] = dz.std()
            dh = dz @ ws[ell]
    return {
        "z_std": np.array([z.std() for z in zs]),
        "grad_std": grad_std,
    }
