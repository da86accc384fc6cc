"""Tests of the Adam-chapter experiments: RAdam's ρ_t and r_t against torch.optim.RAdam, Monte-Carlo variance."""

import numpy as np
import pytest
import torch

from course_pkg.experiments import adam as exa
from course_pkg.experiments.sgd import load_digits_split

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors (conftest.py)


def test_rho_starts_at_one_and_tends_to_rho_infinity():
    for beta2 in (0.9, 0.99, 0.999):
        assert float(exa.radam_rho(1, beta2)) == pytest.approx(1.0, rel=1e-9)
        rho = exa.radam_rho(np.arange(1, 20000), beta2)
        assert np.all(np.diff(rho) >= 0)
        assert np.all(np.diff(rho[:100]) > 0)
        assert rho[-1] == pytest.approx(2 / (1 - beta2) - 1, rel=1e-3)


def _radam_adaptive_steps(beta2, steps=12):
    """Steps at which torch.optim.RAdam's update depends on the gradient's scale (the rectified, adaptive ones).

    Two runs see gradients g_t and c·g_t. Un-rectified steps are η m̂_t (scale with c); rectified steps are
    η r_t m̂_t / (√v̂_t + ε) (do not scale with c, up to ε).
    """
    rng = np.random.default_rng(0)
    gs = rng.uniform(0.5, 2.0, size=steps)
    moves = []
    for c in (1.0, 10.0):
        p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.RAdam([p], lr=0.01, betas=(0.9, beta2))
        prev, mv = 0.0, []
        for g in gs:
            p.grad = torch.tensor([c * g], dtype=torch.float64)
            opt.step()
            mv.append(p.item() - prev)
            prev = p.item()
        moves.append(np.array(mv))
    ratio = moves[1] / moves[0]
    return [t + 1 for t in range(steps) if abs(ratio[t] - 1.0) < 1e-3], gs


def test_first_rectified_step_matches_torch_radam():
    adaptive_steps, _ = _radam_adaptive_steps(0.999)
    assert adaptive_steps[0] == exa.first_rectified_step(0.999) == 6
    assert exa.first_rectified_step(0.999, threshold=4.0) == 5


def test_rectification_term_matches_torch_radam_update():
    beta1, beta2, lr, eps = 0.9, 0.999, 0.01, 1e-8
    rng = np.random.default_rng(1)
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.RAdam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    m = v = 0.0
    prev = 0.0
    for t in range(1, 40):
        g = rng.uniform(-1, 2)
        p.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        if t >= 6:  # torch adds ε to √v_t, then multiplies by √(1 − β₂ᵗ)
            adaptive = np.sqrt(1 - beta2**t) / (np.sqrt(v) + eps)
            expected = -lr * m_hat * float(exa.rectification(t, beta2)) * adaptive
            assert p.item() - prev == pytest.approx(expected, rel=1e-8)
        prev = p.item()


def test_variance_of_adaptive_lr_matches_delta_method_for_large_t():
    beta2, t = 0.99, 2000
    res = exa.adaptive_lr_variance(beta2=beta2, steps=t, n_samples=20000, seed=0)
    # v̂_t has variance 2 (1 − β₂)(1 − β₂^{2t}) / ((1 + β₂)(1 − β₂ᵗ)²) for N(0, 1) gradients; ψ = v̂^{−1/2}
    var_v = 2 * (1 - beta2) * (1 - beta2 ** (2 * t)) / ((1 + beta2) * (1 - beta2**t) ** 2)
    assert res["var"][-1] == pytest.approx(var_v / 4, rel=0.1)


def test_rectification_flattens_the_variance():
    res = exa.adaptive_lr_variance(beta2=0.999, steps=200, n_samples=20000, seed=0)
    assert res["var"][4] / res["var"][-1] > 50  # early variance is much larger
    rect = res["var_rectified"][5:]
    assert np.all(np.isfinite(rect)) and rect.max() / rect.min() < 5
    assert np.all(np.isnan(res["var_rectified"][:4]))


def test_logistic_race_picks_the_lowest_objective():
    data = load_digits_split(seed=0)
    res = exa.logistic_regression_race(
        data, {"SGD": (torch.optim.SGD, {})}, lrs=[0.01, 0.3], epochs=3, batch_size=128
    )
    r = res["SGD"]
    assert r["curve"][0] == pytest.approx(np.log(10), rel=1e-12)  # zero weights: uniform prediction
    assert r["lr"] == min(r["final"], key=r["final"].get)
    assert r["curve"][-1] < r["curve"][0] and r["test_accuracy"] > 0.8


