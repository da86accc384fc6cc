"""Methods that use curvature: Newton's method, conjugate gradients, BFGS, and coordinate descent (numpy).

Every function minimises a function of θ ∈ ℝ^d given as callables (``value(θ)``, ``grad(θ)``, ``hess(θ)``) or, for
the quadratic L(θ) = ½ θᵀAθ - bᵀθ with A symmetric positive definite, as (A, b); each returns the whole path
θ_0, θ_1, ... as a ``(k + 1, d)`` array so that chapters can plot and count iterations. Line searches come from
:mod:`course_pkg.optim.line_search` (shared with :class:`course_pkg.optim.LBFGS`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_pkg.optim.line_search import armijo_backtracking, strong_wolfe

__all__ = [
    "accelerated_gradient",
    "bfgs",
    "conjugate_gradient",
    "coordinate_descent",
    "newton",
    "quadratic_gradient_descent",
]

Array = np.ndarray


def newton(
    grad: Callable[[Array], Array],
    hess: Callable[[Array], Array],
    theta0: Array,
    steps: int,
    value: Callable[[Array], float] | None = None,
    *,
    line_search: bool = False,
    tol: float = 1e-12,
) -> Array:
    """Newton's method θ_{t+1} = θ_t + s_t p_t with p_t = -H(θ_t)⁻¹ g_t (a linear solve, never an inverse).

    Without a line search s_t = 1 (the pure method: quadratic convergence near a minimum with H positive
    definite, no guarantee far from it). With ``line_search`` s_t comes from Armijo backtracking from 1; where H is
    not positive definite p_t may point uphill, and the step then falls back to steepest descent, p_t = -g_t.

    Parameters
    ----------
    grad, hess : callable
        g(θ) ∈ ℝ^d and H(θ) ∈ ℝ^{d×d}.
    theta0 : numpy.ndarray
        θ_0.
    steps : int
        The most iterations.
    value : callable, optional
        L(θ); needed with ``line_search``.
    line_search : bool, optional
        Use Armijo backtracking (default False).
    tol : float, optional
        Stop when ‖g‖ ≤ ``tol`` (default 1e-12).

    Returns
    -------
    numpy.ndarray
        The path, shape ``(k + 1, d)`` with k ≤ ``steps``.

    Raises
    ------
    ValueError
        If ``line_search`` is set without ``value``.
    """
    if line_search and value is None:
        raise ValueError("Newton's method with a line search needs value(θ)")
    theta = np.array(theta0, dtype=float)
    path = [theta.copy()]
    for _ in range(steps):
        g = grad(theta)
        if np.linalg.norm(g) <= tol:
            break
        p = np.linalg.solve(hess(theta), -g)
        if line_search:
            if not g @ p < 0:
                p = -g  # H not positive definite here: the Newton direction is no descent direction
            f0 = value(theta)
            t, _, _ = armijo_backtracking(lambda s, theta=theta, p=p: value(theta + s * p), f0, float(g @ p))
        else:
            t = 1.0
        theta = theta + t * p
        path.append(theta.copy())
    return np.array(path)


def quadratic_gradient_descent(A: Array, b: Array, theta0: Array, lr: float, steps: int) -> Array:
    """Gradient descent θ_{t+1} = θ_t - η (Aθ_t - b) on L(θ) = ½ θᵀAθ - bᵀθ; the path, shape ``(steps + 1, d)``."""
    theta = np.array(theta0, dtype=float)
    path = np.empty((steps + 1, theta.size))
    path[0] = theta
    for t in range(1, steps + 1):
        theta = theta - lr * (A @ theta - b)
        path[t] = theta
    return path


def accelerated_gradient(A: Array, b: Array, theta0: Array, mu: float, M: float, steps: int) -> Array:
    """Nesterov's accelerated gradient for a μ-strongly convex, M-smooth quadratic (constant momentum).

    y_t = θ_t + β (θ_t - θ_{t-1}),  θ_{t+1} = y_t - (1/M) ∇L(y_t),  β = (√κ - 1)/(√κ + 1),  κ = M/μ
    (Nesterov 2018, scheme 2.2.22): the error contracts like (1 - 1/√κ)^t, against (1 - 1/κ)^t for gradient descent.

    Returns
    -------
    numpy.ndarray
        The path θ_0, ..., θ_steps, shape ``(steps + 1, d)``.
    """
    beta = (np.sqrt(M / mu) - 1) / (np.sqrt(M / mu) + 1)
    theta = np.array(theta0, dtype=float)
    previous = theta.copy()
    path = np.empty((steps + 1, theta.size))
    path[0] = theta
    for t in range(1, steps + 1):
        y = theta + beta * (theta - previous)
        previous, theta = theta, y - (A @ y - b) / M
        path[t] = theta
    return path


def conjugate_gradient(
    A: Array, b: Array, theta0: Array | None = None, *, tol: float = 1e-10, max_iter: int | None = None
) -> Array:
    """Conjugate gradients for Aθ = b (A symmetric positive definite), i.e. for minimising ½ θᵀAθ - bᵀθ.

    r_0 = b - Aθ_0, p_0 = r_0; then α_k = r_kᵀr_k / p_kᵀAp_k, θ_{k+1} = θ_k + α_k p_k, r_{k+1} = r_k - α_k Ap_k,
    β_k = r_{k+1}ᵀr_{k+1} / r_kᵀr_k, p_{k+1} = r_{k+1} + β_k p_k (Hestenes & Stiefel 1952). The directions are
    A-conjugate (p_iᵀAp_j = 0 for i ≠ j), so in exact arithmetic θ_k minimises L over θ_0 + span(r_0, Ar_0, ...,
    A^{k-1}r_0) and θ_d = θ*: at most d iterations.

    Parameters
    ----------
    A, b : numpy.ndarray
        The d × d matrix and the right-hand side.
    theta0 : numpy.ndarray, optional
        The start (default 0).
    tol : float, optional
        Stop when ‖r_k‖ ≤ ``tol`` ‖b‖ (default 1e-10).
    max_iter : int, optional
        The most iterations (default d).

    Returns
    -------
    numpy.ndarray
        The path θ_0, ..., θ_k, shape ``(k + 1, d)``.
    """
    d = b.size
    theta = np.zeros(d) if theta0 is None else np.array(theta0, dtype=float)
    r = b - A @ theta
    p = r.copy()
    rr = r @ r
    path = [theta.copy()]
    for _ in range(d if max_iter is None else max_iter):
        if np.sqrt(rr) <= tol * np.linalg.norm(b):
            break
        Ap = A @ p
        alpha = rr / (p @ Ap)
        theta = theta + alpha * p
        r = r - alpha * Ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
        path.append(theta.copy())
    return np.array(path)


def bfgs(
    value: Callable[[Array], float],
    grad: Callable[[Array], Array],
    theta0: Array,
    steps: int,
    *,
    tol: float = 1e-10,
    step_size: Callable[[Array, Array], float] | None = None,
) -> tuple[Array, Array]:
    """BFGS with the inverse-Hessian update H ← (I - ρ s yᵀ) H (I - ρ y sᵀ) + ρ s sᵀ, ρ = 1/(yᵀs).

    The direction is p_k = -H_k g_k; the step t_k satisfies the strong Wolfe conditions (so yᵀs > 0 and H stays
    positive definite), or comes from ``step_size`` (an exact line search on a quadratic, for example). H_0 = I,
    rescaled to (yᵀs / yᵀy) I before the first update (Nocedal & Wright 2006, eq. 6.20).

    Parameters
    ----------
    value, grad : callable
        L(θ) and ∇L(θ).
    theta0 : numpy.ndarray
        θ_0.
    steps : int
        The most iterations.
    tol : float, optional
        Stop when ‖g‖ ≤ ``tol`` (default 1e-10).
    step_size : callable, optional
        ``step_size(θ, p) -> t`` replaces the line search.

    Returns
    -------
    tuple of numpy.ndarray
        The path, shape ``(k + 1, d)``, and the final inverse-Hessian approximation H_k.
    """
    theta = np.array(theta0, dtype=float)
    d = theta.size
    H = np.eye(d)
    g = grad(theta)
    f = value(theta)
    path = [theta.copy()]
    for k in range(steps):
        if np.linalg.norm(g) <= tol:
            break
        p = -H @ g
        if step_size is not None:
            t = step_size(theta, p)
            theta_new = theta + t * p
            f_new, g_new = value(theta_new), grad(theta_new)
        else:

            def phi(s: float, theta: Array = theta, p: Array = p) -> tuple[float, float, Array]:
                g_s = grad(theta + s * p)
                return value(theta + s * p), float(g_s @ p), g_s

            f_new, g_new, t, _ = strong_wolfe(phi, 1.0, f, float(g @ p), g, direction_scale=np.abs(p).max())
            theta_new = theta + t * p
        s, y = theta_new - theta, g_new - g
        ys = y @ s
        if ys > 1e-12:  # the curvature condition; strong Wolfe guarantees it
            if k == 0:
                H = (ys / (y @ y)) * np.eye(d)
            rho = 1.0 / ys
            V = np.eye(d) - rho * np.outer(s, y)
            H = V @ H @ V.T + rho * np.outer(s, s)
        theta, g, f = theta_new, g_new, f_new
        path.append(theta.copy())
    return np.array(path), H


def coordinate_descent(A: Array, b: Array, theta0: Array, updates: int, *, rule: str = "cyclic") -> Array:
    """Exact coordinate minimisation of L(θ) = ½ θᵀAθ - bᵀθ, one coordinate per update.

    Coordinate i is set to its minimiser with the others fixed: θ_i ← (b_i - Σ_{j≠i} A_ij θ_j) / A_ii. ``rule``
    picks i: ``"cyclic"`` (0, 1, ..., d-1, 0, ...: d updates are one Gauss–Seidel sweep) or ``"greedy"``
    (Gauss–Southwell: the largest |∂L/∂θ_i|).

    Parameters
    ----------
    A, b : numpy.ndarray
        A symmetric positive definite d × d matrix and a vector of length d.
    theta0 : numpy.ndarray
        θ_0.
    updates : int
        The number of coordinate updates.
    rule : {"cyclic", "greedy"}, optional
        How the coordinate is chosen (default ``"cyclic"``).

    Returns
    -------
    numpy.ndarray
        The path after every update, shape ``(updates + 1, d)``.

    Raises
    ------
    ValueError
        For an unknown ``rule``.
    """
    if rule not in ("cyclic", "greedy"):
        raise ValueError(f"unknown rule {rule!r}: use 'cyclic' or 'greedy'")
    theta = np.array(theta0, dtype=float)
    d = theta.size
    path = np.empty((updates + 1, d))
    path[0] = theta
    for k in range(updates):
        g = A @ theta - b
        i = k % d if rule == "cyclic" else int(np.argmax(np.abs(g)))
        theta[i] -= g[i] / A[i, i]  # θ_i ← θ_i - (∂L/∂θ_i) / A_ii: the exact minimiser along e_i
        path[k + 1] = theta
    return path
