"""Learning-rate schedules: identical sequences to torch.optim.lr_scheduler, and properties of the others."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tsched

from course_pkg.optim import schedules as S

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors (conftest.py)


NUM_STEPS = 150


def _optimizer(lrs: tuple[float, ...] = (0.1, 0.03)) -> torch.optim.Optimizer:
    """SGD with one param group per learning rate (params in float64)."""
    groups = [{"params": [torch.zeros(2, dtype=torch.float64, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0])


def _run(make, optimizer: torch.optim.Optimizer, steps: int = NUM_STEPS) -> np.ndarray:
    """The lr of every group after construction and after each of ``steps`` steps: shape (steps + 1, groups)."""
    sched = make(optimizer)
    seq = [list(sched.get_last_lr())]
    for _ in range(steps):
        optimizer.step()
        sched.step()
        seq.append(list(sched.get_last_lr()))
        assert [g["lr"] for g in optimizer.param_groups] == seq[-1]
    return np.array(seq, dtype=np.float64)


# (name, kwargs): every torch-named scheduler in several settings
CASES = [
    ("StepLR", {"step_size": 30}),
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("StepLR", {"step_size": 1, "gamma": 0.97}),
    ("MultiStepLR", {"milestones": [30, 80]}),
    ("MultiStepLR", {"milestones": [10, 10, 55, 120], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.95}),
    ("ExponentialLR", {"gamma": 0.999}),
    ("CosineAnnealingLR", {"T_max": 100}),
    ("CosineAnnealingLR", {"T_max": 40, "eta_min": 0.001}),
    ("CosineAnnealingLR", {"T_max": 150, "eta_min": 0.01}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.05, "total_iters": 40}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 120}),
    ("PolynomialLR", {}),
    ("PolynomialLR", {"total_iters": 100, "power": 2.0}),
    ("PolynomialLR", {"total_iters": 130, "power": 0.5}),
]


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_identical_to_torch(name: str, kwargs: dict) -> None:
    ours = _run(lambda o: getattr(S, name)(o, **kwargs), _optimizer())
    ref = _run(lambda o: getattr(tsched, name)(o, **kwargs), _optimizer())
    np.testing.assert_array_equal(ours, ref)
    assert len(set(ours[:, 0])) > 1  # the schedule does change the rate


def _assert_recursive_form_is_closed_form(name: str, kwargs: dict) -> None:
    """At every step of NUM_STEPS, the rate the scheduler reached step by step equals its closed form."""
    optimizer = _optimizer()
    sched = getattr(S, name)(optimizer, **kwargs)
    for _ in range(NUM_STEPS):
        np.testing.assert_allclose(sched.get_last_lr(), sched.closed_form_lr(), rtol=1e-10, atol=1e-15)
        optimizer.step()
        sched.step()


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_recursive_form_matches_closed_form(name: str, kwargs: dict) -> None:
    _assert_recursive_form_is_closed_form(name, kwargs)


def test_closed_forms_match_torch_closed_forms() -> None:
    """Our closed forms against torch's own (``step(epoch)`` uses them), at a few epochs."""
    for name, kwargs in CASES:
        for epoch in (0, 1, 17, 40, 99, 140):
            ours = getattr(S, name)(_optimizer(), **kwargs)
            ours.last_epoch = epoch
            ref = getattr(tsched, name)(_optimizer(), **kwargs)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref.step(epoch)
            np.testing.assert_allclose(ours.closed_form_lr(), ref.get_last_lr(), rtol=1e-12)


