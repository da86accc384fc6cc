"""Gradient clipping: identical to torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""

from __future__ import annotations

import math

import pytest
import torch

from course_pkg.optim.clipping import NonFiniteNormError, clip_grad_norm_, clip_grad_value_

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors (conftest.py)


SHAPES = [(3, 4), (7,), (2, 3, 2), (5, 1)]


def _params(seed: int, scale: float, none_at: tuple[int, ...] = ()) -> list[torch.Tensor]:
    """Parameters of several shapes with random float64 gradients (``grad=None`` at the given indices)."""
    gen = torch.Generator().manual_seed(seed)
    params = []
    for i, shape in enumerate(SHAPES):
        p = torch.randn(shape, generator=gen, dtype=torch.float64, requires_grad=True)
        if i not in none_at:
            p.grad = scale * torch.randn(shape, generator=gen, dtype=torch.float64)
        params.append(p)
    return params


def _clone(params: list[torch.Tensor]) -> list[torch.Tensor]:
    out = []
    for p in params:
        q = p.detach().clone().requires_grad_(True)
        q.grad = None if p.grad is None else p.grad.clone()
        out.append(q)
    return out


@pytest.mark.parametrize("norm_type", [2.0, float("inf"), 1.0, 3.0, "inf"])
@pytest.mark.parametrize("max_norm", [0.0, 0.5, 3.0, 1e6])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clip_grad_norm_matches_torch(norm_type, max_norm: float, seed: int) -> None:
    ours = _params(seed, scale=1.0 + 3 * seed, none_at=(seed % 4,))
    ref = _clone(ours)
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    total_ref = torch.nn.utils.clip_grad_norm_(ref, max_norm, norm_type=norm_type)
    torch.testing.assert_close(total, total_ref, rtol=1e-13, atol=0)
    for p, q in zip(ours, ref, strict=True):
        if q.grad is None:
            assert p.grad is None
        else:
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-13, atol=1e-300)


def test_total_norm_is_norm_of_concatenation_and_clipped_norm_is_max_norm() -> None:
    params = _params(5, scale=10.0, none_at=(1,))
    flat = torch.cat([p.grad.flatten() for p in params if p.grad is not None])
    for norm_type in (2.0, float("inf")):
        ps = _clone(params)
        total = clip_grad_norm_(ps, max_norm=1.0, norm_type=norm_type)
        assert total.item() == pytest.approx(torch.linalg.vector_norm(flat, norm_type).item(), rel=1e-12)
        new_flat = torch.cat([p.grad.flatten() for p in ps if p.grad is not None])
        new_norm = torch.linalg.vector_norm(new_flat, norm_type).item()
        assert new_norm == pytest.approx(1.0 * total.item() / (total.item() + 1e-6), rel=1e-12)
        # the direction is unchanged
        cos = torch.dot(new_flat, flat) / (new_flat.norm() * flat.norm())
        assert cos.item() == pytest.approx(1.0, abs=1e-12)


def test_small_gradients_are_untouched() -> None:
    params = _params(3, scale=1e-3)
    before = [p.grad.clone() for p in params]
    clip_grad_norm_(params, max_norm=10.0)
    for p, g in zip(params, before, strict=True):
        assert torch.equal(p.grad, g)


def test_single_tensor_generator_and_no_grads() -> None:
    p = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor([3.0, 4.0], dtype=torch.float64)
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    torch.testing.assert_close(p.grad, torch.tensor([3.0, 4.0], dtype=torch.float64) / (5.0 + 1e-6))
    params = _params(0, 2.0)
    ref = _clone(params)
    total = clip_grad_norm_((q for q in params), 1.0)
    torch.testing.assert_close(total, torch.nn.utils.clip_grad_norm_(ref, 1.0), rtol=1e-13, atol=0)
    nothing = [torch.zeros(2, requires_grad=True)]
    assert torch.equal(clip_grad_norm_(nothing, 1.0), torch.nn.utils.clip_grad_norm_(nothing, 1.0))
    assert clip_grad_norm_([], 1.0).item() == 0.0


def test_error_if_nonfinite() -> None:
    for bad in (math.nan, math.inf):
        params = _params(0, 1.0)
        params[2].grad[0, 0, 0] = bad
        ref = _clone(params)
        with pytest.raises(RuntimeError) as ours:
            clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
        with pytest.raises(RuntimeError) as theirs:
            torch.nn.utils.clip_grad_norm_(ref, 1.0, error_if_nonfinite=True)
        assert isinstance(ours.value, NonFiniteNormError) and isinstance(ours.value, ValueError)
        assert str(ours.value) == str(theirs.value)
        # without the flag: scaled by the non-finite norm, like torch
        total = clip_grad_norm_(params, 1.0)
        total_ref = torch.nn.utils.clip_grad_norm_(ref, 1.0)
        torch.testing.assert_close(total, total_ref, equal_nan=True)
        for p, q in zip(params, ref, strict=True):
            torch.testing.assert_close(p.grad, q.grad, equal_nan=True)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm_(_params(0, 1.0), -1.0)
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm_(_params(0, 1.0), 1.0, norm_type=0.0)
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value_(_params(0, 1.0), -0.5)


@pytest.mark.parametrize("clip_value", [0.0, 0.3, 1.0, 100.0])
def test_clip_grad_value_matches_torch(clip_value: float) -> None:
    ours = _params(7, scale=2.0, none_at=(0,))
    ref = _clone(ours)
    assert clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(ref, clip_value)
    for p, q in zip(ours, ref, strict=True):
        if q.grad is None:
            assert p.grad is None
        else:
            assert torch.equal(p.grad, q.grad)
            assert p.grad.abs().max().item() <= clip_value


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_clip_grad_norm_cuda() -> None:
    params = [p.detach().cuda().requires_grad_(True) for p in _params(1, 4.0)]
    cpu = _params(1, 4.0)
    for p, c in zip(params, cpu, strict=True):
        p.grad = c.grad.cuda()
    ref = _clone(cpu)
    total = clip_grad_norm_(params, 1.0)
    total_ref = torch.nn.utils.clip_grad_norm_(ref, 1.0)
    torch.testing.assert_close(total.cpu(), total_ref, rtol=1e-12, atol=0)
    for p, q in zip(params, ref, strict=True):
        torch.testing.assert_close(p.grad.cpu(), q.grad, rtol=1e-12, atol=1e-300)
