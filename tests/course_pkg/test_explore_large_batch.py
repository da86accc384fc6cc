"""The "Large batches and warmup" explorable and experiments: per-layer relative updates against quantities computed
independently with torch autograd, the closed-form step lengths of LARS and LAMB, the Hessian's top eigenvalue
against a dense eigendecomposition, the warmup schedule, and the direction of Xiong et al.'s depth scaling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_pkg.experiments import large_batch as exl
from course_pkg.experiments.sgd import load_digits_split
from course_pkg.explore import large_batch as lb


def test_learning_rate_rules() -> None:
    assert lb.learning_rate("SGD", 512, scaled=True) == pytest.approx(0.05 * 32)
    assert lb.learning_rate("LARS", 64, scaled=False) == 0.05
    assert lb.learning_rate("LAMB", 256, scaled=True) == pytest.approx(0.004 * 4)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        lb.learning_rate("Adam", 32, scaled=True)
    with pytest.raises(ValueError, match="batch_size must lie in"):
        lb.run_ratios("SGD", 0, 0.1)


def test_first_step_ratios_match_autograd_and_closed_forms() -> None:
    batch_size, lr = 64, 0.3
    # SGD's first step is η g_1 (the momentum buffer starts as g_1): ratio η‖g_k‖/‖θ_k‖ from an independent gradient
    data = load_digits_split()
    model = exl.make_deep_mlp(0, lb.WIDTHS)
    idx = torch.randperm(data.X_train.shape[0], generator=torch.Generator().manual_seed(0))[:batch_size]
    nn.functional.cross_entropy(model(data.X_train[idx]), data.y_train[idx]).backward()
    weights = [m.weight for m in model if isinstance(m, nn.Linear)]
    expected = [lr * (w.grad.norm() / w.norm()).item() for w in weights]
    sgd = lb.run_ratios("SGD", batch_size, lr, steps=3)
    np.testing.assert_allclose(sgd["ratio"][0], expected, rtol=1e-5)
    assert sgd["loss"][0] == pytest.approx(
        nn.functional.cross_entropy(
            exl.make_deep_mlp(0, lb.WIDTHS)(data.X_train[idx]), data.y_train[idx]
        ).item(),
        rel=1e-6,
    )
    # LARS: ηζ at the first step; LAMB: η at every step
    lars = lb.run_ratios("LARS", batch_size, lr, steps=3)
    np.testing.assert_allclose(lars["ratio"][0], lr * lb.TRUST, rtol=1e-5)
    lamb = lb.run_ratios("LAMB", batch_size, 0.01, steps=3)
    np.testing.assert_allclose(lamb["ratio"], 0.01, rtol=1e-5)


def test_hessian_lambda_max_matches_dense_eigendecomposition() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    X = torch.randn(20, 3, dtype=torch.float64)
    y = torch.randint(3, (20,))
    params = list(model.parameters())
    shapes = [p.shape for p in params]
    flat0 = torch.cat([p.detach().ravel() for p in params])

    def loss_of(flat: torch.Tensor) -> torch.Tensor:
        out, i = X, 0
        chunks = []
        for s in shapes:
            n = math.prod(s)
            chunks.append(flat[i : i + n].reshape(s))
            i += n
        out = torch.tanh(X @ chunks[0].T + chunks[1]) @ chunks[2].T + chunks[3]
        return nn.functional.cross_entropy(out, y)

    eig = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss_of, flat0))
    top = eig[eig.abs().argmax()].item()
    assert exl.hessian_lambda_max(model, X, y, iters=300) == pytest.approx(top, rel=1e-6)


def test_warmup_schedule_and_divergence() -> None:
    data = load_digits_split()
    seen: list[float] = []

    class Recording(torch.optim.SGD):
        def step(self, closure=None):  # noqa: ANN001, ANN202
            seen.append(self.param_groups[0]["lr"])
            return super().step(closure)

    run = exl.train_large_batch(
        data, lambda m: Recording(m.parameters(), lr=0.2), 512, 2, seed=0, warmup_steps=4
    )
    assert run.steps == 6 and seen == pytest.approx([0.2 * min(1.0, t / 4) for t in range(1, 7)])
    assert math.isfinite(run.train_loss) and 0 <= run.test_accuracy <= 1
    blown = exl.train_large_batch(data, lambda m: torch.optim.SGD(m.parameters(), lr=1e4), 512, 3, seed=0)
    assert math.isnan(blown.train_loss) and blown.test_accuracy == 0.0
    with pytest.raises(ValueError, match="batch_size must lie in"):
        exl.train_large_batch(data, lambda m: torch.optim.SGD(m.parameters(), lr=0.1), 0, 1, seed=0)


def test_post_ln_last_layer_gradient_does_not_shrink_with_depth_pre_ln_does() -> None:
    post = exl.depth_scaling(False, (1, 8), range(3))
    pre = exl.depth_scaling(True, (1, 8), range(3))
    assert post.shape == (3, 2)
    assert post[:, 1].mean() > 0.9 * post[:, 0].mean()
    assert pre[:, 1].mean() < 0.9 * pre[:, 0].mean()
    assert exl.transformer_last_layer_grad_norm(True, 2, seed=4) == exl.transformer_last_layer_grad_norm(
        True, 2, 4
    )
    with pytest.raises(ValueError, match="depth must be >= 1"):
        exl.transformer_last_layer_grad_norm(True, 0, seed=0)
