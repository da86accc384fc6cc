"""Tests of the momentum chapter's explorables: rate map vs the iteration matrix, iterates vs torch.optim.SGD."""

import numpy as np
import pytest
import torch

from course_pkg.experiments import momentum as momentum_experiments
from course_pkg.explore.chapters import momentum


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: one intra-op thread is fastest and immune to a busy machine's oversubscription."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _iteration_matrix(lr, beta, lam, nesterov):
    """Matrix M with (v_t, θ_t) = M (v_{t−1}, θ_{t−1}) for g = λθ, written from torch's update rule."""
    if nesterov:
        return np.array([[beta, lam], [-lr * beta**2, 1 - lr * lam * (1 + beta)]])
    return np.array([[beta, lam], [-lr * beta, 1 - lr * lam]])


@pytest.mark.parametrize("nesterov", [False, True])
def test_rate_is_spectral_radius_of_iteration_matrix(nesterov):
    rng = np.random.default_rng(0)
    for _ in range(200):
        lr, beta = 10 ** rng.uniform(-3, 0.7), rng.uniform(0, 0.999)
        lams = 10 ** rng.uniform(-2, 0.5, size=3)
        expected = max(
            np.abs(np.linalg.eigvals(_iteration_matrix(lr, beta, lam, nesterov))).max() for lam in lams
        )
        assert momentum_experiments.convergence_rate(lr, beta, lams, nesterov=nesterov) == pytest.approx(
            expected, rel=1e-6
        )


def test_polyak_optimum_is_the_best_point_of_the_map():
    lam_min, lam_max = 0.01, 1.0
    eta, beta, rate = momentum_experiments.optimal_heavy_ball(lam_min, lam_max)
    assert rate == pytest.approx(9 / 11)
    assert float(momentum_experiments.convergence_rate(eta, beta, [lam_min, lam_max])) == pytest.approx(
        rate, rel=1e-6
    )
    lrs, betas = np.meshgrid(np.geomspace(0.01, 5, 300), np.linspace(0, 0.999, 300))
    assert momentum_experiments.convergence_rate(lrs, betas, [lam_min, lam_max]).min() >= rate - 1e-9
    # gradient descent's best rate (κ − 1)/(κ + 1) is much worse
    assert float(
        momentum_experiments.convergence_rate(2 / (lam_min + lam_max), 0.0, [lam_min, lam_max])
    ) == pytest.approx(99 / 101)


def test_optimal_heavy_ball_rejects_bad_spectrum():
    with pytest.raises(ValueError, match="lam_min"):
        momentum_experiments.optimal_heavy_ball(0.0, 1.0)


@pytest.mark.parametrize("nesterov", [False, True])
def test_quadratic_iterates_match_torch_sgd(nesterov):
    lam = np.array([1.0, 0.01])
    lr, beta, steps = 0.7, 0.8, 30
    ours = momentum_experiments.heavy_ball_quadratic(
        lr, beta, lam, np.array([1.0, 1.0]), steps, nesterov=nesterov
    )
    theta = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([theta], lr=lr, momentum=beta, nesterov=nesterov)
    lam_t = torch.tensor(lam)
    for t in range(1, steps + 1):
        opt.zero_grad()
        (0.5 * (lam_t * theta**2).sum()).backward()
        opt.step()
        np.testing.assert_allclose(ours[t], theta.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_error_decays_at_the_predicted_rate():
    lam = np.array([1.0, 0.01])
    lr, beta = 1.0, 0.9
    traj = momentum_experiments.heavy_ball_quadratic(lr, beta, lam, np.array([1.0, 1.0]), 2000)
    rate = float(momentum_experiments.convergence_rate(lr, beta, lam))
    observed = (np.linalg.norm(traj[2000]) / np.linalg.norm(traj[1000])) ** (1 / 1000)
    assert observed == pytest.approx(rate, rel=1e-3)


def test_unstable_setting_has_rate_above_one_and_diverges():
    lam = np.array([1.0, 0.01])
    lr, beta = 3.3, 0.5  # needs η λ_max < 2 (1 + β) = 3
    assert float(momentum_experiments.convergence_rate(lr, beta, lam)) > 1
    traj = momentum_experiments.heavy_ball_quadratic(lr, beta, lam, np.array([1.0, 1.0]), 200)
    assert not np.all(np.isfinite(traj)) or np.abs(traj[-1]).max() > 1e6


@pytest.mark.parametrize("nesterov", [False, True])
def test_rosenbrock_run_matches_torch_sgd(nesterov):
    lr, beta, steps = 1e-3, 0.9, 60
    ours = momentum._rosenbrock_run(lr, beta, nesterov, steps)
    p = torch.tensor(momentum.ROSEN_THETA0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=beta, nesterov=nesterov)
    for t in range(1, steps + 1):
        opt.zero_grad()
        ((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2).backward()
        opt.step()
        np.testing.assert_allclose(ours[t], p.detach().numpy(), rtol=1e-10)


def test_rosenbrock_hessian_at_minimum():
    f = lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2  # noqa: E731
    H = torch.autograd.functional.hessian(f, torch.tensor([1.0, 1.0], dtype=torch.float64))
    np.testing.assert_allclose(momentum.ROSEN_HESSIAN, H.numpy(), rtol=1e-12)


def test_rosenbrock_converges_inside_the_map_and_not_outside():
    res = momentum._compute_rosenbrock(lr=1e-3, beta=0.9, nesterov=False)
    assert res["rate"] < 1 and res["loss"][-1] < 1e-6
    # η λ_max ≈ 4.0 > 2 (1 + β) = 3: the minimum repels, so the iterates cannot settle there
    bad = momentum._compute_rosenbrock(lr=4e-3, beta=0.5, nesterov=False)
    assert bad["rate"] > 1
    final = bad["trajectory"][-1]
    assert not np.all(np.isfinite(final)) or np.linalg.norm(final - 1.0) > 1e-3


@pytest.mark.parametrize("factory", momentum.EXPLORABLES)
def test_explorables_fit_the_budget_and_draw(factory):
    ex = factory()
    assert ex.n_frames <= 120
    fig = ex.figure()
    assert len(fig.axes) >= 3
