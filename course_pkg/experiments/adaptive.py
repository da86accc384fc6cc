"""Experiments of the chapter "Adaptive learning rates: Adagrad, RMSprop, AdaDelta".

Per-coordinate updates with torch.optim's default hyper-parameters (g_t the gradient at θ_{t−1}, squares and
square roots elementwise):

- Adagrad:  s_t = s_{t−1} + g_t²;                      θ_t = θ_{t−1} − η g_t / (√s_t + ε),   ε = 1e−10
- RMSprop:  v_t = α v_{t−1} + (1 − α) g_t²;            θ_t = θ_{t−1} − η g_t / (√v_t + ε),   α = 0.99, ε = 1e−8
- Adadelta: v_t = ρ v_{t−1} + (1 − ρ) g_t²;  Δ_t = √(u_{t−1} + ε)/√(v_t + ε) · g_t;  u_t = ρ u_{t−1} + (1 − ρ) Δ_t²;
            θ_t = θ_{t−1} − η Δ_t,  ρ = 0.9, ε = 1e−6

The *effective learning rate* of coordinate j at step t is the factor multiplying (g_t)_j: η/(√s_t + ε),
η/(√v_t + ε), and η √(u_{t−1} + ε)/√(v_t + ε) respectively (plain SGD: η).

- :func:`adaptive_run`: one of :data:`METHODS` with a gradient oracle: the iterates and effective learning rates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["METHODS", "adaptive_run"]

METHODS = ("SGD", "SGD-sqrt", "Adagrad", "RMSprop", "Adadelta")


def adaptive_run(
    method: str, lr: float, gradients: Any, theta0: np.ndarray, steps: int
) -> dict[str, np.ndarray]:
    """Run one of :data:`METHODS` (torch.optim's defaults) with a gradient oracle.

    Parameters
    ----------
    method : str
        ``"SGD"`` (constant η), ``"SGD-sqrt"`` (η/√t, the classic online-learning schedule), ``"Adagrad"``,
        ``"RMSprop"`` or ``"Adadelta"``.
    lr : float
        Learning rate η (for Adadelta, torch's multiplier ``lr``, default 1.0).
    gradients : callable
        ``gradients(theta, t) -> g_t`` for t = 1, …, steps.
    theta0 : numpy.ndarray
        Starting point θ₀.
    steps : int
        Number of steps.

    Returns
    -------
    dict
        ``"theta"`` (steps + 1, d) iterates and ``"eff_lr"`` (steps, d) effective learning rates.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if lr <= 0:
        raise ValueError(f"Invalid learning rate: {lr}")
    theta = np.asarray(theta0, dtype=float).copy()
    d = theta.size
    acc = np.zeros(d)  # s (Adagrad) or v (RMSprop, Adadelta)
    acc_delta = np.zeros(d)  # u (Adadelta)
    thetas = np.empty((steps + 1, d))
    eff = np.empty((steps, d))
    thetas[0] = theta
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            if not np.all(np.isfinite(theta)):  # diverged: the remaining iterates are NaN
                thetas[t:] = np.nan
                eff[t - 1 :] = np.nan
                break
            g = gradients(theta, t)
            if method == "SGD":
                e = np.full(d, lr)
            elif method == "SGD-sqrt":
                e = np.full(d, lr / np.sqrt(t))
            elif method == "Adagrad":
                acc += g * g
                e = lr / (np.sqrt(acc) + 1e-10)
            elif method == "RMSprop":
                acc = 0.99 * acc + 0.01 * g * g
                e = lr / (np.sqrt(acc) + 1e-8)
            else:
                acc = 0.9 * acc + 0.1 * g * g
                e = lr * np.sqrt(acc_delta + 1e-6) / np.sqrt(acc + 1e-6)
                delta = e / lr * g
                acc_delta = 0.9 * acc_delta + 0.1 * delta * delta
            theta = theta - e * g
            thetas[t] = theta
            eff[t - 1] = e
    return {"theta": thetas, "eff_lr": eff}