def test_warmup_race_shapes_and_reproducibility():
    data = load_digits_split(seed=0)
    runs = {"Adam": (torch.optim.Adam, 0), "Adam+warmup": (torch.optim.Adam, 10)}
    a = exa.warmup_race(data, runs, lr=1e-3, epochs=1, batch_size=256, hidden=16, depth=1, seeds=(0, 1))
    b = exa.warmup_race(data, runs, lr=1e-3, epochs=1, batch_size=256, hidden=16, depth=1, seeds=(0, 1))
    assert a["Adam"]["loss"].shape == (2, 6)
    np.testing.assert_array_equal(a["Adam+warmup"]["loss"], b["Adam+warmup"]["loss"])
    # warmup: the first step uses η/10, so the second minibatch loss moves less than without warmup
    first_change = lambda r: np.abs(r["loss"][:, 1] - r["loss"][:, 0])  # noqa: E731
    assert np.all(first_change(a["Adam+warmup"]) <= first_change(a["Adam"]) + 0.05)


def test_warmup_race_callable_schedule_and_dead_units():
    data = load_digits_split(seed=0)
    runs = {"linear": (torch.optim.Adam, 10), "callable": (torch.optim.Adam, lambda t: min(1.0, t / 10))}
    res = exa.warmup_race(data, runs, lr=1e-3, epochs=1, batch_size=256, hidden=16, depth=2, seeds=(0,))
    np.testing.assert_array_equal(res["linear"]["loss"], res["callable"]["loss"])
    dead = res["linear"]["dead"]
    assert dead.shape == (1, 2) and np.all((dead >= 0) & (dead <= 1))
    # a network whose first layer outputs only negative pre-activations is entirely dead: count it by hand
    torch.manual_seed(0)
    layer = torch.nn.Linear(64, 16)
    with torch.no_grad():
        h = torch.relu(layer(data.X_train))
    assert float((h > 0).sum(0).eq(0).double().mean()) == pytest.approx(
        np.mean([not torch.any(h[:, j] > 0) for j in range(16)])
    )


def test_reddi_gradients():
    g = exa.reddi_gradients(303)
    assert g.shape == (1, 303) and g[0, 0] == 1010 and g[0, 101] == 1010 and g[0, 1] == -10
    assert g[0, :101].sum() == 1010 - 10 * 100  # positive average gradient: the best point is x = −1
    gs = exa.reddi_gradients(200_000, stochastic=True, n_runs=2, seed=0)
    assert gs.mean() == pytest.approx(1010 * 0.0099 - 10 * 0.9901, abs=0.05)
    assert not np.array_equal(gs[0], gs[1])


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("stochastic", [False, True])
def test_projected_adam_matches_torch_adam_with_projection(amsgrad, stochastic):
    """Lockstep with torch.optim.Adam (and course_pkg.optim.Adam), lr/√t by LambdaLR, clamp_ after each step."""
    import course_pkg.optim as co

    grads = exa.reddi_gradients(600, C=50.0, period=11, stochastic=stochastic, seed=3)
    ours = exa.projected_adam(grads, lr=0.3, betas=(0.9, 0.99), amsgrad=amsgrad)[0]
    for cls in (torch.optim.Adam, co.Adam):
        x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = cls([x], lr=0.3, betas=(0.9, 0.99), amsgrad=amsgrad)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0 / np.sqrt(k + 1))
        ref = []
        for g in grads[0]:
            x.grad = torch.tensor([g], dtype=torch.float64)
            opt.step()
            sched.step()
            with torch.no_grad():
                x.clamp_(-1.0, 1.0)
            ref.append(x.item())
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-14)


def test_online_regret_by_brute_force():
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(2, 50))
    xs = rng.uniform(-1, 1, size=(2, 50))
    reg = exa.online_regret(grads, xs)
    for r in range(2):
        for T in (1, 7, 50):
            suffered = sum(grads[r, t] * (xs[r, t - 1] if t > 0 else 0.0) for t in range(T))
            best = min(sum(grads[r, :T]) * x for x in (-1.0, 1.0))
            assert reg[r, T - 1] == pytest.approx((suffered - best) / T)


def test_adam_fails_and_amsgrad_converges_on_reddi_problem():
    g = exa.reddi_gradients(10_000)
    adam = exa.projected_adam(g, lr=0.5)
    ams = exa.projected_adam(g, lr=0.5, amsgrad=True)
    assert adam[0, -1] > 0.9 and ams[0, -1] < -0.85
    reg_adam, reg_ams = exa.online_regret(g, adam)[0], exa.online_regret(g, ams)[0]
    assert reg_adam[-1] > 20 / 101  # above the average regret of always playing the worst point, x = +1
    assert reg_ams[-1] < reg_adam[-1] and reg_ams[-1] < 0.6 * reg_ams[2_500]  # AMSGrad's keeps falling