def test_lambda_lr_identical_to_torch() -> None:
    fns = [lambda t: 0.95**t, lambda t: 1.0 / (1 + t // 10)]
    np.testing.assert_array_equal(
        _run(lambda o: S.LambdaLR(o, fns), _optimizer()),
        _run(lambda o: tsched.LambdaLR(o, fns), _optimizer()),
    )
    one = lambda t: math.cos(t / 50)  # noqa: E731
    np.testing.assert_array_equal(
        _run(lambda o: S.LambdaLR(o, one), _optimizer()),
        _run(lambda o: tsched.LambdaLR(o, one), _optimizer()),
    )


def test_schedulers_compose_like_torch() -> None:
    """Two chainable schedulers on one optimizer (warmup then step decay) give torch's sequence."""

    def both(mod):
        def make(o):
            a = mod.LinearLR(o, start_factor=0.1, total_iters=10)
            b = mod.StepLR(o, step_size=25, gamma=0.5)
            return _Pair(a, b)

        return make

    np.testing.assert_array_equal(_run(both(S), _optimizer()), _run(both(tsched), _optimizer()))


class _Pair:
    def __init__(self, a, b) -> None:
        self.a, self.b = a, b

    def step(self) -> None:
        self.a.step()
        self.b.step()

    def get_last_lr(self):
        return self.b.get_last_lr()


@pytest.mark.parametrize(("name", "kwargs"), CASES[::3], ids=[n for n, _ in CASES[::3]])
def test_state_dict_round_trip_and_keys(name: str, kwargs: dict) -> None:
    opt_a = _optimizer()
    sched_a = getattr(S, name)(opt_a, **kwargs)
    ref = getattr(tsched, name)(_optimizer(), **kwargs)
    for _ in range(37):
        opt_a.step()
        sched_a.step()
        ref.optimizer.step()
        ref.step()
    state = sched_a.state_dict()
    assert "optimizer" not in state
    public = {k: v for k, v in state.items() if not k.startswith("_")}
    ref_public = {k: v for k, v in ref.state_dict().items() if not k.startswith("_")}
    assert public == ref_public
    # resume into a fresh scheduler on a copy of the optimizer: continues identically
    opt_b = _optimizer()
    opt_b.load_state_dict(copy.deepcopy(opt_a.state_dict()))
    sched_b = getattr(S, name)(opt_b, **kwargs)
    sched_b.load_state_dict(copy.deepcopy(state))
    for _ in range(40):
        for o, s in ((opt_a, sched_a), (opt_b, sched_b)):
            o.step()
            s.step()
        assert sched_a.get_last_lr() == sched_b.get_last_lr()


def test_lambda_state_dict_saves_callable_objects_only() -> None:
    class Decay:
        def __init__(self, rate: float) -> None:
            self.rate = rate

        def __call__(self, t: int) -> float:
            return self.rate**t

    sched = S.LambdaLR(_optimizer(), [Decay(0.9), lambda t: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.9}, None]
    other = S.LambdaLR(_optimizer(), [Decay(0.5), lambda t: 1.0])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].rate == 0.9


def test_resume_with_last_epoch_needs_initial_lr() -> None:
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(_optimizer(), step_size=3, last_epoch=5)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        S.StepLR([torch.zeros(1)], step_size=3)


def test_resume_with_last_epoch_like_torch() -> None:
    """Resuming at last_epoch=k (torch's checkpoint path) gives torch's lr sequence."""
    for name, kwargs in [("CosineAnnealingLR", {"T_max": 50}), ("StepLR", {"step_size": 4})]:
        seqs = []
        for mod in (S, tsched):
            o = _optimizer()
            for g in o.param_groups:
                g["initial_lr"] = g["lr"]
            seqs.append(
                _run(
                    lambda o, mod=mod, name=name, kw=kwargs: getattr(mod, name)(o, last_epoch=10, **kw),
                    o,
                    steps=60,
                )
            )
        np.testing.assert_allclose(seqs[0], seqs[1], rtol=1e-14)


def test_tensor_learning_rates() -> None:
    def make_opt():
        p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        return torch.optim.SGD([p], lr=torch.tensor(0.1, dtype=torch.float64))

    ours = _run(lambda o: S.ExponentialLR(o, gamma=0.9), make_opt(), steps=20)
    ref = _run(lambda o: tsched.ExponentialLR(o, gamma=0.9), make_opt(), steps=20)
    np.testing.assert_array_equal(ours, ref)


def test_constructor_errors_match_torch() -> None:
    for kwargs in ({"start_factor": 0.0}, {"start_factor": 1.5}, {"end_factor": -0.1}):
        with pytest.raises(ValueError) as ours:
            S.LinearLR(_optimizer(), **kwargs)
        with pytest.raises(ValueError) as ref:
            tsched.LinearLR(_optimizer(), **kwargs)
        assert str(ours.value) == str(ref.value)
    with pytest.raises(ValueError) as ours:
        S.LambdaLR(_optimizer(), [lambda t: 1.0])
    with pytest.raises(ValueError) as ref:
        tsched.LambdaLR(_optimizer(), [lambda t: 1.0])
    assert str(ours.value) == str(ref.value)


# ---------------------------------------------------------------- WarmupCosine


@pytest.mark.parametrize(("W", "T", "eta_min"), [(10, 150, 0.0), (25, 120, 0.002), (2, 60, 0.0)])
def test_warmup_cosine_matches_torch_sequential(W: int, T: int, eta_min: float) -> None:
    """Equal (up to rounding) to torch's SequentialLR(LinearLR warmup, CosineAnnealingLR) over the whole run."""
    ours = _run(lambda o: S.WarmupCosine(o, warmup_steps=W, total_steps=T, eta_min=eta_min), _optimizer(), T)

    def torch_make(o):
        warm = tsched.LinearLR(o, start_factor=1.0 / W, end_factor=1.0, total_iters=W - 1)
        cos = tsched.CosineAnnealingLR(o, T_max=T - W, eta_min=eta_min)
        return tsched.SequentialLR(o, [warm, cos], milestones=[W])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _run(torch_make, _optimizer(), T)
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-13)


