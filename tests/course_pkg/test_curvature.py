"""Newton, CG, BFGS, coordinate descent and accelerated gradient (course_pkg.curvature), the curvature experiments
and explorables, against closed forms, scipy and scipy.optimize."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
import torch

from course_pkg import curvature as C
from course_pkg.experiments import curvature as X
from course_pkg.explore.chapters import curvature as E

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors (conftest.py)


def _spd(d: int, seed: int, kappa: float = 50.0) -> tuple[np.ndarray, np.ndarray]:
    problem = X.random_quadratic(d, kappa, seed)
    return problem.A, problem.b


def test_random_quadratic_has_the_requested_spectrum() -> None:
    p = X.random_quadratic(30, 250.0, seed=4)
    eig = np.linalg.eigvalsh(p.A)
    assert eig[0] == pytest.approx(1.0, rel=1e-10) and eig[-1] == pytest.approx(250.0, rel=1e-10)
    np.testing.assert_allclose(p.A @ p.theta_star, p.b, rtol=1e-12, atol=1e-10)
    assert p.kappa == 250.0


def test_newton_solves_a_quadratic_in_one_step() -> None:
    A, b = _spd(8, 0)
    path = C.newton(lambda th: A @ th - b, lambda th: A, np.ones(8), steps=5)
    np.testing.assert_allclose(path[1], np.linalg.solve(A, b), rtol=1e-10)
    assert len(path) == 2  # the gradient is zero after one step: it stops


def test_newton_converges_quadratically_on_rosenbrock() -> None:
    """Pure Newton from the classical start reaches (1, 1); near it the error is squared at every step."""
    path = C.newton(scipy.optimize.rosen_der, scipy.optimize.rosen_hess, np.array([-1.2, 1.0]), steps=30)
    errors = np.linalg.norm(path - 1.0, axis=1)
    assert errors[-1] < 1e-12
    tail = [(e1, e2) for e1, e2 in zip(errors[:-1], errors[1:]) if 1e-8 < e1 < 1e-2]
    assert tail and all(e2 <= 50 * e1**2 for e1, e2 in tail)
    # E's Hessian is the same as scipy's
    for theta in ([0.3, -0.7], [-1.2, 1.0], [2.0, 3.0]):
        np.testing.assert_allclose(X.rosenbrock_hessian(np.array(theta)), scipy.optimize.rosen_hess(theta))


def test_newton_with_backtracking_decreases_monotonically() -> None:
    f, g, h = scipy.optimize.rosen, scipy.optimize.rosen_der, scipy.optimize.rosen_hess
    path = C.newton(g, h, np.array([-1.2, 1.0]), steps=100, value=f, line_search=True)
    values = np.array([f(th) for th in path])
    assert np.all(np.diff(values) <= 0)
    np.testing.assert_allclose(path[-1], [1.0, 1.0], atol=1e-9)
    with pytest.raises(ValueError, match="needs value"):
        C.newton(g, h, np.zeros(2), 3, line_search=True)


def test_conjugate_gradient_terminates_in_at_most_d_steps() -> None:
    """With d distinct eigenvalues CG needs ≤ d steps; with 3 distinct eigenvalues, 3 (Nocedal & Wright Thm 5.4)."""
    A, b = _spd(12, 1, kappa=20.0)
    path = C.conjugate_gradient(A, b, tol=1e-12)
    assert len(path) - 1 <= 12
    np.testing.assert_allclose(path[-1], scipy.linalg.solve(A, b, assume_a="pos"), rtol=1e-9)
    rng = np.random.default_rng(2)
    Q, _ = np.linalg.qr(rng.standard_normal((20, 20)))
    A3 = (Q * np.repeat([1.0, 4.0, 9.0], [7, 7, 6])) @ Q.T
    path3 = C.conjugate_gradient(A3, rng.standard_normal(20), tol=1e-12)
    assert len(path3) - 1 == 3


def test_conjugate_gradient_iterate_is_the_krylov_minimiser() -> None:
    """θ_k minimises L over span(b, Ab, …, A^{k-1}b) (θ_0 = 0): compare with a least-squares solve on that space."""
    A, b = _spd(10, 3)
    path = C.conjugate_gradient(A, b, tol=0.0, max_iter=4)
    for k in range(1, 5):
        K = np.linalg.qr(np.column_stack([np.linalg.matrix_power(A, i) @ b for i in range(k)]))[0]
        c = np.linalg.solve(K.T @ A @ K, K.T @ b)
        np.testing.assert_allclose(path[k], K @ c, rtol=1e-8, atol=1e-10)


def test_bfgs_with_exact_line_search_terminates_on_a_quadratic() -> None:
    """Exact line search on a quadratic: BFGS ends in ≤ d steps with CG's iterates, and H_d = A⁻¹ (Nocedal & Wright
    2006, §6.4; Fletcher 1987)."""
    A, b = _spd(6, 5, kappa=30.0)

    def exact(theta: np.ndarray, p: np.ndarray) -> float:
        return float(-(A @ theta - b) @ p / (p @ A @ p))

    path, H = C.bfgs(
        lambda th: 0.5 * th @ A @ th - b @ th, lambda th: A @ th - b, np.zeros(6), 20, step_size=exact
    )
    assert len(path) - 1 <= 6
    np.testing.assert_allclose(path[-1], np.linalg.solve(A, b), rtol=1e-8)
    # the iterates are CG's (same Krylov minimisers)
    cg = C.conjugate_gradient(A, b, tol=0.0, max_iter=len(path) - 1)
    np.testing.assert_allclose(path, cg, rtol=1e-6, atol=1e-8)
    if len(path) - 1 == 6:
        np.testing.assert_allclose(H, np.linalg.inv(A), rtol=1e-6, atol=1e-8)


def test_bfgs_finds_the_minimum_scipy_finds() -> None:
    f, g = scipy.optimize.rosen, scipy.optimize.rosen_der
    x0 = np.array([-1.2, 1.0, 0.5, -0.5])
    path, H = C.bfgs(f, g, x0, 500, tol=1e-9)
    reference = scipy.optimize.minimize(f, x0, jac=g, method="BFGS", options={"gtol": 1e-9}).x
    np.testing.assert_allclose(path[-1], reference, atol=1e-6)
    np.testing.assert_allclose(path[-1], np.ones(4), atol=1e-6)
    assert np.all(np.linalg.eigvalsh((H + H.T) / 2) > 0)  # positive definite throughout


def test_coordinate_descent_sweep_is_gauss_seidel() -> None:
    """d cyclic updates = one Gauss–Seidel iteration θ ← (D + L)⁻¹ (b − U θ) (a triangular solve)."""
    A, b = _spd(7, 6)
    theta0 = np.random.default_rng(0).standard_normal(7)
    path = C.coordinate_descent(A, b, theta0, updates=21)
    lower, upper = np.tril(A), np.triu(A, k=1)
    theta = theta0
    for sweep in range(1, 4):
        theta = scipy.linalg.solve_triangular(lower, b - upper @ theta, lower=True)
        np.testing.assert_allclose(path[7 * sweep], theta, rtol=1e-10, atol=1e-12)


def test_greedy_coordinate_descent_converges_and_each_update_is_exact() -> None:
    A, b = _spd(6, 7, kappa=10.0)
    path = C.coordinate_descent(A, b, np.zeros(6), updates=400, rule="greedy")
    np.testing.assert_allclose(path[-1], np.linalg.solve(A, b), rtol=1e-8)
    for before, after in zip(path[:5], path[1:6]):
        i = int(np.flatnonzero(before != after)[0])
        assert (A @ after - b)[i] == pytest.approx(0.0, abs=1e-12)  # exact minimisation along e_i
    with pytest.raises(ValueError, match="unknown rule"):
        C.coordinate_descent(A, b, np.zeros(6), 1, rule="random")


def test_gradient_descent_rate_and_accelerated_rate() -> None:
    """GD with η = 2/(μ+M) contracts at (κ−1)/(κ+1) in the worst direction; AGD meets Nesterov's bound."""
    p = X.random_quadratic(40, 100.0, seed=8)
    gd = C.quadratic_gradient_descent(p.A, p.b, np.zeros(40), 2 / (p.mu + p.M), 600)
    err = np.linalg.norm(gd - p.theta_star, axis=1)
    assert (err[600] / err[400]) ** (1 / 200) == pytest.approx(99 / 101, rel=1e-3)
    agd = C.accelerated_gradient(p.A, p.b, np.zeros(40), p.mu, p.M, 300)
    err_agd = np.linalg.norm(agd - p.theta_star, axis=1)
    # Nesterov (2018) Thm 2.2.3: L(θ_t) − L* ≤ (L(θ_0) − L* + μ/2 ‖e_0‖²)(1 − 1/√κ)^t, and μ/2 ‖e_t‖² ≤ L(θ_t) − L*,
    # L(θ_0) − L* ≤ M/2 ‖e_0‖²; hence ‖e_t‖ ≤ √(κ + 1) (1 − 1/√κ)^{t/2} ‖e_0‖
    bound = math.sqrt(p.kappa + 1) * (1 - 1 / math.sqrt(p.kappa)) ** (np.arange(301) / 2) * err_agd[0]
    assert np.all(err_agd <= bound * (1 + 1e-12))
    assert err_agd[300] < err[300] * 1e-6


