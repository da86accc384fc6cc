"""Experiments of the chapter "Momentum and Nesterov": the convergence rate of momentum on a quadratic.

Heavy-ball momentum in torch's form, with g_t the gradient at θ_{t−1} and b_t the momentum buffer:

    b_t = β b_{t−1} + g_t,    θ_t = θ_{t−1} − η b_t                    (heavy ball)
    b_t = β b_{t−1} + g_t,    θ_t = θ_{t−1} − η (g_t + β b_t)          (Nesterov, torch's form)

On a quadratic with Hessian eigenvalue λ each eigencomponent evolves linearly; its characteristic polynomial is

    z² − (1 + β − ηλ) z + β                 (heavy ball)
    z² − (1 + β)(1 − ηλ) z + β (1 − ηλ)     (Nesterov)

and the convergence rate (error factor per step, asymptotically) is the largest root modulus over the eigenvalues.

- :func:`convergence_rate`: that rate for any (η, β) and set of eigenvalues λ.
- :func:`optimal_heavy_ball`: Polyak's optimal (η*, β*) and the rate it reaches.
- :func:`heavy_ball_quadratic`: the iterates of momentum on f(θ) = ½ Σᵢ λᵢ θᵢ².
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["convergence_rate", "optimal_heavy_ball", "heavy_ball_quadratic"]


def convergence_rate(lr: Any, beta: Any, eigenvalues: Any, nesterov: bool = False) -> np.ndarray:
    """Asymptotic convergence rate of heavy-ball (or Nesterov) momentum on a quadratic.

    Parameters
    ----------
    lr, beta : array_like
        Learning rate η and momentum β (broadcast against each other).
    eigenvalues : array_like
        Eigenvalues λ of the Hessian (1-D).
    nesterov : bool
        Nesterov's look-ahead variant (torch's form).

    Returns
    -------
    numpy.ndarray
        max over λ of the largest modulus of the roots of the characteristic polynomial (see the module
        docstring); the error shrinks like rateᵗ, and the iteration diverges when the rate is ≥ 1.
    """
    lr = np.asarray(lr, dtype=float)[..., None]
    beta = np.asarray(beta, dtype=float)[..., None]
    lam = np.asarray(eigenvalues, dtype=float)
    if nesterov:
        trace = (1 + beta) * (1 - lr * lam)
        det = beta * (1 - lr * lam)
    else:
        trace = 1 + beta - lr * lam
        det = beta + 0 * lam
    disc = trace**2 - 4 * det
    sq = np.sqrt(np.abs(disc))
    real_roots = np.maximum(np.abs(trace + sq), np.abs(trace - sq)) / 2
    complex_roots = np.sqrt(np.abs(det))
    return np.where(disc >= 0, real_roots, complex_roots).max(axis=-1)


def optimal_heavy_ball(lam_min: float, lam_max: float) -> tuple[float, float, float]:
    """Polyak's optimal heavy-ball parameters on a quadratic with eigenvalues in [λ_min, λ_max].

    Returns
    -------
    (η*, β*, rate*)
        η* = (2 / (√λ_max + √λ_min))², β* = ((√κ − 1)/(√κ + 1))², rate* = (√κ − 1)/(√κ + 1), κ = λ_max/λ_min.
    """
    if not 0 < lam_min <= lam_max:
        raise ValueError(f"need 0 < lam_min <= lam_max, got lam_min={lam_min}, lam_max={lam_max}")
    sk = math.sqrt(lam_max / lam_min)
    rate = (sk - 1) / (sk + 1)
    return (2 / (math.sqrt(lam_max) + math.sqrt(lam_min))) ** 2, rate**2, rate


def heavy_ball_quadratic(
    lr: float, beta: float, eigenvalues: np.ndarray, theta0: np.ndarray, steps: int, nesterov: bool = False
) -> np.ndarray:
    """Iterates θ_0, …, θ_steps of momentum on f(θ) = ½ Σᵢ λᵢ θᵢ² (torch's form, b_0 = 0).

    Returns
    -------
    numpy.ndarray
        Shape (steps + 1, d); non-finite values once the iteration has overflowed.
    """
    lam = np.asarray(eigenvalues, dtype=float)
    theta = np.asarray(theta0, dtype=float).copy()
    b = np.zeros_like(theta)
    out = np.empty((steps + 1, theta.size))
    out[0] = theta
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            g = lam * theta
            b = beta * b + g
            theta = theta - lr * (g + beta * b if nesterov else b)
            out[t] = theta
    return out
