"""Tests of the adaptive-methods explorable: iterates and effective learning rates vs torch.optim's state."""

import numpy as np
import pytest
import torch

import course_pkg.optim as co
from course_pkg.experiments import adaptive as adaptive_experiments
from course_pkg.explore.chapters import adaptive


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: one intra-op thread is fastest and immune to a busy machine's oversubscription."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _torch_run(opt_cls, lr, problem, steps):
    """Iterates and effective learning rates read from the optimizer's state (float64)."""
    theta = torch.tensor(problem["theta0"], dtype=torch.float64, requires_grad=True)
    opt = opt_cls([theta], lr=lr)
    thetas, eff = [theta.detach().numpy().copy()], []
    for t in range(1, steps + 1):
        g = torch.tensor(problem["gradients"](theta.detach().numpy(), t), dtype=torch.float64)
        theta.grad = g.clone()
        prev_acc_delta = opt.state[theta]["acc_delta"].clone() if "acc_delta" in opt.state[theta] else None
        opt.step()
        st = opt.state[theta]
        if "sum" in st:  # Adagrad, eps = 1e-10
            e = lr / (st["sum"].sqrt() + 1e-10)
        elif "acc_delta" in st:  # Adadelta, rho = 0.9, eps = 1e-6
            if prev_acc_delta is None:
                prev_acc_delta = torch.zeros_like(theta)
            e = lr * (prev_acc_delta + 1e-6).sqrt() / (st["square_avg"] + 1e-6).sqrt()
        else:  # RMSprop, eps = 1e-8
            e = lr / (st["square_avg"].sqrt() + 1e-8)
        thetas.append(theta.detach().numpy().copy())
        eff.append(e.numpy().copy())
    return np.array(thetas), np.array(eff)


@pytest.mark.parametrize("problem_name", ["quadratic", "sparse"])
@pytest.mark.parametrize(
    ("method", "torch_cls", "course_cls", "lr"),
    [
        ("Adagrad", torch.optim.Adagrad, co.Adagrad, 0.3),
        ("RMSprop", torch.optim.RMSprop, co.RMSprop, 0.01),
        ("Adadelta", torch.optim.Adadelta, co.Adadelta, 1.0),
    ],
)
def test_iterates_and_effective_lr_match_torch_state(problem_name, method, torch_cls, course_cls, lr):
    if problem_name == "quadratic":
        problem = adaptive_experiments.quadratic_problem()
    else:
        problem = adaptive_experiments.sparse_problem()
    steps = 150
    ours = adaptive_experiments.adaptive_run(method, lr, problem["gradients"], problem["theta0"], steps)
    for cls in (torch_cls, course_cls):
        thetas, eff = _torch_run(cls, lr, problem, steps)
        np.testing.assert_allclose(ours["theta"], thetas, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours["eff_lr"], eff, rtol=1e-9)


def test_adagrad_is_invariant_to_coordinate_scaling():
    # On L = ½ Σ λ_j θ_j² from θ₀ = (1, 1), Adagrad's relative progress does not depend on λ_j (up to ε):
    res = adaptive._compute("quadratic", "Adagrad", 0.3)
    np.testing.assert_allclose(res["theta"][:, 0], res["theta"][:, 1], rtol=1e-6, atol=1e-12)
    # while plain SGD's does: the flat coordinate barely moves
    assert abs(res["sgd_theta"][-1, 1]) > 0.5 and abs(res["sgd_theta"][-1, 0]) < 1e-6


def test_adagrad_effective_lr_decays_like_one_over_sqrt_count():
    # constant gradient g: G_t = t g², so the effective learning rate is η / (√t |g|)
    run = adaptive_experiments.adaptive_run(
        "Adagrad", 0.5, lambda theta, t: np.array([2.0]), np.zeros(1), 100
    )
    t = np.arange(1, 101)
    np.testing.assert_allclose(run["eff_lr"][:, 0], 0.5 / (np.sqrt(t) * 2.0), rtol=1e-9)


def test_rmsprop_effective_lr_tends_to_lr_over_gradient_scale():
    # constant gradient g: v_t = (1 − 0.99^t) g², so η/(√v_t + ε) → η/|g|
    run = adaptive_experiments.adaptive_run(
        "RMSprop", 0.01, lambda theta, t: np.array([3.0]), np.zeros(1), 2000
    )
    t = np.arange(1, 2001)
    np.testing.assert_allclose(run["eff_lr"][:, 0], 0.01 / (np.sqrt(1 - 0.99**t) * 3.0 + 1e-8), rtol=1e-9)


def test_rare_feature_keeps_a_larger_effective_lr_under_adagrad():
    res = adaptive._compute("sparse", "Adagrad", 0.3)
    assert np.all(res["eff_lr"][200:, 1] > res["eff_lr"][200:, 0])
    rare_err = abs(res["theta"][-1, 1] - res["theta_star"][1])
    sgd_rare_err = abs(res["sgd_theta"][-1, 1] - res["theta_star"][1])
    assert rare_err < sgd_rare_err


def test_bad_arguments_raise():
    prob = adaptive_experiments.quadratic_problem()
    with pytest.raises(ValueError, match="method"):
        adaptive_experiments.adaptive_run("Adam", 0.1, prob["gradients"], prob["theta0"], 3)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        adaptive_experiments.adaptive_run("Adagrad", -1.0, prob["gradients"], prob["theta0"], 3)


def test_sparse_problem_dense_scale_changes_only_the_frequent_feature():
    """The stream with x_t = (c, b_t): the same rare-feature draws for every c, and y_t = x_tᵀθ* + noise."""
    base = adaptive_experiments.sparse_problem(seed=4)
    equal = adaptive_experiments.sparse_problem(seed=4, dense_scale=1.0)
    np.testing.assert_array_equal(base["X"][:, 0], np.full(1000, 3.0))
    np.testing.assert_array_equal(equal["X"][:, 0], np.ones(1000))
    np.testing.assert_array_equal(equal["X"][:, 1], base["X"][:, 1])
    # the gradient at θ* is the noise times x_t: same noise, so the rare coordinate's gradients agree
    g_base = np.array([base["gradients"](base["theta_star"], t) for t in range(1, 1001)])
    g_equal = np.array([equal["gradients"](equal["theta_star"], t) for t in range(1, 1001)])
    np.testing.assert_allclose(g_equal[:, 1], g_base[:, 1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g_equal[:, 0] * 3.0, g_base[:, 0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("factory", adaptive.EXPLORABLES)
def test_explorables_fit_the_budget_and_draw(factory):
    ex = factory()
    assert ex.n_frames <= 120
    for problem in ("quadratic", "sparse"):
        fig = ex.figure(problem=problem)
        assert len(fig.axes) == 3