def test_warmup_cosine_properties() -> None:
    W, T, eta_min, lr = 20, 200, 0.01, 0.5
    eta = S.lr_sequence(S.WarmupCosine, 260, lr=lr, warmup_steps=W, total_steps=T, eta_min=eta_min)
    warm = eta[:W]
    np.testing.assert_allclose(np.diff(warm), lr / W, rtol=1e-12)  # linear, equal increments
    assert warm[0] == pytest.approx(lr / W) and warm[-1] == pytest.approx(lr)
    assert eta.max() == pytest.approx(lr)
    decay = eta[W : T + 1]
    assert np.all(np.diff(decay) < 0)  # strictly decreasing after warmup
    assert decay[0] == pytest.approx(lr) and decay[-1] == pytest.approx(eta_min)
    # half-way through the cosine the rate is the mid-point of eta_0 and eta_min
    assert eta[W + (T - W) // 2] == pytest.approx((lr + eta_min) / 2)
    np.testing.assert_allclose(eta[T:], eta_min)  # stays at the floor
    # no warmup: plain cosine annealing (torch's) until T
    plain = S.lr_sequence(S.WarmupCosine, 101, lr=lr, warmup_steps=0, total_steps=100)
    ref = S.lr_sequence(tsched.CosineAnnealingLR, 101, lr=lr, T_max=100)
    np.testing.assert_allclose(plain, ref, rtol=1e-10, atol=1e-15)


def test_warmup_cosine_errors() -> None:
    with pytest.raises(ValueError, match="warmup_steps"):
        S.WarmupCosine(_optimizer(), warmup_steps=-1, total_steps=10)
    with pytest.raises(ValueError, match="total_steps"):
        S.WarmupCosine(_optimizer(), warmup_steps=10, total_steps=10)
    with pytest.raises(ValueError, match="eta_min"):
        S.WarmupCosine(_optimizer(), warmup_steps=1, total_steps=10, eta_min=-1.0)


# ---------------------------------------------------------------- InverseTimeLR


def test_inverse_time_matches_lambda_reference() -> None:
    for tau, power in [(10.0, 1.0), (3.0, 0.6), (50.0, 1.0)]:
        ours = _run(lambda o, tau=tau, power=power: S.InverseTimeLR(o, tau=tau, power=power), _optimizer())
        ref = _run(
            lambda o, tau=tau, power=power: tsched.LambdaLR(o, lambda t: 1.0 / (1.0 + t / tau) ** power),
            _optimizer(),
        )
        np.testing.assert_allclose(ours, ref, rtol=1e-14)


def test_inverse_time_robbins_monro_properties() -> None:
    lr, tau = 0.2, 10.0
    eta = S.lr_sequence(S.InverseTimeLR, 20001, lr=lr, tau=tau)
    assert eta[0] == lr and eta[10] == pytest.approx(lr / 2)  # eta_tau = eta_0 / 2
    assert np.all(np.diff(eta) < 0)
    t = np.arange(eta.size)
    # t * eta_t -> eta_0 * tau: the harmonic tail, so sum eta_t diverges like eta_0 tau log t ...
    assert t[-1] * eta[-1] == pytest.approx(lr * tau, rel=1e-3)
    partial = np.cumsum(eta)
    growth = partial[20000] - partial[2000]
    assert growth == pytest.approx(lr * tau * math.log((20000.5 + tau) / (2000.5 + tau)), rel=1e-6)
    # ... while sum eta_t^2 converges: the tail beyond t is about eta_0^2 tau^2 / t
    sq = np.cumsum(eta**2)
    assert sq[-1] - sq[10000] == pytest.approx(lr**2 * tau**2 * (1 / 10010 - 1 / 20010), rel=1e-2)
    assert sq[-1] < lr**2 * (1 + tau)  # bounded by eta_0^2 (1 + integral of 1/(1+s/tau)^2)
    # power 1/2 is outside Robbins-Monro: sum eta^2 keeps growing like log t
    eta_half = S.lr_sequence(S.InverseTimeLR, 20001, lr=lr, tau=tau, power=0.5)
    sq_half = np.cumsum(eta_half**2)
    assert sq_half[20000] - sq_half[2000] == pytest.approx(
        lr**2 * tau * math.log((20000.5 + tau) / (2000.5 + tau)), rel=1e-6
    )


def test_inverse_time_errors() -> None:
    with pytest.raises(ValueError, match="tau"):
        S.InverseTimeLR(_optimizer(), tau=0.0)
    with pytest.raises(ValueError, match="power"):
        S.InverseTimeLR(_optimizer(), tau=1.0, power=-1.0)


def test_lr_sequence() -> None:
    eta = S.lr_sequence(S.StepLR, 100, lr=0.5, step_size=30, gamma=0.1)
    expected = 0.5 * 0.1 ** (np.arange(100) // 30)
    np.testing.assert_allclose(eta, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="num_steps"):
        S.lr_sequence(S.StepLR, 0, step_size=3)


def test_works_with_course_optimizer_if_present() -> None:
    """Schedules drive any torch.optim.Optimizer subclass, e.g. course_pkg's SGD."""
    optim = pytest.importorskip("course_pkg.optim")
    if not hasattr(optim, "SGD"):
        pytest.skip("course_pkg.optim.SGD not available yet")
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    o = optim.SGD([p], lr=0.1)
    ours = _run(lambda o: S.CosineAnnealingLR(o, T_max=30), o, steps=30)
    ref = _run(lambda o: tsched.CosineAnnealingLR(o, T_max=30), _optimizer((0.1,)), steps=30)
    np.testing.assert_array_equal(ours, ref)


# ------------------------------------------- MultiplicativeLR, ConstantLR, CosineAnnealingWarmRestarts (torch)

NEW_CASES = [
    ("MultiplicativeLR", {"lr_lambda": lambda t: 0.97}),
    ("MultiplicativeLR", {"lr_lambda": lambda t: 0.9 if t % 10 == 0 else 1.0}),
    ("MultiplicativeLR", {"lr_lambda": [lambda t: 0.99, lambda t: 1.0 - 0.5 / (t + 10)]}),
    ("ConstantLR", {}),
    ("ConstantLR", {"factor": 0.1, "total_iters": 40}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 120}),
    ("CosineAnnealingWarmRestarts", {"T_0": 30}),
    ("CosineAnnealingWarmRestarts", {"T_0": 10, "T_mult": 2}),
    ("CosineAnnealingWarmRestarts", {"T_0": 7, "T_mult": 3, "eta_min": 0.001}),
    ("CosineAnnealingWarmRestarts", {"T_0": 1}),
]
NEW_IDS = [f"{n}-{i}" for i, (n, _) in enumerate(NEW_CASES)]


@pytest.mark.parametrize(("name", "kwargs"), NEW_CASES, ids=NEW_IDS)
def test_new_schedules_identical_to_torch(name: str, kwargs: dict) -> None:
    ours = _run(lambda o: getattr(S, name)(o, **kwargs), _optimizer())
    ref = _run(lambda o: getattr(tsched, name)(o, **kwargs), _optimizer())
    np.testing.assert_array_equal(ours, ref)
    if not (name == "CosineAnnealingWarmRestarts" and kwargs["T_0"] == 1):
        assert len(set(ours[:, 0])) > 1


@pytest.mark.parametrize(("name", "kwargs"), NEW_CASES, ids=NEW_IDS)
def test_new_schedules_closed_form(name: str, kwargs: dict) -> None:
    _assert_recursive_form_is_closed_form(name, kwargs)


def test_warm_restarts_cycle_starts() -> None:
    """Restarts of SGDR with T_0 = 10, T_mult = 2 at t = 10, 30, 70 (T_0 (2^i − 1)): η jumps back to η_0."""
    eta = S.lr_sequence(S.CosineAnnealingWarmRestarts, 150, lr=0.5, T_0=10, T_mult=2, eta_min=0.01)
    jumps = np.flatnonzero(np.diff(eta) > 0) + 1
    np.testing.assert_array_equal(jumps, [10, 30, 70])
    np.testing.assert_allclose(eta[jumps], 0.5)
    # half-way through each cycle the rate is the mid-point of η_0 and η_min
    for start, length in [(0, 10), (10, 20), (30, 40), (70, 80)]:
        assert eta[start + length // 2] == pytest.approx((0.5 + 0.01) / 2)


def test_multiplicative_with_constant_factor_is_exponential() -> None:
    np.testing.assert_allclose(
        _run(lambda o: S.MultiplicativeLR(o, lambda t: 0.95), _optimizer()),
        _run(lambda o: tsched.ExponentialLR(o, gamma=0.95), _optimizer()),
        rtol=1e-13,
    )


def test_new_schedules_state_dict_like_torch() -> None:
    """Same public state as torch, and resuming from a state dict continues exactly as torch's resume does."""
    for name, kwargs in [("CosineAnnealingWarmRestarts", {"T_0": 10, "T_mult": 2}), ("ConstantLR", {})]:
        sequences = []
        for mod in (S, tsched):
            opt_a = _optimizer()
            sched_a = getattr(mod, name)(opt_a, **kwargs)
            for _ in range(23):
                opt_a.step()
                sched_a.step()
            state = sched_a.state_dict()
            opt_b = _optimizer()
            opt_b.load_state_dict(copy.deepcopy(opt_a.state_dict()))
            sched_b = getattr(mod, name)(opt_b, **kwargs)
            sched_b.load_state_dict(copy.deepcopy(state))
            seq = []
            for _ in range(40):
                opt_b.step()
                sched_b.step()
                seq.append(list(sched_b.get_last_lr()))
            sequences.append((state, seq))
        (ours, seq_ours), (ref, seq_ref) = sequences
        assert {k: v for k, v in ours.items() if not k.startswith("_")} == {
            k: v for k, v in ref.items() if not k.startswith("_")
        }
        assert seq_ours == seq_ref


def test_new_schedules_errors_match_torch() -> None:
    bad = [
        ("ConstantLR", {"factor": 1.5}),
        ("ConstantLR", {"factor": -0.1}),
        ("CosineAnnealingWarmRestarts", {"T_0": 0}),
        ("CosineAnnealingWarmRestarts", {"T_0": 2.5}),
        ("CosineAnnealingWarmRestarts", {"T_0": 10, "T_mult": 0}),
        ("CosineAnnealingWarmRestarts", {"T_0": 10, "eta_min": "0"}),
        ("MultiplicativeLR", {"lr_lambda": [lambda t: 1.0]}),
    ]
    for name, kwargs in bad:
        with pytest.raises(ValueError) as ours:
            getattr(S, name)(_optimizer(), **kwargs)
        with pytest.raises(ValueError) as ref:
            getattr(tsched, name)(_optimizer(), **kwargs)
        assert str(ours.value) == str(ref.value)
    with pytest.raises(TypeError) as ours:
        S.MultiplicativeLR(_optimizer(), [0.9, 0.9])
    with pytest.raises(TypeError) as ref:
        tsched.MultiplicativeLR(_optimizer(), [0.9, 0.9])
    assert str(ours.value) == str(ref.value)


# ---------------------------------------------------------------- WarmupStableDecay


def _wsd_closed_form(t: np.ndarray, lr: float, W: int, D: int, T: int, eta_min: float) -> np.ndarray:
    """The trapezoid written independently with numpy: the minimum of the warmup ramp and the decay ramp."""
    up = lr * (t + 1) / W if W > 0 else np.full(t.shape, np.inf)
    down = eta_min + (lr - eta_min) * np.clip((T - t) / D, 0.0, None)
    return np.minimum(np.minimum(up, lr), np.maximum(down, eta_min))


@pytest.mark.parametrize(
    ("W", "D", "T", "eta_min"), [(10, 30, 150, 0.0), (0, 50, 120, 0.002), (25, 25, 50, 0.01)]
)
def test_wsd_matches_closed_form(W: int, D: int, T: int, eta_min: float) -> None:
    ours = _run(lambda o: S.WarmupStableDecay(o, W, D, T, eta_min=eta_min), _optimizer(), T + 20)
    t = np.arange(T + 21)
    for j, lr in enumerate((0.1, 0.03)):
        np.testing.assert_allclose(
            ours[:, j], _wsd_closed_form(t, lr, W, D, T, eta_min), rtol=1e-12, atol=1e-15
        )


def test_wsd_properties_and_torch_sequential() -> None:
    W, D, T, lr = 20, 40, 200, 0.4
    eta = S.lr_sequence(S.WarmupStableDecay, 230, lr=lr, warmup_steps=W, decay_steps=D, total_steps=T)
    np.testing.assert_allclose(np.diff(eta[:W]), lr / W, rtol=1e-12)  # equal warmup increments
    np.testing.assert_allclose(eta[W - 1 : T - D + 1], lr)  # stable phase at η_0
    np.testing.assert_allclose(np.diff(eta[T - D : T + 1]), -lr / D, rtol=1e-12)  # equal decay decrements
    np.testing.assert_allclose(eta[T:], 0.0, atol=1e-15)
    # the same rates from torch: SequentialLR of a LinearLR warmup, a constant, and a LinearLR decay
    sgd = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = [
            tsched.LinearLR(sgd, start_factor=1.0 / W, total_iters=W - 1),
            tsched.ConstantLR(sgd, factor=1.0, total_iters=0),
            tsched.LinearLR(sgd, start_factor=1.0, end_factor=0.0, total_iters=D),
        ]
        seq = tsched.SequentialLR(sgd, parts, milestones=[W, T - D])
        ref = []
        for _ in range(T + 1):
            ref.append(seq.get_last_lr()[0])
            sgd.step()
            seq.step()
    np.testing.assert_allclose(eta[: T + 1], ref, rtol=1e-10, atol=1e-14)


def test_wsd_errors() -> None:
    for kwargs, match in [
        ({"warmup_steps": -1, "decay_steps": 5, "total_steps": 10}, "warmup_steps"),
        ({"warmup_steps": 1, "decay_steps": 0, "total_steps": 10}, "decay_steps"),
        ({"warmup_steps": 6, "decay_steps": 5, "total_steps": 10}, "total_steps"),
        ({"warmup_steps": 1, "decay_steps": 5, "total_steps": 10, "eta_min": -1.0}, "eta_min"),
    ]:
        with pytest.raises(ValueError, match=match):
            S.WarmupStableDecay(_optimizer(), **kwargs)
