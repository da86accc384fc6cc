"""Experiments of the chapter "Adaptive learning rates: Adagrad, RMSprop, AdaDelta".

Per-coordinate updates with torch.optim's default hyper-parameters (g_t the gradient at θ_{t−1}, squares and
square roots elementwise):

- Adagrad:  s_t = s_{t−1} + g_t²;                      θ_t = θ_{t−1} − η g_t / (√s_t + ε),   ε = 1e−10
- RMSprop:  v_t = β₂ v_{t−1} + (1 − β₂) g_t²;          θ_t = θ_{t−1} − η g_t / (√v_t + ε),   β₂ = 0.99 (torch's
            ``alpha``), ε = 1e−8
- Adadelta: v_t = β₂ v_{t−1} + (1 − β₂) g_t²;  Δ_t = √(u_{t−1} + ε)/√(v_t + ε) · g_t;  u_t = β₂ u_{t−1} + (1 − β₂) Δ_t²;
            θ_t = θ_{t−1} − η Δ_t,  β₂ = 0.9 (torch's ``rho``), ε = 1e−6

The *effective learning rate* of coordinate j at step t is the factor multiplying (g_t)_j: η/(√s_t + ε),
η/(√v_t + ε), and η √(u_{t−1} + ε)/√(v_t + ε) respectively (plain SGD: η).

- :func:`adaptive_run`: one of :data:`METHODS` with a gradient oracle: the iterates and effective learning rates.
- :func:`quadratic_problem`, :func:`sparse_problem`: the two problems they run on (an ill-conditioned quadratic,
  a sparse-feature regression stream), each a gradient oracle with its start, minimiser and number of steps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["METHODS", "adaptive_run", "quadratic_problem", "sparse_problem"]

METHODS = ("SGD", "SGD-sqrt", "Adagrad", "RMSprop", "Adadelta")

#: Eigenvalues of the quadratic problem and probability that the rare feature of the sparse problem is on.
QUAD_EIGS = np.array([1.0, 0.01])
RARE_PROB = 0.05
DENSE_SCALE = 3.0
QUAD_STEPS = 200
SPARSE_STEPS = 1000


def quadratic_problem() -> dict[str, Any]:
    """L(θ) = ½ (θ₁² + 0.01 θ₂²) from θ₀ = (1, 1): gradients differ by a factor 100 between coordinates."""
    return {
        "gradients": lambda theta, t: QUAD_EIGS * theta,
        "theta0": np.array([1.0, 1.0]),
        "theta_star": np.zeros(2),
        "steps": QUAD_STEPS,
    }


def sparse_problem(seed: int = 0, dense_scale: float = DENSE_SCALE) -> dict[str, Any]:
    """Online least squares with one dense and one rare feature.

    Example t has features x_t = (c, b_t) — a frequent feature of size c = ``dense_scale`` (default 3) and a
    rare one, b_t ~ Bernoulli(0.05) — target y_t = x_tᵀθ* + 0.5 ξ_t with θ* = (1, 2) and ξ_t standard normal;
    the per-example loss ½ (x_tᵀθ − y_t)² has gradient (x_tᵀθ − y_t) x_t, whose second coordinate is zero
    whenever the rare feature is off. With c > 1 the frequent feature's larger gradients limit the learning rate
    that plain SGD can use.
    """
    rng = np.random.default_rng(seed)
    X = np.stack(
        [dense_scale * np.ones(SPARSE_STEPS), (rng.random(SPARSE_STEPS) < RARE_PROB).astype(float)], axis=1
    )
    theta_star = np.array([1.0, 2.0])
    y = X @ theta_star + 0.5 * rng.standard_normal(SPARSE_STEPS)

    rows, targets = X.tolist(), y.tolist()  # plain floats: a tenth of NumPy's overhead on 2-vectors

    def gradients(theta: np.ndarray, t: int) -> np.ndarray:
        x = rows[t - 1]
        residual = 0.0
        for xj, tj in zip(x, np.asarray(theta, dtype=float).tolist()):
            residual += xj * tj
        residual -= targets[t - 1]
        return np.array([residual * xj for xj in x])

    return {
        "gradients": gradients,
        "theta0": np.zeros(2),
        "theta_star": theta_star,
        "steps": SPARSE_STEPS,
        "X": X,
    }


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
        ``"theta"`` (steps + 1, d) iterates and ``"eff_lr"`` (steps, d) effective learning rates. Once an iterate
        is not finite (the run diverged), every later iterate and effective learning rate is NaN.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if lr <= 0:
        raise ValueError(f"Invalid learning rate: {lr}")
    # the updates are per coordinate: plain Python floats (the same IEEE arithmetic as NumPy's, bit for bit) are
    # several times faster than NumPy on these 1- or 2-D problems, which a frame of the explorable waits for
    theta = np.asarray(theta0, dtype=float).ravel().tolist()
    d = len(theta)
    acc = [0.0] * d  # s (Adagrad) or v (RMSprop, Adadelta)
    acc_delta = [0.0] * d  # u (Adadelta)
    thetas, eff = [theta], []
    sqrt = math.sqrt
    with np.errstate(over="ignore", invalid="ignore"):  # in the oracle, once a run has diverged
        for t in range(1, steps + 1):
            g = np.asarray(gradients(np.array(theta), t), dtype=float).ravel().tolist()
            if method == "SGD":
                e = [lr] * d
            elif method == "SGD-sqrt":
                e = [lr / sqrt(t)] * d
            elif method == "Adagrad":
                acc = [a + gj * gj for a, gj in zip(acc, g)]
                e = [lr / (sqrt(a) + 1e-10) for a in acc]
            elif method == "RMSprop":
                acc = [0.99 * a + 0.01 * gj * gj for a, gj in zip(acc, g)]
                e = [lr / (sqrt(a) + 1e-8) for a in acc]
            else:
                acc = [0.9 * a + 0.1 * gj * gj for a, gj in zip(acc, g)]
                e = [lr * sqrt(u + 1e-6) / sqrt(a + 1e-6) for u, a in zip(acc_delta, acc)]
                delta = [ej / lr * gj for ej, gj in zip(e, g)]
                acc_delta = [0.9 * u + 0.1 * dj * dj for u, dj in zip(acc_delta, delta)]
            theta = [th - ej * gj for th, ej, gj in zip(theta, e, g)]
            thetas.append(theta)
            eff.append(e)
    thetas = np.array(thetas, dtype=float).reshape(steps + 1, d)
    eff = np.array(eff, dtype=float).reshape(steps, d)
    # a run that diverged: from the first iterate that is not finite on, the rest is NaN
    finite = np.isfinite(thetas).all(axis=1)
    if not finite.all():
        first_bad = int(np.argmin(finite))
        thetas[first_bad + 1 :] = np.nan
        eff[first_bad:] = np.nan
    return {"theta": thetas, "eff_lr": eff}
