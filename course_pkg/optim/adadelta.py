"""Adadelta (Zeiler, 2012): steps whose units match θ's, from moving averages of squared gradients and steps."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import torch
from torch import Tensor

from ._base import ReferenceOptimizer, check_lr, new_step_counter

__all__ = ["Adadelta", "adadelta_update"]


def adadelta_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    rho: float,
    eps: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    """Apply one Adadelta step to ``param`` in place (see :class:`Adadelta` for the rule).

    Parameters
    ----------
    param : Tensor
        The parameter θ_{t-1}; overwritten with θ_t.
    grad : Tensor
        Its gradient g_t (not modified).
    state : dict
        ``step``, ``square_avg`` (v_{t-1}) and ``acc_delta`` (u_{t-1}); updated in place.
    lr, rho, eps, weight_decay : float
        η, the decay rate β₂ (torch's ``rho``), ε and λ.
    maximize : bool
        Ascend instead of descend.
    """
    state["step"] += 1
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)  # g_t ← g_t + λ θ_{t-1}

    square_avg, acc_delta = state["square_avg"], state["acc_delta"]
    square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)  # v_t = β₂ v_{t-1} + (1 - β₂) g_t², β₂ = rho
    std = square_avg.add(eps).sqrt_()  # √(v_t + ε)
    delta = acc_delta.add(eps).sqrt_()  # √(u_{t-1} + ε)
    delta.div_(std).mul_(grad)  # Δ_t = √(u_{t-1} + ε) / √(v_t + ε) · g_t
    acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)  # u_t = β₂ u_{t-1} + (1 - β₂) Δ_t²
    param.add_(delta, alpha=-lr)  # θ_t = θ_{t-1} - η Δ_t


class Adadelta(ReferenceOptimizer):
    r"""Adadelta: a step-size-free adaptive method (same interface and numbers as ``torch.optim.Adadelta``).

    For t = 1, 2, ... with g_t = ∇_θ L(θ_{t-1}) (negated when ``maximize``) and v_0 = u_0 = 0:

    1. weight decay:  g_t ← g_t + λ θ_{t-1}
    2. mean squared gradient:  v_t = β₂ v_{t-1} + (1 - β₂) g_t²   (β₂ is torch's ``rho``)
    3. step:  Δ_t = √(u_{t-1} + ε) / √(v_t + ε) · g_t   (RMS of past steps over RMS of gradients)
    4. mean squared step:  u_t = β₂ u_{t-1} + (1 - β₂) Δ_t²
    5. update:  θ_t = θ_{t-1} - η Δ_t   (Zeiler's original has η = 1)

    State per parameter: ``step`` (t), ``square_avg`` (v_t) and ``acc_delta`` (u_t).

    Parameters
    ----------
    params : iterable
        Tensors to optimize, or dicts defining parameter groups.
    lr : float, optional
        Scale η of the step (default 1.0).
    rho : float, optional
        Decay rate β₂ of both moving averages (default 0.9).
    eps : float, optional
        ε inside both square roots (default 1e-6).
    weight_decay : float, optional
        L2 penalty λ (default 0).
    maximize : bool, optional
        Maximize the objective (default False).

    Raises
    ------
    ValueError
        For a negative lr, eps or weight_decay, or rho outside [0, 1] (torch's messages).
    """

    update_rule = staticmethod(adadelta_update)
    option_defaults: ClassVar[dict[str, Any]] = {"maximize": False}
    counters = ("step",)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "step": new_step_counter(),
            "square_avg": torch.zeros_like(param, memory_format=torch.preserve_format),
            "acc_delta": torch.zeros_like(param, memory_format=torch.preserve_format),
        }
