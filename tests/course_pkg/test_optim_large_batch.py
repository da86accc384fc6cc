"""LARS and LAMB against direct transcriptions of the papers' algorithms, and their properties.

torch has no LARS or LAMB. The references here are (1) plain-numpy float64 transcriptions, written loop by loop from
You, Gitman & Ginsburg (2017), Algorithm 1 (LARS) and You et al. (2020), Algorithm 2 (LAMB), sharing nothing with
``course_pkg`` but the gradient oracle; (2) ``torch.optim.SGD`` and ``torch.optim.AdamW``, which the two rules become
when the trust ratio is 1; (3) closed forms of the step length.
"""

from __future__ import annotations

import copy
import math
import re

import numpy as np
import pytest
import torch
from optim_lockstep import batch, loss_fn, make_params

from course_pkg.optim import LAMB, LARS, exclude_bias_and_norm

STEPS = 15
TOL = {"rtol": 1e-11, "atol": 1e-13}


def grads_at(weights: list[np.ndarray], t: int) -> list[np.ndarray]:
    """The gradient oracle: ∇ of the lockstep MLP's loss on step t's batch, at the given weights."""
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    loss_fn(params, batch(t, "cpu")).backward()
    return [p.grad.numpy().copy() for p in params]


def start(zero_bias: bool) -> list[np.ndarray]:
    weights = [p.detach().numpy().copy() for p in make_params("cpu")]
    if zero_bias:
        weights[1][:] = 0.0  # a bias initialised at 0: ‖θ_k‖ = 0 at the first step
    return weights


def lr_at(t: int, lr0: float, schedule: bool) -> float:
    """The global rate: constant, or the paper's polynomial decay γ_t = γ_0 (1 - t/T)² with T = 2·STEPS."""
    return lr0 * (1 - t / (2 * STEPS)) ** 2 if schedule else lr0


def norm(a: np.ndarray) -> float:
    return math.sqrt(sum(x * x for x in a.ravel()))


def paper_lars(
    weights: list[np.ndarray], lr0: float, m: float, beta: float, eta: float, eps: float, schedule: bool
) -> list[list[np.ndarray]]:
    """You et al. (2017), Algorithm 1, in the paper's letters: γ_t global rate, m momentum, β weight decay, η trust
    coefficient, v the momentum. λ^l = η‖w^l‖/(‖g^l‖ + β‖w^l‖) (1 if a norm is 0); v ← m v + γ λ^l (g + β w);
    w ← w − v. Returns the weights after every step."""
    w = [a.copy() for a in weights]
    v = [np.zeros_like(a) for a in w]
    history = []
    for t in range(1, STEPS + 1):
        g = grads_at(w, t)
        gamma = lr_at(t, lr0, schedule)
        for layer in range(len(w)):
            wn, gn = norm(w[layer]), norm(g[layer])
            local = eta * wn / (gn + beta * wn + eps) if wn > 0 and gn > 0 else 1.0
            flat_w, flat_g, flat_v = w[layer].reshape(-1), g[layer].reshape(-1), v[layer].reshape(-1)
            for i in range(flat_w.size):
                flat_v[i] = m * flat_v[i] + gamma * local * (flat_g[i] + beta * flat_w[i])
                flat_w[i] = flat_w[i] - flat_v[i]
        history.append([a.copy() for a in w])
    return history


def paper_lamb(
    weights: list[np.ndarray],
    lr0: float,
    beta1: float,
    beta2: float,
    eps: float,
    lam: float,
    clamp: tuple[float, float] | None,
    schedule: bool,
) -> list[list[np.ndarray]]:
    """You et al. (2020), Algorithm 2 (LAMB), per layer i and coordinate j. Returns the weights after every step."""
    x = [a.copy() for a in weights]
    m = [np.zeros_like(a) for a in x]
    v = [np.zeros_like(a) for a in x]

    def phi(z: float) -> float:
        return z if clamp is None else min(max(z, clamp[0]), clamp[1])

    history = []
    for t in range(1, STEPS + 1):
        g = grads_at(x, t)
        eta = lr_at(t, lr0, schedule)
        for layer in range(len(x)):
            xs, gs, ms, vs = (a[layer].reshape(-1) for a in (x, g, m, v))
            upd = np.empty_like(xs)
            for j in range(xs.size):
                ms[j] = beta1 * ms[j] + (1 - beta1) * gs[j]
                vs[j] = beta2 * vs[j] + (1 - beta2) * gs[j] ** 2
                m_hat = ms[j] / (1 - beta1**t)
                v_hat = vs[j] / (1 - beta2**t)
                upd[j] = m_hat / (math.sqrt(v_hat) + eps) + lam * xs[j]
            xn, un = norm(xs), norm(upd)
            ratio = phi(xn) / un if xn > 0 and un > 0 else 1.0
            for j in range(xs.size):
                xs[j] = xs[j] - eta * ratio * upd[j]
        history.append([a.copy() for a in x])
    return history


