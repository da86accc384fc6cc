"""Lockstep harness: a course_pkg optimizer and its torch.optim counterpart, side by side, step by step.

Modelled on PyTorch's ``test/test_optim.py`` and ``torch/testing/_internal/common_optimizers.py``: both optimizers
get identical float64 parameters (one of them non-contiguous) and, at every step, identical gradients of a tiny MLP
on a fresh random batch; after every step every parameter and every state tensor (``step`` included, dtype and
device checked) must agree. ``torch.optim`` runs its single-tensor path (``foreach=False``), the one we mirror.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from torch import Tensor

import course_pkg.optim as ours

# float64 everywhere; the same operations in the same order agree to the last bit, these bounds leave room for
# nothing but rounding.
TOL = {"rtol": 1e-12, "atol": 1e-14}

DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param(
        "cuda",
        id="cuda",
        marks=[
            pytest.mark.cuda,
            pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
        ],
    ),
]

N_IN, N_HIDDEN, N_OUT, BATCH = 4, 5, 3, 8


def make_params(device: str, seed: int = 0) -> list[Tensor]:
    """Leaf float64 parameters of a 4-5-3 MLP; the second weight is non-contiguous (a transposed layout)."""
    gen = torch.Generator().manual_seed(seed)
    w1 = torch.randn(N_HIDDEN, N_IN, generator=gen, dtype=torch.float64) / 2
    b1 = torch.randn(N_HIDDEN, generator=gen, dtype=torch.float64) / 2
    w2 = (torch.randn(N_HIDDEN, N_OUT, generator=gen, dtype=torch.float64) / 2).t().clone()
    b2 = torch.randn(N_OUT, generator=gen, dtype=torch.float64) / 2
    params = [p.to(device).requires_grad_() for p in (w1, b1, w2, b2)]
    assert not params[2].is_contiguous()
    return params


def clone_params(params: Sequence[Tensor]) -> list[Tensor]:
    """Independent leaf copies with the same values, strides and device."""
    return [p.detach().clone().requires_grad_(p.requires_grad) for p in params]


def batch(t: int, device: str) -> tuple[Tensor, Tensor]:
    """The random batch (x, y) of step t: fresh every step, identical for both optimizers."""
    gen = torch.Generator().manual_seed(1000 + t)
    x = torch.randn(BATCH, N_IN, generator=gen, dtype=torch.float64)
    y = torch.randn(BATCH, N_OUT, generator=gen, dtype=torch.float64)
    return x.to(device), y.to(device)


def loss_fn(params: Sequence[Tensor], data: tuple[Tensor, Tensor]) -> Tensor:
    """Mean squared error of the MLP ``tanh(x W1ᵀ + b1) W2ᵀ + b2``."""
    w1, b1, w2, b2 = params
    x, y = data
    out = torch.tanh(x @ w1.t() + b1) @ w2.t() + b2
    return ((out - y) ** 2).mean()


@dataclass(frozen=True)
class OptimizerCase:
    """One optimizer under test: our class, torch's, a grid of hyperparameters, and a second group's overrides."""

    name: str
    ours: type[torch.optim.Optimizer]
    ref: type[torch.optim.Optimizer]
    options: list[dict[str, Any]]
    group2: dict[str, Any]
    bad: list[dict[str, Any]] = field(default_factory=list)
    base: dict[str, Any] = field(default_factory=dict)

    def make_ours(self, params: Any, **kwargs: Any) -> torch.optim.Optimizer:
        return self.ours(params, **{**self.base, **kwargs})

    def make_ref(self, params: Any, **kwargs: Any) -> torch.optim.Optimizer:
        return self.ref(params, **{**self.base, **kwargs}, foreach=False)


CASES: list[OptimizerCase] = [
    OptimizerCase(
        "SGD",
        ours.SGD,
        torch.optim.SGD,
        base={"lr": 0.1},
        options=[
            {},
            {"momentum": 0.9},
            {"momentum": 0.9, "dampening": 0.5},
            {"momentum": 0.9, "nesterov": True},
            {"weight_decay": 0.1},
            {"maximize": True},
            {"momentum": 0.8, "nesterov": True, "weight_decay": 0.05, "maximize": True},
            {"momentum": 0.5, "dampening": 0.2, "weight_decay": 0.1},
        ],
        group2={"lr": 0.03, "momentum": 0.5, "weight_decay": 0.2},
        bad=[
            {"lr": -0.1},
            {"momentum": -0.5},
            {"weight_decay": -1e-3},
            {"nesterov": True},
            {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
            {"lr": torch.tensor([0.1, 0.2])},
        ],
    ),
    OptimizerCase(
        "Adam",
        ours.Adam,
        torch.optim.Adam,
        base={"lr": 0.01},
        options=[
            {},
            {"betas": (0.8, 0.99)},
            {"eps": 1e-3},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "decoupled_weight_decay": True},
            {"amsgrad": True},
            {"maximize": True},
            {"amsgrad": True, "weight_decay": 0.05, "maximize": True, "betas": (0.5, 0.9)},
        ],
        group2={"lr": 0.003, "betas": (0.7, 0.95), "amsgrad": True, "weight_decay": 0.1},
        bad=[
            {"lr": -1e-3},
            {"eps": -1e-8},
            {"betas": (1.0, 0.999)},
            {"betas": (-0.1, 0.999)},
            {"betas": (0.9, 1.5)},
            {"weight_decay": -0.1},
            {"betas": (0, 0.999)},
            {"lr": torch.tensor([0.1, 0.2])},
        ],
    ),
    OptimizerCase(
        "AdamW",
        ours.AdamW,
        torch.optim.AdamW,
        base={"lr": 0.01},
        options=[
            {},
            {"weight_decay": 0.3},
            {"weight_decay": 0.0},
            {"amsgrad": True},
            {"maximize": True, "betas": (0.8, 0.9), "eps": 1e-4},
        ],
        group2={"lr": 0.02, "weight_decay": 0.5, "amsgrad": True},
        bad=[{"lr": -1.0}, {"eps": -1.0}, {"betas": (0.9, 1.0)}, {"weight_decay": -0.01}],
    ),
    OptimizerCase(
        "Adagrad",
        ours.Adagrad,
        torch.optim.Adagrad,
        base={"lr": 0.1},
        options=[
            {},
            {"lr_decay": 0.1},
            {"weight_decay": 0.1},
            {"initial_accumulator_value": 0.5},
            {"eps": 1e-2},
            {"maximize": True},
            {"lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.1, "maximize": True},
        ],
        group2={
            "lr": 0.03,
            "lr_decay": 0.2,
            "eps": 1e-3,
            "weight_decay": 0.1,
            "initial_accumulator_value": 0.3,
        },
        bad=[
            {"lr": -0.1},
            {"lr_decay": -0.1},
            {"weight_decay": -0.1},
            {"initial_accumulator_value": -1.0},
            {"eps": -1e-10},
        ],
    ),
    OptimizerCase(
        "RMSprop",
        ours.RMSprop,
        torch.optim.RMSprop,
        base={"lr": 0.01},
        options=[
            {},
            {"alpha": 0.9},
            {"eps": 1e-3},
            {"weight_decay": 0.1},
            {"momentum": 0.9},
            {"centered": True},
            {"centered": True, "momentum": 0.5},
            {"maximize": True},
            {"alpha": 0.8, "centered": True, "momentum": 0.7, "weight_decay": 0.05, "maximize": True},
        ],
        group2={"lr": 0.003, "alpha": 0.9, "momentum": 0.9, "centered": True},
        bad=[{"lr": -0.1}, {"eps": -1.0}, {"momentum": -0.9}, {"weight_decay": -0.1}, {"alpha": -0.5}],
    ),
    OptimizerCase(
        "Adadelta",
        ours.Adadelta,
        torch.optim.Adadelta,
        options=[
            {},
            {"lr": 0.5},
            {"rho": 0.5},
            {"eps": 1e-3},
            {"weight_decay": 0.1},
            {"maximize": True},
            {"lr": 2.0, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.05, "maximize": True},
        ],
        group2={"lr": 0.5, "rho": 0.95, "weight_decay": 0.1},
        bad=[{"lr": -1.0}, {"rho": 1.5}, {"rho": -0.1}, {"eps": -1e-6}, {"weight_decay": -0.1}],
    ),
    OptimizerCase(
        "NAdam",
        ours.NAdam,
        torch.optim.NAdam,
        base={"lr": 0.01},
        options=[
            {},
            {"betas": (0.8, 0.99)},
            {"eps": 1e-3},
            {"momentum_decay": 0.05},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "decoupled_weight_decay": True},
            {"maximize": True},
            {
                "betas": (0.7, 0.95),
                "momentum_decay": 0.01,
                "weight_decay": 0.1,
                "decoupled_weight_decay": True,
                "maximize": True,
            },
        ],
        group2={"lr": 0.002, "betas": (0.8, 0.9), "momentum_decay": 0.02, "weight_decay": 0.1},
        bad=[
            {"lr": -1.0},
            {"eps": -1.0},
            {"betas": (1.0, 0.999)},
            {"betas": (0.9, -0.1)},
            {"weight_decay": -0.1},
            {"momentum_decay": -4e-3},
        ],
    ),
    OptimizerCase(
        "RAdam",
        ours.RAdam,
        torch.optim.RAdam,
        base={"lr": 0.01},
        options=[
            {},
            {"betas": (0.8, 0.9)},  # ρ_∞ = 19: the rectified branch from step 5 on
            {"eps": 1e-3},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "decoupled_weight_decay": True},
            {"maximize": True},
            {"betas": (0.5, 0.8), "weight_decay": 0.05, "decoupled_weight_decay": True, "maximize": True},
        ],
        group2={"lr": 0.03, "betas": (0.9, 0.95), "weight_decay": 0.1},
        bad=[
            {"lr": -1.0},
            {"eps": -1.0},
            {"betas": (-0.5, 0.999)},
            {"betas": (0.9, 1.0)},
            {"weight_decay": -1.0},
        ],
    ),
]

CASE_BY_NAME = {case.name: case for case in CASES}


def grid() -> list[Any]:
    """``pytest.param(case, options)`` for every optimizer × option set."""
    return [
        pytest.param(
            case, options, id=f"{case.name}-{'-'.join(f'{k}={v}' for k, v in options.items()) or 'defaults'}"
        )
        for case in CASES
        for options in case.options
    ]


def case_params() -> list[Any]:
    """``pytest.param(case)`` for every optimizer."""
    return [pytest.param(case, id=case.name) for case in CASES]


def assert_same_state(opt: torch.optim.Optimizer, ref: torch.optim.Optimizer) -> None:
    """Every state tensor of ``opt`` equals ``ref``'s (same params, keys, values, dtypes, devices and strides)."""
    ours_state, ref_state = opt.state_dict()["state"], ref.state_dict()["state"]
    torch.testing.assert_close(ours_state, ref_state, **TOL)
    for index, entries in ours_state.items():
        for key, value in entries.items():
            assert value.stride() == ref_state[index][key].stride(), (index, key)


