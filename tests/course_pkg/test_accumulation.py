"""Gradient accumulation: k micro-batches with loss/k give the same updates as one batch k times larger."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from course_pkg.optim.accumulation import GradientAccumulator, accumulate

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors (conftest.py)


N, D = 48, 5


def _data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(N, D, generator=gen, dtype=torch.float64)
    y = torch.sin(x.sum(1, keepdim=True)) + 0.1 * torch.randn(N, 1, generator=gen, dtype=torch.float64)
    return x, y


def _model(seed: int = 1) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(D, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)).double()


def _optimizers() -> dict[str, callable]:
    makers = {
        "torch.SGD-momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        "torch.Adam": lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=1e-3),
        "torch.RMSprop": lambda p: torch.optim.RMSprop(p, lr=0.01, centered=True),
    }
    try:
        from course_pkg import optim as cp
    except ImportError:  # the package's __init__ may not exist yet
        return makers
    if hasattr(cp, "SGD"):
        makers["course.SGD"] = lambda p: cp.SGD(p, lr=0.05, momentum=0.9)
    if hasattr(cp, "AdamW"):
        makers["course.AdamW"] = lambda p: cp.AdamW(p, lr=0.01)
    return makers


OPTIMIZERS = _optimizers()


def _large_batch_run(make_opt, steps: int) -> list[torch.Tensor]:
    x, y = _data()
    model = _model()
    opt = make_opt(model.parameters())
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("k", [1, 3, 4, 8])
def test_accumulate_equals_large_batch(name: str, k: int) -> None:
    steps = 6
    ref = _large_batch_run(OPTIMIZERS[name], steps)
    x, y = _data()
    model = _model()
    opt = OPTIMIZERS[name](model.parameters())
    micro = list(zip(x.chunk(k), y.chunk(k), strict=True))
    for _ in range(steps):
        opt.zero_grad()
        loss = accumulate(lambda b: nn.functional.mse_loss(model(b[0]), b[1]), micro)
        opt.step()
    for p, q in zip(model.parameters(), ref, strict=True):
        torch.testing.assert_close(p.detach(), q, rtol=1e-11, atol=1e-12)
    # the returned loss is the large-batch mean loss (at the parameters before the last step)
    assert loss.dtype == torch.float64 and loss.dim() == 0


def test_accumulate_returns_mean_loss_and_gradient() -> None:
    x, y = _data()
    model = _model()
    full = nn.functional.mse_loss(model(x), y)
    full_grads = torch.autograd.grad(full, list(model.parameters()))
    loss = accumulate(lambda b: nn.functional.mse_loss(model(b[0]), b[1]), zip(x.chunk(4), y.chunk(4)))
    assert loss.item() == pytest.approx(full.item(), rel=1e-13)
    for p, g in zip(model.parameters(), full_grads, strict=True):
        torch.testing.assert_close(p.grad, g, rtol=1e-12, atol=1e-14)
    # dropping the 1/k would give k times the gradient: the scaling is what makes the identity hold
    assert not torch.allclose(4 * p.grad, g)


def test_accumulate_unequal_micro_batches_with_sizes() -> None:
    x, y = _data()
    model = _model()
    full_grads = torch.autograd.grad(nn.functional.mse_loss(model(x), y), list(model.parameters()))
    cuts = [5, 20, 23]  # 48 examples split unevenly
    micro = list(zip(x.split(cuts), y.split(cuts), strict=True))
    fn = lambda b: nn.functional.mse_loss(model(b[0]), b[1])  # noqa: E731
    accumulate(fn, micro, sizes=cuts)
    for p, g in zip(model.parameters(), full_grads, strict=True):
        torch.testing.assert_close(p.grad, g, rtol=1e-12, atol=1e-14)
    # equal weights 1/k would be wrong for unequal sizes
    model.zero_grad()
    accumulate(fn, micro)
    assert not all(torch.allclose(p.grad, g) for p, g in zip(model.parameters(), full_grads, strict=True))


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_gradient_accumulator_loop_equals_large_batch(name: str) -> None:
    k, steps = 4, 5
    ref = _large_batch_run(OPTIMIZERS[name], steps)
    x, y = _data()
    model = _model()
    acc = GradientAccumulator(OPTIMIZERS[name](model.parameters()), accumulation_steps=k)
    stepped = []
    for _ in range(steps):
        for xb, yb in zip(x.chunk(k), y.chunk(k), strict=True):
            stepped.append(acc.backward(nn.functional.mse_loss(model(xb), yb)))
    assert stepped == ([False] * (k - 1) + [True]) * steps
    for p, q in zip(model.parameters(), ref, strict=True):
        torch.testing.assert_close(p.detach(), q, rtol=1e-11, atol=1e-12)
    assert all(p.grad is None or torch.count_nonzero(p.grad) == 0 for p in model.parameters())


def test_errors() -> None:
    with pytest.raises(ValueError, match="at least one micro-batch"):
        accumulate(lambda b: b, [])
    with pytest.raises(ValueError, match="sizes"):
        accumulate(lambda b: b, [torch.tensor(1.0)], sizes=[1, 2])
    with pytest.raises(ValueError, match="scalar"):
        accumulate(lambda b: b, [torch.ones(2, requires_grad=True)])
    model = _model()
    with pytest.raises(ValueError, match="accumulation_steps"):
        GradientAccumulator(torch.optim.SGD(model.parameters(), lr=0.1), accumulation_steps=0)
