"""Experiments of the chapters "Convexity, smoothness and rates" and "Newton, quasi-Newton and line searches".

Random strongly convex quadratics with a chosen condition number, the iterations each method needs on them
(gradient descent, Nesterov's accelerated gradient, conjugate gradients, L-BFGS), and the rates theory predicts
(Nesterov 2018, Theorems 2.1.13 and 2.1.15; Nocedal & Wright 2006, eq. 5.36); the Hessian of Rosenbrock's valley
(:func:`rosenbrock_hessian`), on which Newton's method runs; L-BFGS against gradient descent and CG for each
memory size and condition number (:func:`memory_curves`, :func:`memory_runs`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from course_pkg.curvature import accelerated_gradient, conjugate_gradient, quadratic_gradient_descent
from course_pkg.optim import LBFGS

__all__ = [
    "Quadratic",
    "random_quadratic",
    "iterations_to_tolerance",
    "lbfgs_errors",
    "worst_quadratic",
    "predicted_iterations",
    "rate_study",
    "rosenbrock_hessian",
    "memory_curves",
    "memory_runs",
]

METHODS = ("gd", "agd", "cg", "lbfgs")


@dataclass(frozen=True)
class Quadratic:
    """L(θ) = ½ θᵀAθ - bᵀθ with minimiser θ* = A⁻¹b, smoothness M = λ_d and strong convexity μ = λ_1."""

    A: np.ndarray
    b: np.ndarray
    theta_star: np.ndarray
    mu: float
    M: float

    @property
    def kappa(self) -> float:
        """The condition number κ = M/μ."""
        return self.M / self.mu


def random_quadratic(d: int, kappa: float, seed: int, mu: float = 1.0) -> Quadratic:
    """A d-dimensional quadratic whose Hessian has eigenvalues μ, κμ and d - 2 log-uniform values between them.

    The eigenvectors are a random orthogonal basis and θ* has independent standard normal coordinates (seeded).
    """
    rng = np.random.default_rng(seed)
    inner = np.exp(rng.uniform(0.0, math.log(kappa), size=d - 2)) * mu
    eigenvalues = np.sort(np.concatenate([[mu, kappa * mu], inner]))
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    A = (Q * eigenvalues) @ Q.T
    A = (A + A.T) / 2
    theta_star = rng.standard_normal(d)
    return Quadratic(A=A, b=A @ theta_star, theta_star=theta_star, mu=mu, M=kappa * mu)


def worst_quadratic(d: int, kappa: float, mu: float = 1.0) -> Quadratic:
    """Nesterov's "worst function in the world" for first-order methods, in dimension d (Nesterov 2018, §2.1.4).

    L(θ) = (M - μ)/8 [θ_1² + Σ_{i<d} (θ_i - θ_{i+1})² - 2θ_1] + μ/2 ‖θ‖², i.e. A = (M - μ)/4 T + μ I with T the
    tridiagonal matrix (2 on the diagonal, -1 beside it) and b = (M - μ)/4 e_1. Started at θ_0 = 0, any method
    whose iterates lie in θ_0 + span(g_0, ..., g_{k-1}) has θ_k zero beyond coordinate k, while θ*_i ≈ q^i with
    q = (√κ - 1)/(√κ + 1); hence ‖θ_k - θ*‖ ≳ q^k ‖θ_0 - θ*‖ for d ≫ k.
    """
    M = kappa * mu
    T = 2 * np.eye(d) - np.eye(d, k=1) - np.eye(d, k=-1)
    A = (M - mu) / 4 * T + mu * np.eye(d)
    b = np.zeros(d)
    b[0] = (M - mu) / 4
    return Quadratic(A=A, b=b, theta_star=np.linalg.solve(A, b), mu=mu, M=M)


def lbfgs_errors(problem: Quadratic, iterations: int, history_size: int = 10, tol: float = 0.0) -> np.ndarray:
    """‖θ_k - θ*‖ for k = 0, 1, ... of :class:`course_pkg.optim.LBFGS` (strong Wolfe) from θ_0 = 0.

    Runs ``iterations`` iterations, or stops at the first k with ‖θ_k - θ*‖ ≤ ``tol`` ‖θ_0 - θ*‖. The closure
    evaluates the loss as ½ (θ - θ*)ᵀA(θ - θ*), equal to L(θ) - L(θ*): the same gradients, but values near 0 that
    the line search can still compare when the error is 10⁻⁶ (L itself would be lost in rounding there).

    The gradient is written out as autograd computes it for that expression, ½ A e + Aᵀ(½ e) with e = θ - θ*
    (the same floating-point operations, so the same bits: L-BFGS's line search on an ill-conditioned quadratic
    amplifies any rounding difference), at half the cost of a backward pass. An iteration that leaves θ unchanged
    is a fixed point (same gradient, no new pair, same direction and line search): the remaining iterations
    repeat its error without being run.
    """
    theta = torch.zeros(problem.b.size, dtype=torch.float64, requires_grad=True)
    A, theta_star = torch.from_numpy(problem.A), torch.from_numpy(problem.theta_star)
    opt = LBFGS([theta], lr=1, max_iter=1, max_eval=30, history_size=history_size, line_search_fn="strong_wolfe",
                tolerance_grad=0.0, tolerance_change=0.0)  # fmt: skip

    @torch.no_grad()
    def closure() -> torch.Tensor:
        error = theta - theta_star
        a_error = A @ error
        theta.grad = 0.5 * a_error + A.t().mv(0.5 * error)
        return 0.5 * (error @ a_error)

    errors = [float(np.linalg.norm(problem.theta_star))]
    previous = theta.detach().clone()
    for k in range(iterations):
        opt.step(closure)
        errors.append(float(torch.linalg.vector_norm(theta.detach() - theta_star)))
        if errors[-1] <= tol * errors[0]:
            break
        if torch.equal(theta.detach(), previous):
            errors += [errors[-1]] * (iterations - 1 - k)
            break
        previous.copy_(theta.detach())
    return np.array(errors)


def _errors(method: str, problem: Quadratic, iterations: int, tol: float) -> np.ndarray:
    theta0 = np.zeros(problem.b.size)
    if method == "gd":
        path = quadratic_gradient_descent(
            problem.A, problem.b, theta0, 2 / (problem.mu + problem.M), iterations
        )
    elif method == "agd":
        path = accelerated_gradient(problem.A, problem.b, theta0, problem.mu, problem.M, iterations)
    elif method == "cg":
        path = conjugate_gradient(problem.A, problem.b, theta0, tol=0.0, max_iter=iterations)
    elif method == "lbfgs":
        return lbfgs_errors(problem, iterations, tol=tol)
    else:
        raise ValueError(f"unknown method {method!r}: use one of {METHODS}")
    return np.linalg.norm(path - problem.theta_star, axis=1)


def iterations_to_tolerance(method: str, problem: Quadratic, tol: float = 1e-6) -> int:
    """The first k with ‖θ_k - θ*‖ ≤ tol ‖θ_0 - θ*‖ (θ_0 = 0) for ``method`` in ``("gd", "agd", "cg", "lbfgs")``.

    Raises
    ------
    RuntimeError
        If the tolerance is not reached within twice the iterations gradient descent's bound allows.
    """
    iterations = int(2 * predicted_iterations(problem.kappa, tol)["gd"]) + 50
    errors = _errors(method, problem, iterations, tol)
    hit = np.flatnonzero(errors <= tol * errors[0])
    if not hit.size:
        raise RuntimeError(f"{method} did not reach {tol} in {iterations} iterations (κ = {problem.kappa})")
    return int(hit[0])


def predicted_iterations(kappa: float, tol: float = 1e-6) -> dict[str, float]:
    """Iterations the classical bounds allow to reach a relative error ``tol``.

    - ``"gd"``: ln(1/tol) / ln((κ+1)/(κ-1)) (gradient descent with η = 2/(μ+M): error ≤ ((κ-1)/(κ+1))^k);
    - ``"lower"``: ln(1/tol) / ln((√κ+1)/(√κ-1)) (Nesterov's lower bound for any first-order method in high
      dimension: error ≥ ((√κ-1)/(√κ+1))^k);
    - ``"cg"``: ln(2√κ/tol) / ln((√κ+1)/(√κ-1)) (conjugate gradients: ‖e_k‖ ≤ 2√κ ((√κ-1)/(√κ+1))^k ‖e_0‖,
      from the A-norm bound of Nocedal & Wright eq. 5.36).
    """
    root = math.sqrt(kappa)
    fast = math.log((root + 1) / (root - 1))
    return {
        "gd": math.log(1 / tol) / math.log((kappa + 1) / (kappa - 1)),
        "lower": math.log(1 / tol) / fast,
        "cg": math.log(2 * root / tol) / fast,
    }


def rate_study(
    kappas: Sequence[float],
    seeds: Sequence[int],
    d: int = 50,
    tol: float = 1e-6,
    methods: Sequence[str] = METHODS,
) -> dict[str, np.ndarray]:
    """Iterations to ``tol`` for each method × κ × seed: ``{method: array (len(kappas), len(seeds))}``."""
    table = {m: np.zeros((len(kappas), len(seeds)), dtype=int) for m in methods}
    for i, kappa in enumerate(kappas):
        for j, seed in enumerate(seeds):
            problem = random_quadratic(d, kappa, seed)
            for m in methods:
                table[m][i, j] = iterations_to_tolerance(m, problem, tol)
    return table


def rosenbrock_hessian(theta: np.ndarray, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    """The Hessian of L(x, y) = (a - x)² + b (y - x²)² at θ = (x, y)."""
    x, y = theta
    return np.array([[2 - 4 * b * (y - x**2) + 8 * b * x**2, -4 * b * x], [-4 * b * x, 2 * b]])


#: Dimension, seed and iteration budget of the quadratic of the explorable ``lbfgs_memory``.
MEMORY_D, MEMORY_SEED, MEMORY_ITERATIONS = 40, 0, 150
#: The memory sizes m and condition numbers κ that the explorable ``lbfgs_memory`` offers.
MEMORY_SIZES, MEMORY_KAPPAS = (1, 2, 3, 5, 10, 20), (10, 100, 1000)


def memory_curves(memory: int, kappa: float) -> dict[str, np.ndarray]:
    """Relative errors ‖θ_k − θ*‖ / ‖θ_0 − θ*‖ of L-BFGS (m = ``memory``), gradient descent and CG."""
    problem = random_quadratic(MEMORY_D, float(kappa), MEMORY_SEED)
    theta0 = np.zeros(MEMORY_D)
    gd = quadratic_gradient_descent(
        problem.A, problem.b, theta0, 2 / (problem.mu + problem.M), MEMORY_ITERATIONS
    )
    cg = conjugate_gradient(problem.A, problem.b, theta0, tol=1e-13, max_iter=MEMORY_ITERATIONS)
    start = np.linalg.norm(problem.theta_star)
    return {
        "lbfgs": lbfgs_errors(problem, MEMORY_ITERATIONS, history_size=int(memory), tol=1e-12) / start,
        "gd": np.linalg.norm(gd - problem.theta_star, axis=1) / start,
        "cg": np.linalg.norm(cg - problem.theta_star, axis=1) / start,
    }


@functools.lru_cache(maxsize=1)
def memory_runs() -> dict[tuple[int, float], dict[str, np.ndarray]]:
    """The curves of every grid point of the explorable ``lbfgs_memory`` (18 L-BFGS runs), computed once per process.

    One L-BFGS run of 150 iterations takes 40-150 ms (Python per iteration, not arithmetic, on d = 40), so a
    live control change that ran it would miss the 100 ms budget; computing the whole grid at the first frame
    (about 1.5 s) makes every later change a look-up.
    """
    return {(m, float(k)): memory_curves(m, k) for k in MEMORY_KAPPAS for m in MEMORY_SIZES}