def test_worst_quadratic_cg_meets_the_lower_bound() -> None:
    """On Nesterov's function CG (the best Krylov method) stays above q^k ‖θ*‖ and reaches tol near the bound."""
    for kappa in (10.0, 100.0):
        p = X.worst_quadratic(400, kappa)
        q = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
        np.testing.assert_allclose(p.theta_star[1:40] / p.theta_star[:39], q, rtol=1e-6)
        path = C.conjugate_gradient(p.A, p.b, tol=0.0, max_iter=120)
        err = np.linalg.norm(path - p.theta_star, axis=1) / np.linalg.norm(p.theta_star)
        k = np.arange(len(err))
        reached = err > 1e-12
        assert np.all(err[reached] >= q ** k[reached] * (1 - 1e-9))
        hit = int(np.argmax(err <= 1e-6))
        lower = X.predicted_iterations(kappa, 1e-6)["lower"]
        assert lower <= hit <= 1.1 * lower + 2


def test_predicted_iterations_match_the_rates() -> None:
    pred = X.predicted_iterations(100.0, 1e-6)
    assert (99 / 101) ** pred["gd"] == pytest.approx(1e-6, rel=1e-9)
    assert (9 / 11) ** pred["lower"] == pytest.approx(1e-6, rel=1e-9)
    assert 2 * 10 * (9 / 11) ** pred["cg"] == pytest.approx(1e-6, rel=1e-9)


