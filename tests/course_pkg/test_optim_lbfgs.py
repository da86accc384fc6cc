"""course_pkg.optim.LBFGS in lockstep with torch.optim.LBFGS (float64), with and without the strong Wolfe search."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import torch
from optim_lockstep import TOL, batch, loss_fn, make_params
from torch import Tensor

from course_pkg.optim import LBFGS, armijo_backtracking, lbfgs_direction, strong_wolfe

OPTIONS = [
    {},
    {"lr": 0.5},
    {"history_size": 3},
    {"max_iter": 4, "max_eval": 6},
    {"line_search_fn": "strong_wolfe"},
    {"line_search_fn": "strong_wolfe", "history_size": 2, "max_iter": 7},
    {"line_search_fn": "strong_wolfe", "tolerance_grad": 1e-3, "tolerance_change": 1e-6},
    {"lr": torch.tensor(0.7, dtype=torch.float64), "line_search_fn": "strong_wolfe"},
]


def _contiguous_params(seed: int = 0) -> list[Tensor]:
    # LBFGS flattens gradients with .view(-1), in torch too: parameters must be contiguous
    return [p.detach().contiguous().requires_grad_() for p in make_params("cpu", seed)]


def _assert_same_lbfgs_state(ours: torch.optim.Optimizer, ref: torch.optim.Optimizer) -> None:
    a, b = ours.state[ours.param_groups[0]["params"][0]], ref.state[ref.param_groups[0]["params"][0]]
    assert set(a) == set(b)
    for key in a:
        if key == "al":
            assert len(a[key]) == len(b[key])
            for x, y in zip(a[key], b[key]):
                assert (x is None) == (y is None)
                if x is not None:
                    torch.testing.assert_close(x, y, **TOL)
        elif isinstance(b[key], list):
            assert len(a[key]) == len(b[key]), key
            for x, y in zip(a[key], b[key]):
                torch.testing.assert_close(torch.as_tensor(x), torch.as_tensor(y), **TOL)
        elif isinstance(b[key], Tensor) and b[key].dim() > 0:  # d, prev_flat_grad
            torch.testing.assert_close(a[key], b[key], **TOL)
        else:  # numbers (t, H_diag, prev_loss, counters), floats or 0-dim tensors in both
            assert float(a[key]) == pytest.approx(float(b[key]), rel=1e-12, abs=1e-14), key


def _closure(params: list[Tensor], opt: torch.optim.Optimizer, data: Any) -> Any:
    def closure() -> Tensor:
        opt.zero_grad()
        loss = loss_fn(params, data)
        loss.backward()
        return loss

    return closure


@pytest.mark.parametrize(
    "options", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "defaults"
)
def test_lockstep_with_torch(options: dict[str, Any]) -> None:
    p_ours, p_ref = _contiguous_params(), _contiguous_params()
    ours, ref = LBFGS(p_ours, **options), torch.optim.LBFGS(p_ref, **options)
    start = [p.detach().clone() for p in p_ours]
    for k in range(6):
        data = batch(
            k % 3, "cpu"
        )  # the same few batches come back: the history must carry over between steps
        loss_ours = ours.step(_closure(p_ours, ours, data))
        loss_ref = ref.step(_closure(p_ref, ref, data))
        torch.testing.assert_close(loss_ours, loss_ref, **TOL)
        for a, b in zip(p_ours, p_ref):
            torch.testing.assert_close(a, b, **TOL)
        _assert_same_lbfgs_state(ours, ref)
    assert not torch.equal(p_ours[0].detach(), start[0])


def test_state_dict_crosses_between_torch_and_ours() -> None:
    options = {"line_search_fn": "strong_wolfe", "history_size": 4, "max_iter": 5}
    p_ours, p_ref = _contiguous_params(), _contiguous_params()
    ours, ref = LBFGS(p_ours, **options), torch.optim.LBFGS(p_ref, **options)
    for k in range(3):
        ours.step(_closure(p_ours, ours, batch(k, "cpu")))
        ref.step(_closure(p_ref, ref, batch(k, "cpu")))
    saved = copy.deepcopy(ref.state_dict())
    ours, ref2 = LBFGS(p_ours, **options), torch.optim.LBFGS(p_ref, **options)
    ours.load_state_dict(copy.deepcopy(saved))  # torch's history continues in ours ...
    ref2.load_state_dict(saved)
    for k in range(3, 6):
        ours.step(_closure(p_ours, ours, batch(k, "cpu")))
        ref2.step(_closure(p_ref, ref2, batch(k, "cpu")))
        for a, b in zip(p_ours, p_ref):
            torch.testing.assert_close(a, b, **TOL)
    _assert_same_lbfgs_state(ours, ref2)


def test_complex_parameter_matches_torch() -> None:
    gen = torch.Generator().manual_seed(5)
    target = torch.randn(6, dtype=torch.complex128, generator=gen)
    z0 = torch.randn(6, dtype=torch.complex128, generator=gen)
    results = []
    for cls in (LBFGS, torch.optim.LBFGS):
        z = z0.clone().requires_grad_()
        opt = cls([z], line_search_fn="strong_wolfe", max_iter=5)

        def closure(z: Tensor = z, opt: torch.optim.Optimizer = opt) -> Tensor:
            opt.zero_grad()
            loss = ((z - target).abs() ** 4).sum()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        results.append(z.detach())
    torch.testing.assert_close(results[0], results[1], **TOL)


def test_errors_match_torch() -> None:
    p = _contiguous_params()
    for kwargs in ({"lr": -1.0}, {"lr": torch.tensor([0.1, 0.2])}):
        messages = []
        for cls in (LBFGS, torch.optim.LBFGS):
            with pytest.raises(ValueError) as error:
                cls(p, **kwargs)
            messages.append(str(error.value))
        assert messages[0] == messages[1]
    for cls in (LBFGS, torch.optim.LBFGS):
        with pytest.raises(ValueError, match="doesn't support per-parameter options"):
            cls([{"params": p[:2]}, {"params": p[2:]}])
        opt = cls(p, line_search_fn="backtracking")
        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            opt.step(_closure(p, opt, batch(0, "cpu")))
    assert LBFGS(p).defaults == torch.optim.LBFGS(p).defaults


def test_two_loop_recursion_is_the_bfgs_inverse_hessian() -> None:
    """The two-loop direction equals -H g with H built by the explicit BFGS updates from γI (dense algebra)."""
    rng = np.random.default_rng(0)
    d, m = 7, 4
    A = rng.standard_normal((d, d))
    A = A @ A.T + d * np.eye(d)  # a positive definite Hessian: yᵀs > 0 for every pair
    s = [rng.standard_normal(d) for _ in range(m)]
    y = [A @ si for si in s]
    gamma = s[-1] @ y[-1] / (y[-1] @ y[-1])
    H = gamma * np.eye(d)
    for si, yi in zip(s, y):  # oldest first
        rho = 1 / (yi @ si)
        V = np.eye(d) - rho * np.outer(yi, si)
        H = V.T @ H @ V + rho * np.outer(si, si)
    g = rng.standard_normal(d)
    direction = lbfgs_direction(
        torch.from_numpy(g),
        [torch.from_numpy(v) for v in s],
        [torch.from_numpy(v) for v in y],
        [1 / (yi @ si) for si, yi in zip(s, y)],
        gamma,
    )
    np.testing.assert_allclose(direction.numpy(), -H @ g, rtol=1e-12, atol=1e-12)
    # the secant equation holds for the newest pair: H y_m = s_m
    np.testing.assert_allclose(H @ y[-1], s[-1], rtol=1e-10)


def _phi_for(f: Any, grad: Any, x: np.ndarray, d: np.ndarray) -> Any:
    def phi(t: float) -> tuple[float, float, np.ndarray]:
        g = grad(x + t * d)
        return f(x + t * d), float(g @ d), g

    return phi


@pytest.mark.parametrize("start", [(-1.2, 1.0), (0.5, -0.3), (2.0, 2.0)])
def test_line_searches_satisfy_their_conditions(start: tuple[float, float]) -> None:
    """On Rosenbrock along -g: Armijo's step meets sufficient decrease; strong Wolfe's meets both conditions,
    as does the step scipy.optimize.line_search finds (an independent implementation of the same conditions)."""
    from scipy.optimize import line_search, rosen, rosen_der

    x = np.array(start)
    g = rosen_der(x)
    d = -g
    f0, slope0 = rosen(x), float(g @ d)
    t, f_t, _ = armijo_backtracking(lambda t: rosen(x + t * d), f0, slope0, t=1.0)
    assert f_t <= f0 + 1e-4 * t * slope0 and f_t == rosen(x + t * d)
    assert rosen(x + 2 * t * d) > f0 + 1e-4 * 2 * t * slope0  # the step before was rejected
    f_new, g_new, t, _ = strong_wolfe(_phi_for(rosen, rosen_der, x, d), 1.0, f0, slope0, g, max_ls=50)
    assert f_new <= f0 + 1e-4 * t * slope0
    assert abs(g_new @ d) <= 0.9 * abs(slope0)
    np.testing.assert_allclose(g_new, rosen_der(x + t * d))
    t_scipy = line_search(rosen, rosen_der, x, d, c1=1e-4, c2=0.9)[0]
    assert rosen(x + t_scipy * d) <= f0 + 1e-4 * t_scipy * slope0
    assert abs(rosen_der(x + t_scipy * d) @ d) <= 0.9 * abs(slope0)


def test_armijo_rejects_an_ascent_direction() -> None:
    with pytest.raises(ValueError, match="not a descent direction"):
        armijo_backtracking(lambda t: t, 0.0, 1.0)
