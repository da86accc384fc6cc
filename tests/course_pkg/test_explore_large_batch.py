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
from course_pkg.explore.chapters import large_batch as lb
from course_pkg.optim import LAMB, LARS


def test_learning_rate_rules() -> None:
    assert lb.learning_rate("SGD", 512, scaled=True) == pytest.approx(0.05 * 32)
    assert lb.learning_rate("LARS", 64, scaled=False) == 0.05
    assert lb.learning_rate("LAMB", 256, scaled=True) == pytest.approx(0.004 * 4)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        lb.learning_rate("Adam", 32, scaled=True)
    with pytest.raises(ValueError, match="batch_size must lie in"):
        lb.run_ratios("SGD", 0, 0.1)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        lb.run_ratios("Adam", 32, 0.1)


def test_backprop_matches_autograd() -> None:
    X, y = lb.digits()
    weights = lb.init_weights(seed=3)
    loss, grads = lb.loss_and_grads(weights, X[:100], y[:100])
    ws = [torch.tensor(w, requires_grad=True) for w in weights]
    h = torch.tensor(X[:100])
    for w in ws[:-1]:
        h = torch.relu(h @ w.T)
    ref = nn.functional.cross_entropy(h @ ws[-1].T, torch.tensor(y[:100]))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    for g, w in zip(grads, ws):
        np.testing.assert_allclose(g, w.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["SGD", "LARS", "LAMB"])
def test_numpy_rules_match_torch_sgd_and_course_optimizers(name: str) -> None:
    """The explorable's numpy updates produce the iterates of torch.optim.SGD, course_pkg's LARS and LAMB."""
    batch_size, lr, steps = 64, lb.learning_rate(name, 64, scaled=True), 6
    got = lb.run_ratios(name, batch_size, lr, steps=steps)
    X, y = lb.digits()
    ws = [torch.tensor(w, requires_grad=True) for w in lb.init_weights(0)]
    opt = {
        "SGD": lambda: torch.optim.SGD(ws, lr=lr, momentum=lb.MOMENTUM, foreach=False),
        "LARS": lambda: LARS(ws, lr=lr, momentum=lb.MOMENTUM, trust_coefficient=lb.TRUST),
        "LAMB": lambda: LAMB(ws, lr=lr, betas=lb.BETAS, eps=lb.EPS),
    }[name]()
    rng = np.random.default_rng(1)  # the documented batch order: slices of one permutation
    perm = rng.permutation(len(y))
    for t in range(steps):
        idx = perm[t * batch_size : (t + 1) * batch_size]
        h = torch.tensor(X[idx])
        for w in ws[:-1]:
            h = torch.relu(h @ w.T)
        loss = nn.functional.cross_entropy(h @ ws[-1].T, torch.tensor(y[idx]))
        assert got["loss"][t] == pytest.approx(loss.item(), rel=1e-10)
        before = [w.detach().clone() for w in ws]
        opt.zero_grad()
        loss.backward()
        opt.step()
        expected = [((w - w0).norm() / w0.norm()).item() for w, w0 in zip(ws, before)]
        np.testing.assert_allclose(got["ratio"][t], expected, rtol=1e-8)
    if name == "LAMB":
        np.testing.assert_allclose(got["ratio"], lr, rtol=1e-10)  # closed form: η in every layer
    if name == "LARS":
        np.testing.assert_allclose(got["ratio"][0], lr * lb.TRUST, rtol=1e-10)  # first step: ηζ


def test_frame_runs_equal_separate_runs() -> None:
    """The frame's three runs share their first gradient: each must equal the same optimizer trained alone."""
    lb._runs.cache_clear()
    for scaled in (True, False):
        runs = lb._runs(64, scaled)
        for name in ("SGD", "LARS", "LAMB"):
            alone = lb.run_ratios(name, 64, lb.learning_rate(name, 64, scaled))
            assert runs[name]["lr"] == lb.learning_rate(name, 64, scaled)
            np.testing.assert_array_equal(runs[name]["loss"], alone["loss"])
            np.testing.assert_array_equal(runs[name]["ratio"], alone["ratio"])
    assert len({tuple(r["loss"][1:]) for r in runs.values()}) == 3  # the runs do part after the shared step


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
