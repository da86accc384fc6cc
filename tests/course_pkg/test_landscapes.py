"""Landscapes: analytic gradients vs finite differences and torch.autograd; minima and saddles."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_pkg.landscapes import LANDSCAPES, Landscape, cliff, quadratic, saddle

ALL = [(name, factory()) for name, factory in LANDSCAPES.items()] + [
    ("quadratic-rotated", quadratic(kappa=50.0, angle=0.7, mu=0.3)),
    ("cliff-sharp", cliff(height=80.0, sharpness=20.0, wall=1.0, slope=0.3)),
]
IDS = [name for name, _ in ALL]


def _points(ls: Landscape, n: int = 25) -> np.ndarray:
    rng = np.random.default_rng(0)
    x0, x1, y0, y1 = ls.window
    return np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], axis=-1)


def _hessian(ls: Landscape, point: np.ndarray) -> np.ndarray:
    return torch.autograd.functional.hessian(
        lambda t: ls.value(t), torch.tensor(point, dtype=torch.float64)
    ).numpy()


@pytest.mark.parametrize(("name", "ls"), ALL, ids=IDS)
def test_gradient_matches_central_differences(name: str, ls: Landscape) -> None:
    theta = _points(ls)
    h = 1e-6
    numeric = np.stack(
        [(ls.value(theta + h * e) - ls.value(theta - h * e)) / (2 * h) for e in np.eye(2)], axis=-1
    )
    scale = 1.0 + np.abs(numeric)
    np.testing.assert_allclose(ls.gradient(theta) / scale, numeric / scale, atol=1e-6)


@pytest.mark.parametrize(("name", "ls"), ALL, ids=IDS)
def test_gradient_matches_torch_autograd(name: str, ls: Landscape) -> None:
    theta = torch.tensor(_points(ls), dtype=torch.float64, requires_grad=True)
    ls.value(theta).sum().backward()
    analytic = ls.gradient(theta.detach())
    assert isinstance(analytic, torch.Tensor) and analytic.dtype == torch.float64
    torch.testing.assert_close(analytic, theta.grad, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("name", "ls"), ALL, ids=IDS)
def test_numpy_and_torch_agree(name: str, ls: Landscape) -> None:
    theta = _points(ls)
    t = torch.tensor(theta, dtype=torch.float64)
    np.testing.assert_allclose(ls.value(t).numpy(), ls.value(theta), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ls.gradient(t).numpy(), ls.gradient(theta), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "ls"), ALL, ids=IDS)
def test_minima_are_stationary_with_positive_curvature(name: str, ls: Landscape) -> None:
    assert ls.minima.shape[1:] == (2,) and len(ls.minima) >= 1
    for m in ls.minima:
        np.testing.assert_allclose(ls.gradient(m), 0.0, atol=1e-9)
        assert np.linalg.eigvalsh(_hessian(ls, m)).min() > 0
        x0, x1, y0, y1 = ls.window
        assert x0 <= m[0] <= x1 and y0 <= m[1] <= y1, "minimum outside the plotting window"
        # a local minimum: every nearby point is higher
        ring = m + 1e-3 * np.stack([np.cos(np.linspace(0, 6.28, 16)), np.sin(np.linspace(0, 6.28, 16))], -1)
        assert np.all(ls.value(ring) > ls.value(m))


@pytest.mark.parametrize(("name", "ls"), ALL, ids=IDS)
def test_saddles_are_stationary_with_mixed_curvature(name: str, ls: Landscape) -> None:
    for s in ls.saddles:
        np.testing.assert_allclose(ls.gradient(s), 0.0, atol=1e-12)
        eig = np.linalg.eigvalsh(_hessian(ls, s))
        assert eig.min() < 0 < eig.max()


def test_quadratic_hessian_and_condition_number() -> None:
    ls = quadratic(kappa=25.0, angle=0.4, mu=2.0)
    theta = _points(ls)
    np.testing.assert_allclose(ls.gradient(theta), theta @ ls.hessian.T, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(ls.hessian), [2.0, 50.0], rtol=1e-12)
    np.testing.assert_allclose(_hessian(ls, np.array([0.3, -0.2])), ls.hessian, rtol=1e-12)


def test_saddle_gradient_descent_stays_on_axis_without_noise_and_escapes_with_it() -> None:
    ls = saddle()
    theta = np.array([-1.8, 0.0])
    for _ in range(200):
        theta = theta - 0.1 * ls.gradient(theta)
    np.testing.assert_allclose(theta, 0.0, atol=1e-8)  # converged to the saddle
    theta = np.array([-1.8, 1e-6])
    for _ in range(300):
        theta = theta - 0.1 * ls.gradient(theta)
    np.testing.assert_allclose(np.abs(theta), [0.0, 1.0], atol=1e-6)  # found a minimum


def test_grid_shapes_and_values() -> None:
    ls = LANDSCAPES["himmelblau"]()
    X, Y, Z = ls.grid(30)
    assert X.shape == Y.shape == Z.shape == (30, 30)
    np.testing.assert_allclose(Z, ls.value(np.stack([X, Y], -1)))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: quadratic(kappa=0.5), "kappa >= 1"),
        (lambda: quadratic(mu=0.0), "mu > 0"),
        (lambda: cliff(height=0.1, slope=0.5), "height > slope > 0"),
        (lambda: cliff(sharpness=0.0), "sharpness > 0"),
        (lambda: saddle().value(np.zeros(3)), "shape"),
        (lambda: saddle().grid(1), "n >= 2"),
    ],
)
def test_bad_input_raises(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
