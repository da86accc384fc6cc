"""Tests of the Adam explorable: iterates vs torch.optim.Adam, first-step sizes with/without bias correction."""

import numpy as np
import pytest
import torch

import course_pkg.optim as co
from course_pkg.experiments import adam as adam_experiments
from course_pkg.explore.chapters import adam


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: one intra-op thread is fastest and immune to a busy machine's oversubscription."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _oracle(seed=0, steps=60):
    noise = 0.05 * np.random.default_rng(seed).standard_normal((steps, 2))
    return lambda theta, t: np.array([1.0, 0.01]) * theta + noise[t - 1]


@pytest.mark.parametrize("opt_cls", [torch.optim.Adam, co.Adam])
@pytest.mark.parametrize("warmup", [0, 10])
def test_iterates_match_torch_adam_with_linear_warmup(opt_cls, warmup):
    steps, lr = 60, 0.05
    grads = _oracle(steps=steps)
    ours = adam_experiments.adam_run(
        grads, np.array([1.5, 2.0]), steps, lr, beta1=0.8, beta2=0.99, warmup=warmup
    )
    p = torch.tensor([1.5, 2.0], dtype=torch.float64, requires_grad=True)
    opt = opt_cls([p], lr=lr, betas=(0.8, 0.99))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: 1.0 if warmup == 0 else min(1.0, (k + 1) / warmup)
    )
    for t in range(1, steps + 1):
        p.grad = torch.tensor(grads(p.detach().numpy(), t))
        opt.step()
        sched.step()
        np.testing.assert_allclose(ours["theta"][t], p.detach().numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(("beta1", "beta2"), [(0.9, 0.999), (0.0, 0.999), (0.9, 0.99), (0.5, 0.9)])
def test_first_step_sizes(beta1, beta2):
    g = np.array([3.0, -0.2])
    lr = 0.1
    with_bc = adam_experiments.adam_run(lambda th, t: g, np.zeros(2), 1, lr, beta1, beta2)
    without = adam_experiments.adam_run(
        lambda th, t: g, np.zeros(2), 1, lr, beta1, beta2, bias_correction=False
    )
    # corrected: m̂₁ = g, v̂₁ = g² → a step of η·sign(g) (|g| ≫ ε)
    np.testing.assert_allclose(with_bc["step"][0], -lr * np.sign(g), rtol=1e-6)
    # uncorrected: (1 − β₁) g / √((1 − β₂) g²) → η (1 − β₁)/√(1 − β₂) · sign(g)
    np.testing.assert_allclose(
        without["step"][0], -lr * (1 - beta1) / np.sqrt(1 - beta2) * np.sign(g), rtol=1e-5
    )


def test_warmup_scales_the_learning_rate_linearly():
    run = adam_experiments.adam_run(lambda th, t: np.ones(1), np.zeros(1), 30, 0.2, warmup=20)
    np.testing.assert_allclose(run["lr"], 0.2 * np.minimum(1.0, np.arange(1, 31) / 20))


def test_bad_hyperparameters_raise_torch_messages():
    with pytest.raises(ValueError, match="Invalid learning rate"):
        adam_experiments.adam_run(lambda th, t: th, np.zeros(1), 1, -0.1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        adam_experiments.adam_run(lambda th, t: th, np.zeros(1), 1, 0.1, beta2=1.0)


@pytest.mark.parametrize("factory", adam.EXPLORABLES)
def test_explorables_fit_the_budget_and_draw(factory):
    ex = factory()
    assert ex.n_frames <= 120
    fig = ex.figure(bias_correction=False)
    assert len(fig.axes) == 3