def assert_same_groups(opt: torch.optim.Optimizer, ref: torch.optim.Optimizer) -> None:
    """Every hyperparameter our groups hold has torch's value (torch's groups also hold implementation flags)."""
    assert len(opt.param_groups) == len(ref.param_groups)
    for ours_group, ref_group in zip(opt.param_groups, ref.param_groups):
        keys = set(ours_group) - {"params"}
        assert keys <= set(ref_group), keys - set(ref_group)
        assert {k: ours_group[k] for k in keys} == {k: ref_group[k] for k in keys}


class Lockstep:
    """Two copies of the same parameters, one optimized by ours, one by torch, advanced together."""

    def __init__(
        self,
        case: OptimizerCase,
        device: str,
        build: Callable[[OptimizerCase, list[Tensor], bool], torch.optim.Optimizer] | None = None,
        **kwargs: Any,
    ) -> None:
        self.case, self.device = case, device
        self.p_ours = make_params(device)
        self.p_ref = clone_params(self.p_ours)
        if build is None:

            def build(case: OptimizerCase, params: list[Tensor], is_ours: bool) -> torch.optim.Optimizer:
                return case.make_ours(params, **kwargs) if is_ours else case.make_ref(params, **kwargs)

        self.build = build
        self.opt = build(case, self.p_ours, True)
        self.ref = build(case, self.p_ref, False)
        self.t = 0
        assert_same_groups(self.opt, self.ref)

    def step(self, drop_grad: Sequence[int] = (), closure: bool = False) -> tuple[Any, Any]:
        """One step of both optimizers on the same batch; ``drop_grad``: indices whose grad is set to None."""
        self.t += 1
        data = batch(self.t, self.device)
        losses = []
        for params, opt in ((self.p_ours, self.opt), (self.p_ref, self.ref)):
            opt.zero_grad(set_to_none=True)
            if closure:

                def closure_fn(params: list[Tensor] = params, opt: torch.optim.Optimizer = opt) -> Tensor:
                    opt.zero_grad(set_to_none=True)
                    loss = loss_fn(params, data)
                    loss.backward()
                    return loss

                losses.append(opt.step(closure_fn))
            else:
                loss = loss_fn(params, data)
                loss.backward()
                for i in drop_grad:
                    params[i].grad = None
                losses.append(opt.step())
        self.check()
        return losses[0], losses[1]

    def check(self) -> None:
        """Every parameter and every state tensor agree."""
        for a, b in zip(self.p_ours, self.p_ref):
            torch.testing.assert_close(a, b, **TOL)
        assert_same_state(self.opt, self.ref)

    def reload(self, ours_from: str = "ours", ref_from: str = "ref") -> None:
        """Replace both optimizers by fresh ones loaded from a state dict (``"ours"`` or ``"ref"``'s, deep-copied).

        Both are reloaded because loading itself changes state: ``Optimizer.load_state_dict`` casts every state
        tensor but ``step`` to the parameter's dtype (NAdam's float32 ``mu_product`` becomes float64).
        """
        saved = {"ours": self.opt.state_dict(), "ref": self.ref.state_dict()}
        self.opt = self.build(self.case, self.p_ours, True)
        self.opt.load_state_dict(copy.deepcopy(saved[ours_from]))
        self.ref = self.build(self.case, self.p_ref, False)
        self.ref.load_state_dict(copy.deepcopy(saved[ref_from]))
        assert_same_groups(self.opt, self.ref)