def run_ours(opt_cls: type, weights: list[np.ndarray], lr0: float, schedule: bool, **kwargs) -> list[list]:
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    opt = opt_cls(params, lr=lr0, **kwargs)
    history = []
    for t in range(1, STEPS + 1):
        for group in opt.param_groups:
            group["lr"] = lr_at(t, lr0, schedule)
        opt.zero_grad()
        loss_fn(params, batch(t, "cpu")).backward()
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


def assert_same(ours: list[list], ref: list[list]) -> None:
    for t, (a, b) in enumerate(zip(ours, ref), start=1):
        for k, (x, y) in enumerate(zip(a, b)):
            np.testing.assert_allclose(x, y, err_msg=f"step {t}, tensor {k}", **TOL)


@pytest.mark.parametrize(
    ("lr0", "momentum", "weight_decay", "trust", "eps", "schedule", "zero_bias"),
    [
        (1.0, 0.0, 0.0, 0.01, 0.0, False, False),
        (2.0, 0.9, 0.0, 0.001, 0.0, True, False),
        (0.5, 0.9, 5e-3, 0.02, 1e-9, True, True),
        (3.0, 0.5, 1e-2, 0.005, 0.0, False, True),
    ],
)
def test_lars_matches_algorithm_1(lr0, momentum, weight_decay, trust, eps, schedule, zero_bias) -> None:
    w0 = start(zero_bias)
    ref = paper_lars(w0, lr0, momentum, weight_decay, trust, eps, schedule)
    ours = run_ours(
        LARS,
        w0,
        lr0,
        schedule,
        momentum=momentum,
        weight_decay=weight_decay,
        trust_coefficient=trust,
        eps=eps,
    )
    assert_same(ours, ref)
    assert not np.allclose(ref[-1][0], w0[0])  # it moved


@pytest.mark.parametrize(
    ("lr0", "betas", "eps", "weight_decay", "clamp", "schedule", "zero_bias"),
    [
        (0.01, (0.9, 0.999), 1e-6, 0.0, None, False, False),
        (0.02, (0.8, 0.99), 1e-8, 0.01, None, True, True),
        (0.05, (0.9, 0.999), 1e-6, 0.1, (0.5, 1.0), False, False),
        (0.01, (0.0, 0.9), 1e-3, 0.0, (0.0, 10.0), True, True),
    ],
)
def test_lamb_matches_algorithm_2(lr0, betas, eps, weight_decay, clamp, schedule, zero_bias) -> None:
    w0 = start(zero_bias)
    ref = paper_lamb(w0, lr0, betas[0], betas[1], eps, weight_decay, clamp, schedule)
    ours = run_ours(LAMB, w0, lr0, schedule, betas=betas, eps=eps, weight_decay=weight_decay, clamp=clamp)
    assert_same(ours, ref)
    assert not np.allclose(ref[-1][0], w0[0])


def _lockstep(ours: torch.optim.Optimizer, ref: torch.optim.Optimizer, a: list, b: list) -> None:
    for t in range(1, 21):
        for params, opt in ((a, ours), (b, ref)):
            opt.zero_grad()
            loss_fn(params, batch(t, "cpu")).backward()
            opt.step()
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("momentum", "weight_decay"), [(0.0, 0.0), (0.9, 0.0), (0.8, 1e-2)])
def test_lars_with_trust_ratio_one_is_torch_sgd(momentum, weight_decay) -> None:
    """χ_k = 1 and a constant η: b_t (η inside) = η × torch's buffer, so the iterates are torch.optim.SGD's."""
    a, b = make_params("cpu"), make_params("cpu")
    ours = LARS(a, lr=0.1, momentum=momentum, weight_decay=weight_decay, layer_adaptation=False)
    ref = torch.optim.SGD(b, lr=0.1, momentum=momentum, weight_decay=weight_decay, foreach=False)
    _lockstep(ours, ref, a, b)


