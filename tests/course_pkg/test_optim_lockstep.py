"""course_pkg.optim's torch-equivalent optimizers, run in lockstep with torch.optim (float64, every step checked)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from optim_lockstep import DEVICES, TOL, Lockstep, OptimizerCase, batch, case_params, grid, loss_fn
from torch import Tensor

STEPS = 20


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("case", "options"), grid())
def test_lockstep_hyperparameter_grid(case: OptimizerCase, options: dict[str, Any], device: str) -> None:
    run = Lockstep(case, device, **options)
    start = [p.detach().clone() for p in run.p_ours]
    for _ in range(STEPS):
        run.step()
    # the run must have moved every parameter, or agreement would prove nothing
    for p, p0 in zip(run.p_ours, start):
        assert not torch.equal(p.detach(), p0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", case_params())
def test_none_grad_is_a_noop_and_creates_no_state(case: OptimizerCase, device: str) -> None:
    run = Lockstep(case, device, **case.options[-1])
    had_state = run.p_ours[1] in run.opt.state  # Adagrad creates its state in the constructor, like torch
    before = [p.detach().clone() for p in run.p_ours]
    run.step(drop_grad=[1])  # step 1: parameter 1 has no gradient
    assert torch.equal(run.p_ours[1].detach(), before[1])
    assert (run.p_ours[1] in run.opt.state) == had_state
    assert not torch.equal(run.p_ours[0].detach(), before[0])
    for t in range(2, STEPS + 1):
        before3 = run.p_ours[3].detach().clone()
        run.step(drop_grad=[3] if t % 4 == 0 else [])
        if t % 4 == 0:
            assert torch.equal(run.p_ours[3].detach(), before3)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", case_params())
def test_freeze_and_unfreeze_mid_run(case: OptimizerCase, device: str) -> None:
    run = Lockstep(case, device, **case.options[-1])
    for t in range(1, STEPS + 1):
        frozen = 6 <= t <= 12
        for params in (run.p_ours, run.p_ref):
            params[0].requires_grad_(not frozen)
        before = run.p_ours[0].detach().clone()
        run.step()
        if frozen:
            assert run.p_ours[0].grad is None
            assert torch.equal(run.p_ours[0].detach(), before)
        else:
            assert not torch.equal(run.p_ours[0].detach(), before)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", case_params())
def test_two_param_groups(case: OptimizerCase, device: str) -> None:
    def build(case: OptimizerCase, params: list[Tensor], is_ours: bool) -> torch.optim.Optimizer:
        groups = [{"params": params[:2]}, {"params": params[2:], **case.group2}]
        return case.make_ours(groups) if is_ours else case.make_ref(groups)

    run = Lockstep(case, device, build=build)
    assert run.opt.param_groups[1]["lr"] != run.opt.param_groups[0]["lr"]
    for _ in range(STEPS):
        run.step()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", case_params())
def test_state_dict_round_trip_continues_identically(case: OptimizerCase, device: str) -> None:
    def build(case: OptimizerCase, params: list[Tensor], is_ours: bool) -> torch.optim.Optimizer:
        groups = [{"params": params[:2]}, {"params": params[2:], **case.group2}]
        return (
            case.make_ours(groups, **case.options[-1])
            if is_ours
            else case.make_ref(groups, **case.options[-1])
        )

    run = Lockstep(case, device, build=build)
    for _ in range(STEPS // 2):
        run.step()
    run.reload()
    run.check()
    for _ in range(STEPS // 2):
        run.step()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", case_params())
def test_state_dict_crosses_between_torch_and_ours(case: OptimizerCase, device: str) -> None:
    run = Lockstep(case, device, **case.options[-1])
    for _ in range(5):
        run.step()
    run.reload(ours_from="ref", ref_from="ref")  # torch.optim's state dict loads into ours ...
    run.check()
    for _ in range(5):
        run.step()
    run.reload(ours_from="ours", ref_from="ours")  # ... and ours into torch.optim
    run.check()
    for _ in range(5):
        run.step()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", case_params())
def test_closure_returns_the_loss(case: OptimizerCase, device: str) -> None:
    run = Lockstep(case, device, **case.options[0])
    for t in range(1, 6):
        expected = loss_fn(run.p_ours, batch(t, device)).item()
        loss_ours, loss_ref = run.step(closure=True)
        assert isinstance(loss_ours, Tensor)
        assert loss_ours.item() == pytest.approx(expected, rel=1e-15)
        torch.testing.assert_close(loss_ours, loss_ref, **TOL)


@pytest.mark.parametrize("case", case_params())
def test_closure_runs_with_grad_enabled_and_step_without(case: OptimizerCase) -> None:
    param = torch.ones(3, dtype=torch.float64, requires_grad=True)
    opt = case.make_ours([param])
    seen = []

    def closure() -> Tensor:
        seen.append(torch.is_grad_enabled())
        opt.zero_grad()
        loss = (param**2).sum()
        loss.backward()
        return loss

    with torch.no_grad():
        loss = opt.step(closure)
    assert seen == [True]
    assert loss.item() == 3.0
    # outside no_grad: an in-place update of a leaf that requires grad would raise unless step disables autograd
    assert opt.step() is None  # without a closure: no loss
    assert param.is_leaf and param.grad_fn is None


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", case_params())
def test_complex_parameters(case: OptimizerCase, device: str) -> None:
    gen = torch.Generator().manual_seed(11)
    leaves = [
        torch.randn(3, 4, dtype=torch.complex128, generator=gen),
        torch.randn(4, 3, dtype=torch.complex128, generator=gen).t().clone(),  # non-contiguous
    ]
    p_ours = [p.to(device).requires_grad_() for p in leaves]
    p_ref = [p.detach().clone().requires_grad_() for p in p_ours]
    opt = case.make_ours(p_ours, **case.options[-1])
    ref = case.make_ref(p_ref, **case.options[-1])
    for _ in range(STEPS):
        for p, q in zip(p_ours, p_ref):
            g = torch.randn(p.shape, dtype=torch.complex128, generator=gen).to(device)
            p.grad, q.grad = g.clone(), g.clone()
        opt.step()
        ref.step()
        for p, q in zip(p_ours, p_ref):
            torch.testing.assert_close(p, q, **TOL)
        torch.testing.assert_close(opt.state_dict()["state"], ref.state_dict()["state"], **TOL)
    assert all(
        v.is_complex() for s in opt.state.values() for k, v in s.items() if k not in ("step", "mu_product")
    )


@pytest.mark.parametrize("case", case_params())
def test_torch_lr_scheduler_drives_ours_like_torch(case: OptimizerCase) -> None:
    """The learning rate is read from the group at every step, so torch's schedulers work unchanged."""
    run = Lockstep(case, "cpu", **case.options[0])
    schedulers = [torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.7) for opt in (run.opt, run.ref)]
    lr0 = run.opt.param_groups[0]["lr"]
    for _ in range(10):
        run.step()
        for scheduler in schedulers:
            scheduler.step()
    assert run.opt.param_groups[0]["lr"] == pytest.approx(lr0 * 0.7**10)


@pytest.mark.parametrize("case", case_params())
def test_tensor_learning_rate(case: OptimizerCase) -> None:
    """torch.optim accepts a 1-element tensor as lr and computes with it as a tensor; so do we, to the last bit."""
    run = Lockstep(case, "cpu", **{**case.options[-1], "lr": torch.tensor([0.02])})
    for _ in range(STEPS):
        run.step()


@pytest.mark.parametrize("case", case_params())
def test_add_param_group_mid_run(case: OptimizerCase) -> None:
    """A group added after a few steps (e.g. unfreezing a layer for fine-tuning) is initialized as torch does."""
    run = Lockstep(case, "cpu", build=lambda case, params, is_ours: _first_two(case, params, is_ours))
    for _ in range(3):
        run.step()
    for params, opt in ((run.p_ours, run.opt), (run.p_ref, run.ref)):
        opt.add_param_group({"params": params[2:], **case.group2})
    for _ in range(STEPS - 3):
        run.step()


def _first_two(case: OptimizerCase, params: list[Tensor], is_ours: bool) -> torch.optim.Optimizer:
    """An optimizer over the first two parameters only (the others get gradients but are not optimized yet)."""
    return case.make_ours(params[:2]) if is_ours else case.make_ref(params[:2])
