"""The schedules chapter's noisy quadratic model and explorable."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch.optim import lr_scheduler as tsched

from course_pkg.experiments import schedules as X
from course_pkg.explore.chapters import schedules as E


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: one intra-op thread is fastest and immune to a busy machine's oversubscription."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


H = X.curvatures(8, 10.0)
THETA0 = np.linspace(-2.0, 2.0, 8)


def test_curvatures() -> None:
    h = X.curvatures(5, 100.0)
    assert h[0] == pytest.approx(1.0) and h[-1] == pytest.approx(0.01)
    assert np.all(np.diff(np.log(h)) == pytest.approx(np.log(0.01) / 4))
    with pytest.raises(ValueError):
        X.curvatures(0, 10.0)


def test_expected_loss_matches_monte_carlo() -> None:
    etas = X.schedule_lrs("cosine", 0.5, 60)
    exact = X.expected_loss(etas, H, THETA0, sigma=0.7)
    runs = X.sgd_noisy_quadratic(etas, H, THETA0, sigma=0.7, n_runs=5000, seed=3)
    mean, se = runs.mean(axis=0), runs.std(axis=0) / np.sqrt(runs.shape[0])
    assert np.all(np.abs(mean - exact) < 5 * se + 1e-12)
    assert exact[0] == pytest.approx(0.5 * H @ THETA0**2)


def test_expected_loss_without_noise_is_deterministic_gd() -> None:
    etas = np.full(30, 0.3)
    theta = THETA0.copy()
    for _ in range(30):
        theta = theta - 0.3 * H * theta
    assert X.expected_loss(etas, H, THETA0, 0.0)[-1] == pytest.approx(0.5 * H @ theta**2, rel=1e-12)
    np.testing.assert_allclose(
        X.sgd_noisy_quadratic(etas, H, THETA0, 0.0)[0], X.expected_loss(etas, H, THETA0, 0.0)
    )


def test_noise_floor_is_the_limit_of_constant_rate() -> None:
    for eta in (0.05, 0.3, 1.5):
        long = X.expected_loss(np.full(20000, eta), H, THETA0, sigma=1.3)
        assert long[-1] == pytest.approx(X.noise_floor(eta, H, 1.3), rel=1e-9)
    # proportional to eta for small eta: L = eta d sigma^2 / 4 (1 + O(eta h))
    assert X.noise_floor(1e-4, H, 2.0) == pytest.approx(1e-4 * 8 * 4.0 / 4, rel=1e-4)
    with pytest.raises(ValueError, match="to converge"):
        X.noise_floor(2.0, H, 1.0)


SCHEDULE_REFS = {
    "constant": lambda o, T: tsched.LambdaLR(o, lambda t: 1.0),
    "step": lambda o, T: tsched.StepLR(o, step_size=T // 3, gamma=0.3),
    "multistep": lambda o, T: tsched.MultiStepLR(o, milestones=[T // 2, 3 * T // 4]),
    "exponential": lambda o, T: tsched.ExponentialLR(o, gamma=0.01 ** (1.0 / T)),
    "polynomial": lambda o, T: tsched.PolynomialLR(o, total_iters=T, power=1.0),
    "cosine": lambda o, T: tsched.CosineAnnealingLR(o, T_max=T),
    "1/t": lambda o, T: tsched.LambdaLR(o, lambda t: 1.0 / (1.0 + t / (T / 10))),
}


@pytest.mark.parametrize("name", list(SCHEDULE_REFS))
def test_schedule_lrs_against_torch(name: str) -> None:
    T = 120
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    sched = SCHEDULE_REFS[name](opt, T)
    ref = []
    for _ in range(T):
        ref.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    np.testing.assert_allclose(X.schedule_lrs(name, 0.3, T), ref, rtol=1e-12)


def test_warmup_cosine_shape_and_errors() -> None:
    lrs = X.schedule_lrs("warmup+cosine", 1.0, 100)
    assert lrs[0] == pytest.approx(0.1) and lrs.max() == pytest.approx(1.0) and lrs[-1] < 1e-3
    assert set(X.SCHEDULES) == set(SCHEDULE_REFS) | {"warmup+cosine"}
    with pytest.raises(ValueError, match="unknown schedule"):
        X.schedule_lrs("linear", 1.0, 100)
    with pytest.raises(ValueError, match="num_steps"):
        X.schedule_lrs("cosine", 1.0, 5)


def test_decaying_schedules_beat_the_noise_floor() -> None:
    for schedule in ("cosine", "1/t", "step"):
        r = E._compute_race(schedule, 0.4, 1.0)
        assert r["loss"][-1] < 0.5 * r["floor"]
        assert r["const_loss"][-1] == pytest.approx(r["floor"], rel=1e-3)
    const = E._compute_race("constant", 0.4, 1.0)
    np.testing.assert_array_equal(const["loss"], const["const_loss"])


def test_explorable_grid_and_drawing() -> None:
    ex = E.schedule_race()
    assert ex.n_frames <= 120
    assert all(lr < 2.0 for lr in ex.params["lr"].values)  # every peak rate is stable on the quadratic
    fig = Figure()
    E._draw_race(E._compute_race("warmup+cosine", 1.6, 0.1), fig)
    labels = [ax.get_xlabel() for ax in fig.axes]
    assert labels == ["step t", "step t"]
    assert E.EXPLORABLES == [E.schedule_race]
