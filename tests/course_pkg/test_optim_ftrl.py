"""FTRL-Proximal against a line-by-line transcription of McMahan et al. (2013), Algorithm 1, and its properties."""

from __future__ import annotations

import copy
import math
import random

import pytest
import torch
from optim_lockstep import DEVICES

from course_pkg.optim import FTRL

D = 6  # features
ROUNDS = 25


def examples(seed: int) -> list[tuple[list[float], int]]:
    """Sparse logistic-regression examples (x_t, y_t): about half of the features of each x_t are zero."""
    rng = random.Random(seed)
    data = []
    for _ in range(ROUNDS):
        x = [rng.gauss(0.0, 1.0) if rng.random() < 0.5 else 0.0 for _ in range(D)]
        data.append((x, int(rng.random() < 0.5)))
    return data


def paper_algorithm_1(
    data: list[tuple[list[float], int]], alpha: float, beta: float, l1: float, l2: float
) -> list[tuple[list[float], list[float], list[float]]]:
    """Algorithm 1 of the paper, per coordinate, in plain Python. Returns (w, z, n) after every round."""
    z = [0.0] * D
    n = [0.0] * D

    def weight(i: int) -> float:
        if abs(z[i]) <= l1:
            return 0.0
        sgn = 1.0 if z[i] > 0 else -1.0
        return -1.0 / ((beta + math.sqrt(n[i])) / alpha + l2) * (z[i] - sgn * l1)

    history = []
    for x, y in data:
        nonzero = [i for i in range(D) if x[i] != 0.0]
        w = {i: weight(i) for i in nonzero}
        p = 1.0 / (1.0 + math.exp(-sum(x[i] * w[i] for i in nonzero)))
        for i in nonzero:
            g = (p - y) * x[i]
            sigma = (math.sqrt(n[i] + g * g) - math.sqrt(n[i])) / alpha
            z[i] = z[i] + g - sigma * w[i]
            n[i] = n[i] + g * g
        history.append(([weight(i) for i in range(D)], list(z), list(n)))
    return history


def logistic_loss(w: torch.Tensor, x: list[float], y: int) -> torch.Tensor:
    """Log loss of σ(x·w) for one example; its gradient is (p - y) x."""
    xt = torch.tensor(x, dtype=torch.float64, device=w.device)
    yt = torch.tensor(float(y), dtype=torch.float64, device=w.device)
    return torch.nn.functional.binary_cross_entropy_with_logits(xt @ w, yt)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    ("alpha", "beta", "l1", "l2"),
    [
        (0.1, 1.0, 0.0, 0.0),
        (0.5, 1.0, 0.3, 0.0),
        (0.5, 0.5, 0.0, 1.0),
        (1.0, 1.0, 0.2, 0.5),
        (0.3, 0.0, 0.1, 0.1),
    ],
)
def test_matches_a_transcription_of_algorithm_1(
    alpha: float, beta: float, l1: float, l2: float, device: str
) -> None:
    data = examples(seed=1)
    expected = paper_algorithm_1(data, alpha, beta, l1, l2)
    w = torch.zeros(D, dtype=torch.float64, device=device, requires_grad=True)
    opt = FTRL([w], alpha=alpha, beta=beta, l1=l1, l2=l2)
    zeros_seen = 0
    for (x, y), (w_exp, z_exp, n_exp) in zip(data, expected):
        opt.zero_grad()
        logistic_loss(w, x, y).backward()
        opt.step()
        ref = {"w": w_exp, "z": z_exp, "n": n_exp}
        got = {"w": w.detach(), "z": opt.state[w]["z"], "n": opt.state[w]["n"]}
        for key in ref:
            torch.testing.assert_close(
                got[key].cpu(), torch.tensor(ref[key], dtype=torch.float64), rtol=1e-12, atol=1e-14
            )
        zeros_seen += int((w == 0).sum())
    assert expected[-1][2] != [0.0] * D  # the run did learn
    if l1 > 0:
        assert zeros_seen > 0  # and L1 produced exact zeros along the way


def test_large_l1_gives_exact_zeros() -> None:
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(10, dtype=torch.float64, generator=gen).requires_grad_()
    opt = FTRL([w], alpha=0.5, l1=1e3)
    for _ in range(20):
        w.grad = torch.randn(10, dtype=torch.float64, generator=gen)
        opt.step()
        assert torch.count_nonzero(w).item() == 0  # exactly zero, not merely small
    assert torch.all(opt.state[w]["z"] != 0)  # while the accumulated z is not


def test_zero_iff_z_within_l1() -> None:
    gen = torch.Generator().manual_seed(3)
    w = torch.zeros(50, dtype=torch.float64, requires_grad=True)
    opt = FTRL([w], alpha=0.2, l1=1.0)
    for _ in range(15):
        w.grad = torch.randn(50, dtype=torch.float64, generator=gen)
        opt.step()
        within = opt.state[w]["z"].abs() <= 1.0
        assert torch.equal(w.detach() == 0, within)
    assert 0 < int(within.sum()) < 50  # both cases occur


