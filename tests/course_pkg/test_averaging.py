"""course_pkg.averaging against torch.optim.swa_utils, in float64 and in lockstep: the same training run averaged
by both (parameters and buffers after every step, Polyak/SWA and EMA, ``use_buffers`` on and off), SWALR's learning
rates step by step, update_bn's BatchNorm statistics; plus closed forms (the mean and the exponentially weighted sum
of the stored iterates) that do not depend on torch's code."""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest
import torch
from torch.optim import swa_utils

from course_pkg import averaging as avg

F64 = torch.float64


def _net(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3)
    ).to(F64)


def _train(model: torch.nn.Module, steps: int, seed: int = 1, lr: float = 0.1):
    """SGD on a fresh random batch each step; yields after every step."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for t in range(1, steps + 1):
        x = torch.randn(16, 5, generator=gen, dtype=F64)
        y = torch.randint(0, 3, (16,), generator=gen)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        yield t


def _tensors(module: torch.nn.Module) -> list[torch.Tensor]:
    return [t.detach() for t in itertools.chain(module.parameters(), module.buffers())]


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize(
    "decay,torch_kwargs",
    [
        (None, {}),
        (0.9, {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.9)}),
        (0.0, {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.0)}),
        (1.0, {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(1.0)}),
    ],
)
def test_averaged_model_in_lockstep_with_torch(decay, torch_kwargs, use_buffers) -> None:
    model = _net()
    ours = avg.AveragedModel(model, decay=decay, use_buffers=use_buffers)
    theirs = swa_utils.AveragedModel(model, use_buffers=use_buffers, **torch_kwargs)
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(9), dtype=F64)
    for _ in _train(model, 12):
        ours.update_parameters(model)
        theirs.update_parameters(model)
        assert int(ours.n_averaged) == int(theirs.n_averaged)
        for a, b in zip(_tensors(ours.module), _tensors(theirs.module), strict=True):
            assert a.dtype == b.dtype
            assert torch.equal(a, b)
    ours.eval()
    theirs.eval()
    assert torch.equal(ours(x), theirs(x))


@pytest.mark.parametrize("use_buffers", [False, True])
def test_ema_matches_torch_single_tensor_avg_fn(use_buffers) -> None:
    # get_ema_avg_fn computes decay·a + (1 − decay)·θ (ours: a lerp): equal up to float64 rounding.
    model = _net(3)
    ours = avg.AveragedModel(model, decay=0.95, use_buffers=use_buffers)
    theirs = swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(0.95), use_buffers=use_buffers)
    for _ in _train(model, 10, seed=4):
        ours.update_parameters(model)
        theirs.update_parameters(model)
        for a, b in zip(_tensors(ours.module), _tensors(theirs.module), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-15)


def test_averages_are_the_mean_and_the_weighted_sum_of_the_iterates() -> None:
    # Independent of torch's averaging code: store the iterates and average them by their definitions.
    model = _net(5)
    start, decay = 4, 0.8
    polyak = avg.AveragedModel(model)
    ema = avg.AveragedModel(model, decay=decay)
    iterates = []
    for t in _train(model, 15, seed=6):
        iterates.append(torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone())
        if t >= start:  # SWA: average from step t_swa on
            polyak.update_parameters(model)
        ema.update_parameters(model)
    theta = torch.stack(iterates)  # row t - 1 is θ_t
    vec = torch.nn.utils.parameters_to_vector
    torch.testing.assert_close(
        vec(polyak.module.parameters()), theta[start - 1 :].mean(0), rtol=1e-13, atol=1e-14
    )
    T = theta.shape[0]
    weights = [decay ** (T - 1)] + [(1 - decay) * decay ** (T - s) for s in range(2, T + 1)]
    expected = sum(w * theta[s] for s, w in enumerate(weights))
    assert math.isclose(sum(weights), 1.0, rel_tol=1e-14)
    torch.testing.assert_close(vec(ema.module.parameters()), expected, rtol=1e-13, atol=1e-14)
    # the numpy helpers give the same averages of the stored trajectory
    np.testing.assert_allclose(
        avg.polyak_path(theta.numpy(), start=start)[-1], theta[start - 1 :].mean(0), rtol=1e-12
    )
    np.testing.assert_allclose(avg.ema_path(theta.numpy(), decay)[-1], expected.numpy(), rtol=1e-12)


def test_paths_match_torch_averaged_model_at_every_step() -> None:
    rng = np.random.default_rng(0)
    traj = rng.standard_normal((20, 3))
    p = torch.nn.Parameter(torch.zeros(3, dtype=F64))
    holder = torch.nn.Module()
    holder.p = p
    polyak = swa_utils.AveragedModel(holder)
    ema = swa_utils.AveragedModel(holder, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.7))
    want_p, want_e = [], []
    for row in traj:
        with torch.no_grad():
            p.copy_(torch.from_numpy(row))
        polyak.update_parameters(holder)
        ema.update_parameters(holder)
        want_p.append(polyak.module.p.detach().numpy().copy())
        want_e.append(ema.module.p.detach().numpy().copy())
    np.testing.assert_allclose(avg.polyak_path(traj), want_p, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(avg.ema_path(traj, 0.7), want_e, rtol=1e-12, atol=1e-14)
    late = avg.polyak_path(traj, start=8)
    np.testing.assert_array_equal(late[:7], traj[:7])
    np.testing.assert_allclose(late[-1], traj[7:].mean(0), rtol=1e-12)


def _bn_net(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3),
        torch.nn.BatchNorm2d(4, momentum=0.3),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 4 * 4, 6),
        torch.nn.BatchNorm1d(6),
        torch.nn.Linear(6, 2),
        torch.nn.BatchNorm1d(2, track_running_stats=False),
    ).to(F64)
    net[5].running_mean.fill_(3.0)  # stale statistics, which update_bn must replace
    return net


@pytest.mark.parametrize("as_tuples", [False, True])
@pytest.mark.parametrize("train_mode", [False, True])
def test_update_bn_equals_torch(as_tuples, train_mode) -> None:
    gen = torch.Generator().manual_seed(2)
    batches = [torch.randn(b, 2, 6, 6, generator=gen, dtype=F64) * 2 + 1 for b in (8, 5, 11)]
    loader = [(x, torch.zeros(len(x))) for x in batches] if as_tuples else batches
    ours, theirs = _bn_net(7), _bn_net(7)
    ours.train(train_mode)
    theirs.train(train_mode)
    avg.update_bn(loader, ours)
    swa_utils.update_bn(loader, theirs)
    assert ours.training == theirs.training == train_mode
    assert ours[1].momentum == 0.3 and ours[7].track_running_stats is False
    for (name, a), (_, b) in zip(ours.named_buffers(), theirs.named_buffers(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-13, msg=name)
    # an independent check of the first layer: the mean over batches of each batch's per-channel statistics
    with torch.no_grad():
        z = [ours[0](x) for x in batches]
    torch.testing.assert_close(ours[1].running_mean, torch.stack([v.mean((0, 2, 3)) for v in z]).mean(0))
    torch.testing.assert_close(
        ours[1].running_var, torch.stack([v.var((0, 2, 3), unbiased=True) for v in z]).mean(0)
    )
    assert int(ours[1].num_batches_tracked) == 3


def test_update_bn_on_an_averaged_model_and_without_batchnorm() -> None:
    model = _net(8)
    ours, theirs = avg.AveragedModel(model), swa_utils.AveragedModel(model)
    for _ in _train(model, 5):
        ours.update_parameters(model)
        theirs.update_parameters(model)
    loader = [torch.randn(10, 5, generator=torch.Generator().manual_seed(s), dtype=F64) for s in range(3)]
    avg.update_bn(loader, ours)
    swa_utils.update_bn(loader, theirs)
    torch.testing.assert_close(ours.module[1].running_var, theirs.module[1].running_var, rtol=1e-12, atol=0)
    plain = torch.nn.Linear(3, 2)
    before = copy.deepcopy(plain.state_dict())
    avg.update_bn([torch.randn(4, 3)], plain)  # nothing to do
    assert all(torch.equal(before[k], v) for k, v in plain.state_dict().items())


def _lrs(scheduler_cls, steps: int, groups: list[float], pre_steps: int = 0, **kwargs) -> list[list[float]]:
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in groups]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, groups, strict=True)])
    if pre_steps:  # another schedule changes the rates first (SWA starts late in training)
        torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        for _ in range(pre_steps):
            for g in opt.param_groups:
                g["lr"] *= 0.9
    sched = scheduler_cls(opt, **kwargs)
    out = []
    for _ in range(steps):
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 5, 10])
@pytest.mark.parametrize("swa_lr", [0.05, [0.05, 0.3]])
def test_swalr_equals_torch(strategy, anneal_epochs, swa_lr) -> None:
    kwargs = {"swa_lr": swa_lr, "anneal_epochs": anneal_epochs, "anneal_strategy": strategy}
    for pre in (0, 3):
        ours = _lrs(avg.SWALR, 25, [0.5, 0.2], pre_steps=pre, **kwargs)
        theirs = _lrs(swa_utils.SWALR, 25, [0.5, 0.2], pre_steps=pre, **kwargs)
        assert ours == theirs  # the same floats


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_swalr_closed_form(strategy) -> None:
    # the closed form of the docstring, written here from the definition
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.8)
    sched = avg.SWALR(opt, swa_lr=0.1, anneal_epochs=6, anneal_strategy=strategy)
    for t in range(1, 15):
        opt.step()
        sched.step()
        u = min(1.0, t / 6)
        alpha = (1 - math.cos(math.pi * u)) / 2 if strategy == "cos" else u
        assert opt.param_groups[0]["lr"] == pytest.approx(alpha * 0.1 + (1 - alpha) * 0.8, rel=1e-12)
        assert sched.closed_form_lr()[0] == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)


def test_swa_cyclic_lr_follows_the_paper() -> None:
    # Izmailov et al. (2018): α(i) = (1 − t(i)) α₁ + t(i) α₂, t(i) = (mod(i − 1, c) + 1) / c
    a1, a2, c = 0.05, 0.001, 4
    lrs = [avg.swa_cyclic_lr(i, a1, a2, c) for i in range(1, 13)]
    assert lrs[3] == pytest.approx(a2) and lrs[7] == pytest.approx(a2) and lrs[11] == pytest.approx(a2)
    assert lrs[0] == pytest.approx(a1 - (a1 - a2) / c)
    assert lrs[:4] == pytest.approx(lrs[4:8]) and all(np.diff(lrs[:4]) < 0)
    assert avg.swa_cyclic_lr(7, a1, a2, 1) == a2
    with pytest.raises(ValueError, match="starts at 1"):
        avg.swa_cyclic_lr(0, a1, a2, c)
    with pytest.raises(ValueError, match="cycle must be >= 1"):
        avg.swa_cyclic_lr(3, a1, a2, 0)


def _message(fn) -> str:
    with pytest.raises(ValueError) as info:
        fn()
    return str(info.value)


def test_errors_have_torchs_messages() -> None:
    opt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))]}], lr=0.1)
    assert _message(lambda: avg.AveragedModel(_net(), decay=1.5)) == _message(
        lambda: swa_utils.get_ema_multi_avg_fn(1.5)
    )
    assert _message(lambda: avg.ema_path(np.zeros((2, 1)), -0.1)) == _message(
        lambda: swa_utils.get_ema_avg_fn(-0.1)
    )
    for bad in [
        {"anneal_strategy": "step"},
        {"anneal_epochs": -1},
        {"anneal_epochs": 2.5},
        {"swa_lr": [0.1, 0.2]},
    ]:
        kwargs = {"swa_lr": 0.1, **bad}
        assert _message(lambda k=kwargs: avg.SWALR(opt, **k)) == _message(
            lambda k=kwargs: swa_utils.SWALR(opt, **k)
        )
    other = torch.nn.Linear(5, 2)
    with pytest.raises(ValueError, match="do not match"):
        avg.AveragedModel(_net()).update_parameters(other)
    with pytest.raises(ValueError, match="start must be >= 1"):
        avg.polyak_path(np.zeros((3, 2)), start=0)