@pytest.mark.parametrize(("betas", "weight_decay"), [((0.9, 0.999), 0.0), ((0.8, 0.99), 0.05)])
def test_lamb_with_trust_ratio_one_is_torch_adamw(betas, weight_decay) -> None:
    a, b = make_params("cpu"), make_params("cpu")
    ours = LAMB(a, lr=0.01, betas=betas, eps=1e-6, weight_decay=weight_decay, layer_adaptation=False)
    ref = torch.optim.AdamW(b, lr=0.01, betas=betas, eps=1e-6, weight_decay=weight_decay, foreach=False)
    _lockstep(ours, ref, a, b)


def test_exclusion_groups_adapt_matrices_only() -> None:
    """The groups equal LAMB(λ) on the weight matrices plus AdamW(λ = 0) on biases and LayerNorm's γ, β."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.LayerNorm(6), torch.nn.Linear(6, 2)).double()
    twin = copy.deepcopy(model)
    groups = exclude_bias_and_norm(model, weight_decay=0.1)
    assert [len(g["params"]) for g in groups] == [2, 4]  # two weight matrices; 2 biases + LayerNorm's γ and β
    assert groups[0]["weight_decay"] == 0.1 and groups[1]["weight_decay"] == 0.0
    opt = LAMB(groups, lr=0.01)
    twin_opts = [
        LAMB([twin[0].weight, twin[2].weight], lr=0.01, weight_decay=0.1),
        torch.optim.AdamW([p for p in twin.parameters() if p.ndim < 2], lr=0.01, eps=1e-6, weight_decay=0.0),
    ]
    x = torch.randn(16, 4, dtype=torch.float64)
    for _ in range(5):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
        for o in twin_opts:
            o.zero_grad()
        twin(x).pow(2).mean().backward()
        for o in twin_opts:
            o.step()
        for p, q in zip(model.parameters(), twin.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)
    assert all(opt.state[p]["trust_ratio"].item() == 1.0 for p in groups[1]["params"])
    assert all(opt.state[p]["trust_ratio"].item() != 1.0 for p in groups[0]["params"])


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e4])
def test_lars_relative_step_is_the_same_in_every_layer_whatever_the_gradient_scale(scale) -> None:
    """β = λ = ε = 0: ‖Δθ_k‖ = η ζ ‖θ_k‖ for every layer, and the step does not depend on ‖g_k‖."""
    lr, trust = 0.7, 0.01
    params = make_params("cpu")
    before = [p.detach().clone() for p in params]
    opt = LARS(params, lr=lr, momentum=0.0, trust_coefficient=trust)
    loss_fn(params, batch(1, "cpu")).mul(scale).backward()
    opt.step()
    for p, p0 in zip(params, before):
        step = (p - p0).norm().item()
        assert step == pytest.approx(lr * trust * p0.norm().item(), rel=1e-12)
    # and the direction is the gradient's, not a rescaled mix of layers
    ref = make_params("cpu")
    loss_fn(ref, batch(1, "cpu")).backward()
    for p, p0, r in zip(params, before, ref):
        cos = torch.nn.functional.cosine_similarity((p0 - p).ravel(), r.grad.ravel(), dim=0)
        assert cos.item() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("clamp", "weight_scale"), [(None, 1.0), (None, 30.0), ((0.2, 0.5), 1.0), ((0.2, 0.5), 1e-3)]
)
def test_lamb_step_length_is_phi_of_the_weight_norm(clamp, weight_scale) -> None:
    """λ = 0: ‖Δθ_k‖ = η φ(‖θ_k‖) at every step, whatever the moments (identity φ: proportional to ‖θ_k‖)."""
    lr = 0.01
    params = [(p.detach() * weight_scale).requires_grad_() for p in make_params("cpu")]
    opt = LAMB(params, lr=lr, clamp=clamp)
    for t in range(1, 6):
        before = [p.detach().clone() for p in params]
        opt.zero_grad()
        loss_fn(params, batch(t, "cpu")).backward()
        opt.step()
        for p, p0 in zip(params, before):
            w = p0.norm().item()
            phi = w if clamp is None else min(max(w, clamp[0]), clamp[1])
            assert (p - p0).norm().item() == pytest.approx(lr * phi, rel=1e-10)


def test_lamb_step_scales_with_the_weights() -> None:
    """Same gradients, weights × c: the identity-φ LAMB step is × c (the paper's scale invariance per layer)."""
    g = [p.detach() for p in make_params("cpu", seed=1)]
    steps = {}
    for c in (1.0, 8.0):
        params = [(p.detach() * c).requires_grad_() for p in make_params("cpu")]
        opt = LAMB(params, lr=0.01)
        for p, gk in zip(params, g):
            p.grad = gk.clone()
        before = [p.detach().clone() for p in params]
        opt.step()
        steps[c] = [p.detach() - p0 for p, p0 in zip(params, before)]
    for a, b in zip(steps[1.0], steps[8.0]):
        torch.testing.assert_close(b, 8.0 * a, rtol=1e-12, atol=1e-15)


def test_zero_norm_conventions() -> None:
    """‖θ_k‖ = 0 or ‖g_k‖ = 0: the trust ratio is 1 (no division by zero, and a zero-initialised bias moves)."""
    g = torch.tensor([0.3, -0.4], dtype=torch.float64)
    # LARS, zero weights: a plain SGD step
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = LARS([w], lr=0.5, momentum=0.0)
    w.grad = g.clone()
    opt.step()
    torch.testing.assert_close(w.detach(), -0.5 * g, rtol=1e-15, atol=0)
    assert opt.state[w]["trust_ratio"].item() == 1.0
    # LARS, zero gradient and λ = 0: no movement, no NaN
    w = torch.ones(2, dtype=torch.float64, requires_grad=True)
    opt = LARS([w], lr=0.5)
    w.grad = torch.zeros(2, dtype=torch.float64)
    opt.step()
    assert torch.equal(w.detach(), torch.ones(2, dtype=torch.float64))
    assert opt.state[w]["trust_ratio"].item() == 1.0
    # LAMB, zero weights: AdamW's first step, -η g/(|g| + ε) coordinate-wise
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = LAMB([w], lr=0.1, eps=1e-6)
    w.grad = g.clone()
    opt.step()
    torch.testing.assert_close(w.detach(), -0.1 * g / (g.abs() + 1e-6), rtol=1e-14, atol=0)
    # LAMB, zero gradient at step 1: r = 0, ratio 1, no movement
    w = torch.ones(3, dtype=torch.float64, requires_grad=True)
    opt = LAMB([w], lr=0.1)
    w.grad = torch.zeros(3, dtype=torch.float64)
    opt.step()
    assert torch.equal(w.detach(), torch.ones(3, dtype=torch.float64)) and torch.isfinite(w).all()


@pytest.mark.parametrize("opt_cls", [LARS, LAMB])
def test_none_grad_state_dict_round_trip(opt_cls) -> None:
    a, b = make_params("cpu"), make_params("cpu")
    opt_a = opt_cls(a, lr=0.05)
    for t in (1, 2):
        opt_a.zero_grad()
        loss_fn(a, batch(t, "cpu")).backward()
        a[3].grad = None  # no gradient: untouched, no state
        opt_a.step()
    assert a[3] not in opt_a.state
    with torch.no_grad():
        for p, q in zip(b, a):
            p.copy_(q)
    opt_b = opt_cls(b, lr=0.05)
    opt_b.load_state_dict(copy.deepcopy(opt_a.state_dict()))
    _lockstep(opt_a, opt_b, a, b)


def _torch_message(cls: type, **kwargs) -> str:
    with pytest.raises(ValueError) as err:
        cls([torch.zeros(2, requires_grad=True)], **kwargs)
    return str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "torch_cls"),
    [
        ({"lr": -0.1}, torch.optim.SGD),
        ({"momentum": -0.5}, torch.optim.SGD),
        ({"weight_decay": -1e-3}, torch.optim.SGD),
        ({"eps": -1e-9}, torch.optim.Adam),
    ],
)
def test_lars_invalid_hyperparameters_raise_torchs_message(kwargs, torch_cls) -> None:
    message = _torch_message(torch_cls, **kwargs)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        LARS([torch.zeros(2, requires_grad=True)], **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [{"lr": -1.0}, {"eps": -1.0}, {"betas": (1.0, 0.999)}, {"betas": (0.9, -0.1)}, {"weight_decay": -0.1}],
)
def test_lamb_invalid_hyperparameters_raise_torchs_message(kwargs) -> None:
    message = _torch_message(torch.optim.Adam, **kwargs)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        LAMB([torch.zeros(2, requires_grad=True)], **kwargs)


def test_own_hyperparameters_are_checked() -> None:
    p = [torch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match=r"^Invalid trust_coefficient value: 0.0 "):
        LARS(p, trust_coefficient=0.0)
    with pytest.raises(ValueError, match=r"^Invalid clamp value: \(0.5, 0.1\) "):
        LAMB(p, clamp=(0.5, 0.1))
    with pytest.raises(ValueError, match=r"^Invalid clamp value: \(-1.0, 1.0\) "):
        LAMB(p, clamp=(-1.0, 1.0))
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        LARS([])