def test_without_regularization_or_beta_it_is_adagrad() -> None:
    """λ₁ = λ₂ = β = 0: FTRL-Proximal's iterates equal Adagrad's with η = α, ε = 0 (independent reference)."""
    gen = torch.Generator().manual_seed(5)
    w0 = torch.randn(3, 4, dtype=torch.float64, generator=gen)
    w_ftrl = w0.clone().requires_grad_()
    w_ada = w0.clone().requires_grad_()
    ftrl = FTRL([w_ftrl], alpha=0.3, beta=0.0)
    ada = torch.optim.Adagrad([w_ada], lr=0.3, eps=0.0, foreach=False)
    for _ in range(20):
        g = torch.randn(3, 4, dtype=torch.float64, generator=gen)
        w_ftrl.grad, w_ada.grad = g.clone(), g.clone()
        ftrl.step()
        ada.step()
        torch.testing.assert_close(w_ftrl, w_ada, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(w_ftrl, w0)


def test_constant_gradient_closed_form() -> None:
    """λ₁ = λ₂ = β = 0 and g_t = g: θ_t = θ_0 - α sign(g) Σ_{s≤t} 1/√s."""
    alpha = 0.25
    g = torch.tensor([2.0, -0.5, 3.0], dtype=torch.float64)
    theta0 = torch.tensor([1.0, -1.0, 0.0], dtype=torch.float64)
    w = theta0.clone().requires_grad_()
    opt = FTRL([w], alpha=alpha, beta=0.0)
    for t in range(1, 31):
        w.grad = g.clone()
        opt.step()
        expected = theta0 - alpha * torch.sign(g) * sum(1 / math.sqrt(s) for s in range(1, t + 1))
        torch.testing.assert_close(w.detach(), expected, rtol=1e-12, atol=1e-12)


def test_first_step_closed_form_with_l2() -> None:
    """From θ_0 = 0 the first step is θ_1 = -g / ((β + |g|)/α + λ₂): shrunk towards 0 as λ₂ grows."""
    g = torch.tensor([0.5, -1.5, 3.0], dtype=torch.float64)
    alpha, beta = 0.4, 1.0
    magnitudes = []
    for l2 in (0.0, 0.5, 2.0):
        w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        opt = FTRL([w], alpha=alpha, beta=beta, l2=l2)
        w.grad = g.clone()
        opt.step()
        torch.testing.assert_close(w.detach(), -g / ((beta + g.abs()) / alpha + l2), rtol=1e-14, atol=0)
        magnitudes.append(w.detach().abs())
    assert torch.all(magnitudes[1] < magnitudes[0]) and torch.all(magnitudes[2] < magnitudes[1])


def test_none_grad_state_dict_and_closure() -> None:
    a = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    b = torch.ones(2, dtype=torch.float64, requires_grad=True)
    opt = FTRL([a, b], alpha=0.5, l1=0.01)
    a.grad = torch.tensor([1.0, -2.0, 0.5, 0.0], dtype=torch.float64)
    opt.step()  # b has no gradient: untouched, no state
    assert torch.equal(b.detach(), torch.ones(2, dtype=torch.float64))
    assert b not in opt.state

    saved = copy.deepcopy(opt.state_dict())
    a2 = a.detach().clone().requires_grad_()
    b2 = b.detach().clone().requires_grad_()
    opt2 = FTRL([a2, b2])
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["l1"] == 0.01
    for params, optimizer in (((a, b), opt), ((a2, b2), opt2)):

        def closure(params: tuple[torch.Tensor, ...] = params, optimizer: FTRL = optimizer) -> torch.Tensor:
            optimizer.zero_grad()
            loss = (params[0] ** 2).sum() + (params[1] ** 3).sum()
            loss.backward()
            return loss

        expected = float((params[0].detach() ** 2).sum() + (params[1].detach() ** 3).sum())
        loss = optimizer.step(closure)
        assert loss.item() == expected
    torch.testing.assert_close(a, a2, rtol=0, atol=0)
    torch.testing.assert_close(b, b2, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0.0}, "Invalid alpha value: 0.0"),
        ({"alpha": -1.0}, "Invalid alpha value: -1.0"),
        ({"beta": -0.1}, "Invalid beta value: -0.1"),
        ({"l1": -1e-3}, "Invalid l1 value: -0.001"),
        ({"l2": -2.0}, "Invalid l2 value: -2.0"),
    ],
)
def test_invalid_hyperparameters(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message} "):
        FTRL([torch.zeros(2, requires_grad=True)], **kwargs)