def test_iterations_to_tolerance_orders_the_methods() -> None:
    p = X.random_quadratic(30, 100.0, seed=0)
    its = {m: X.iterations_to_tolerance(m, p, 1e-6) for m in ("gd", "agd", "cg", "lbfgs")}
    assert its["cg"] <= 30 * 3 and its["cg"] < its["agd"] < its["gd"]
    assert its["gd"] <= X.predicted_iterations(100.0, 1e-6)["gd"] + 1
    assert its["lbfgs"] < its["gd"] / 3
    with pytest.raises(ValueError, match="unknown method"):
        X.iterations_to_tolerance("adam", p)


def _lbfgs_errors_with_autograd(problem, iterations: int, history_size: int, tol: float) -> np.ndarray:
    """The reference: the same L-BFGS run with the gradient of ½ (θ - θ*)ᵀA(θ - θ*) from a backward pass."""
    from course_pkg.optim import LBFGS

    theta = torch.zeros(problem.b.size, dtype=torch.float64, requires_grad=True)
    A, theta_star = torch.from_numpy(problem.A), torch.from_numpy(problem.theta_star)
    opt = LBFGS([theta], lr=1, max_iter=1, max_eval=30, history_size=history_size, line_search_fn="strong_wolfe",
                tolerance_grad=0.0, tolerance_change=0.0)  # fmt: skip

    def closure() -> torch.Tensor:
        opt.zero_grad()
        error = theta - theta_star
        loss = 0.5 * error @ (A @ error)
        loss.backward()
        return loss

    errors = [float(np.linalg.norm(problem.theta_star))]
    for _ in range(iterations):
        opt.step(closure)
        errors.append(float(torch.linalg.vector_norm(theta.detach() - theta_star)))
        if errors[-1] <= tol * errors[0]:
            break
    return np.array(errors)


@pytest.mark.parametrize(("kappa", "memory"), [(1000.0, 1), (100.0, 5), (10.0, 20)])
def test_lbfgs_errors_are_those_of_autograd_bit_for_bit(kappa: float, memory: int) -> None:
    # at κ = 1000 the line search amplifies any rounding difference to a factor of 3 in the final error, so equal
    # bits are the test; (10, 20) stalls at a fixed point after about 40 iterations, which is not run out
    problem = X.random_quadratic(40, kappa, 0)
    fast = X.lbfgs_errors(problem, 150, history_size=memory, tol=1e-12)
    reference = _lbfgs_errors_with_autograd(problem, 150, memory, 1e-12)
    np.testing.assert_array_equal(fast, reference)


def test_lbfgs_memory_explorable_off_the_grid_computes_directly() -> None:
    on_grid, off_grid = E._compute_lbfgs_memory(5, 100), E._compute_lbfgs_memory(4, 100)
    assert (4, 100.0) not in X.memory_runs() and off_grid["memory"] == 4
    np.testing.assert_array_equal(off_grid["gd"], on_grid["gd"])  # the same problem
    assert not np.array_equal(off_grid["lbfgs"], on_grid["lbfgs"])


def test_lbfgs_memory_explorable_frames_are_consistent() -> None:
    r1, r20 = E._compute_lbfgs_memory(1, 100), E._compute_lbfgs_memory(20, 100)
    assert r1["gd"][0] == r1["lbfgs"][0] == 1.0
    np.testing.assert_array_equal(r1["gd"], r20["gd"])  # the same problem for every memory
    assert np.argmax(r20["lbfgs"] < 1e-6) <= np.argmax(r1["lbfgs"] < 1e-6)


def test_newton_vs_gd_explorable() -> None:
    r = E._compute_newton_vs_gd(1e-3, 100, True)
    assert r["newton_loss"][-1] < 1e-20 < r["gd_loss"][-1]
    np.testing.assert_array_equal(r["gd"][0], E.VALLEY_START)


def test_worst_function_explorable_iterates_stop_at_coordinate_k() -> None:
    """Every first-order iterate after k steps is zero beyond coordinate k (the Krylov argument of the lower bound)."""
    for k in (0, 4, 12):
        r = E._compute_worst_function(100, k)
        for m, iterate in r["iterates"].items():
            assert np.all(iterate[k:] == 0.0), m
            if k:
                assert np.all(iterate[:k] != 0.0), m
        assert np.all(r["errors"]["cg"][:60] >= r["bound"][:60] * (1 - 1e-9))
