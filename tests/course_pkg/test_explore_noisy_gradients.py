"""The noisy-gradients chapter: numpy residual MLP, per-example gradient variance, accumulation training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from course_pkg.experiments import noisy_gradients as N
from course_pkg.explore.chapters import noisy_gradients as E


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: one intra-op thread is fastest and immune to a busy machine's oversubscription."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _torch_twin(params: list[np.ndarray]):
    """The numpy tanh residual MLP rebuilt in torch (float64), as an independent gradient reference."""
    ts = [torch.tensor(p, requires_grad=True) for p in params]

    def forward(x: torch.Tensor) -> torch.Tensor:
        h = x @ ts[0]
        for W in ts[1:-1]:
            h = h + torch.tanh(h @ W)
        return h @ ts[-1]

    return ts, forward


@pytest.mark.parametrize("depth", [0, 1, 5])
def test_numpy_micro_gradients_match_torch_autograd(depth: int) -> None:
    params = N._init(depth, seed=2)
    X, y = N.regression_data(0)
    k, b = 3, 5
    x = X[: k * b].reshape(k, b, -1)
    yy = y[: k * b].reshape(k, b)
    grads, losses = N._micro_grads(params, x, yy)
    ts, forward = _torch_twin(params)
    for j in range(k):
        loss = 0.5 * ((forward(torch.tensor(x[j]))[:, 0] - torch.tensor(yy[j])) ** 2).mean()
        ref = torch.autograd.grad(loss, ts)
        assert losses[j] == pytest.approx(loss.item(), rel=1e-12)
        for g, r in zip(grads, ref, strict=True):
            np.testing.assert_allclose(g[j], r.numpy(), rtol=1e-10, atol=1e-13)


def test_accumulated_run_equals_large_micro_batch_run() -> None:
    """k micro-batches of b averaged == one micro-batch of k*b: same losses (same samples, same update)."""
    X, y = N.regression_data(0)
    params = N._init(3, seed=0)
    rng = np.random.default_rng(5)
    idx = rng.integers(0, X.shape[0], size=(4, 6))
    grads, _ = N._micro_grads(params, X[idx], y[idx])
    big, _ = N._micro_grads(params, X[idx.reshape(1, -1)], y[idx.reshape(1, -1)])
    for g, G in zip(grads, big, strict=True):
        np.testing.assert_allclose(g.mean(axis=0), G[0], rtol=1e-12, atol=1e-14)


def test_numpy_run_behaviour() -> None:
    shallow = N.numpy_residual_run(4, 2, clip=False)
    assert shallow["loss"][-1] < 0.3 * shallow["loss"][0]
    assert shallow["micro_norms"].shape == (60 * 4,) and shallow["update_norms"].shape == (60,)
    # averaging k micro-batch gradients shrinks the noise: update norms below micro-batch norms
    assert np.median(shallow["update_norms"]) < np.median(shallow["micro_norms"])
    # deep, k = 1, no clipping diverges; clipping at 1 keeps it finite and learning
    deep = N.numpy_residual_run(1, 8, clip=False)
    assert not np.isfinite(deep["loss"][-1]) and deep["loss"].size == 61
    clipped = N.numpy_residual_run(1, 8, clip=True)
    assert np.isfinite(clipped["loss"]).all() and clipped["loss"][-1] < clipped["loss"][0]


@pytest.mark.parametrize("clip", [False, True])
def test_run_matches_torch_training_loop(clip: bool) -> None:
    """numpy_residual_run (whose micro-batches reuse the full-data forward pass) against a torch loop: per
    micro-batch autograd gradients, their mean, clipping as clip_grad_norm_, the full-data loss after each update."""
    import course_pkg.optim as co

    k, b, depth, updates, lr = 3, 4, 3, 5, 0.05
    run = N.numpy_residual_run(k, depth, clip, micro_batch=b, updates=updates, lr=lr)
    X, y = N.regression_data(0)
    ts, forward = _torch_twin(N._init(depth, seed=0))
    Xt, yt = torch.tensor(X), torch.tensor(y)
    rng = np.random.default_rng(1)
    losses = [0.5 * ((forward(Xt)[:, 0] - yt) ** 2).mean().item()]
    micro, update = [], []
    for _ in range(updates):
        idx = rng.integers(0, X.shape[0], size=(k, b))
        per = []
        for j in range(k):
            loss = 0.5 * ((forward(Xt[idx[j]])[:, 0] - yt[idx[j]]) ** 2).mean()
            per.append(torch.autograd.grad(loss, ts))
        micro += [torch.sqrt(sum((g**2).sum() for g in gs)).item() for gs in per]
        for t, *gs in zip(ts, *per, strict=True):
            t.grad = torch.stack(gs).mean(dim=0)
        update.append(torch.sqrt(sum((t.grad**2).sum() for t in ts)).item())
        if clip:
            co.clip_grad_norm_(ts, 1.0)
        with torch.no_grad():
            for t in ts:
                t -= lr * t.grad
        losses.append(0.5 * ((forward(Xt)[:, 0] - yt) ** 2).mean().item())
    np.testing.assert_allclose(run["loss"], losses, rtol=1e-10)
    np.testing.assert_allclose(run["micro_norms"], micro, rtol=1e-10)
    np.testing.assert_allclose(run["update_norms"], update, rtol=1e-10)


def test_tanh_matches_numpy() -> None:
    z = np.concatenate([np.linspace(-30, 30, 6001), [1e-12, -1e-12, 400.0, -400.0, 0.0]])
    with np.errstate(over="raise"):  # exp(2z) overflows to inf for z = 400: that is how tanh = 1 comes out
        with pytest.raises(FloatingPointError):
            N._tanh_(z.copy())
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(N._tanh_(z.copy()), np.tanh(z), rtol=1e-14, atol=5e-16)


def test_clip_scaling_matches_course_clip_grad_norm() -> None:
    """The explorable's clipping rule is clip_grad_norm_'s: one clipped step equals the reference."""
    import course_pkg.optim as co

    X, y = N.regression_data(0)
    params = N._init(8, seed=0)
    rng = np.random.default_rng(1)  # the run draws its first batch from default_rng(seed + 1)
    idx = rng.integers(0, X.shape[0], size=(1, 4))
    grads, _ = N._micro_grads(params, X[idx], y[idx])
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    for t, g in zip(tensors, grads, strict=True):
        t.grad = torch.tensor(g[0])
    co.clip_grad_norm_(tensors, 1.0)
    expected = 0.5 * np.mean(
        (N._forward([(t - 0.05 * t.grad).detach().numpy() for t in tensors], X)[0][:, 0] - y) ** 2
    )
    run = N.numpy_residual_run(1, 8, clip=True, updates=1)
    assert run["loss"][1] == pytest.approx(expected, rel=1e-12)


def test_gradient_variance_matches_loop_over_examples() -> None:
    X, y = N.digits_tensors()
    X, y = X[:12], y[:12]
    torch.manual_seed(0)
    model = N.ResidualMLP(depth=2, width=8, in_dim=64, out_dim=10).double()
    stats = N.gradient_variance(model, X, y)
    per = []
    for i in range(12):
        g = torch.autograd.grad(
            nn.functional.cross_entropy(model(X[i : i + 1]), y[i : i + 1]), list(model.parameters())
        )
        per.append(torch.cat([gi.flatten() for gi in g]))
    G = torch.stack(per)
    mean = G.mean(dim=0)
    assert stats["total_variance"] == pytest.approx(((G - mean) ** 2).sum(dim=1).mean().item(), rel=1e-10)
    assert stats["mean_grad_sq_norm"] == pytest.approx((mean @ mean).item(), rel=1e-10)
    assert sum(stats["per_tensor_variance"]) == pytest.approx(stats["total_variance"], rel=1e-12)


def test_train_accumulation_equals_large_batch_and_validates() -> None:
    X, y = N.digits_tensors()
    nets = []
    for k in (1, 4):
        torch.manual_seed(1)
        net = N.ResidualMLP(depth=2, width=16, in_dim=64, out_dim=10).double()
        out = N.train(net, X, y, steps=5, batch_size=32, accumulation_steps=k, lr=0.05, momentum=0.9)
        nets.append((net, out))
    for p, q in zip(nets[0][0].parameters(), nets[1][0].parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(nets[0][1]["loss"], nets[1][1]["loss"], rtol=1e-12)
    assert nets[1][1]["micro_grad_norm"].shape == (5, 4)
    with pytest.raises(ValueError, match="multiple"):
        N.train(nets[0][0], X, y, steps=1, batch_size=30, accumulation_steps=4)
    with pytest.raises(ValueError, match="depth"):
        N.ResidualMLP(depth=-1, width=4, in_dim=2, out_dim=1)


def test_explorable_grid_and_drawing() -> None:
    ex = E.accumulation_histogram()
    assert ex.n_frames <= 120 and E.EXPLORABLES == [E.accumulation_histogram]
    for params in ({"k": 1, "depth": 8, "clip": False}, {"k": 16, "depth": 2, "clip": True}):
        fig = Figure()
        E._draw_accumulation(E._compute_accumulation(**params), fig)
        assert [ax.get_xlabel() for ax in fig.axes] == ["gradient norm ‖g‖", "update"]
