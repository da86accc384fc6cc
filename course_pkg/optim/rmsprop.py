"""RMSprop (Hinton, 2012): divide the gradient by a moving root mean square of recent gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import torch
from torch import Tensor

from ._base import ReferenceOptimizer, check_lr, new_step_counter

__all__ = ["RMSprop", "rmsprop_update"]


def rmsprop_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
) -> None:
    """Apply one RMSprop step to ``param`` in place (see :class:`RMSprop` for the rule).

    Parameters
    ----------
    param : Tensor
        The parameter θ_{t-1}; overwritten with θ_t.
    grad : Tensor
        Its gradient g_t (not modified).
    state : dict
        ``step``, ``square_avg`` (v_{t-1}), ``momentum_buffer`` (b_{t-1}, if β > 0) and ``grad_avg``
        (m_{t-1}, if centered); updated in place.
    lr, alpha, eps, weight_decay, momentum : float
        η, the decay rate β₂ (torch's ``alpha``), ε, λ and the momentum coefficient β.
    centered, maximize : bool
        Subtract the squared mean gradient from v_t; ascend instead of descend.
    """
    if maximize:
        grad = -grad
    state["step"] += 1
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)  # g_t ← g_t + λ θ_{t-1}

    square_avg = state["square_avg"]
    square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)  # v_t = β₂ v_{t-1} + (1 - β₂) g_t²
    if centered:
        grad_avg = state["grad_avg"]
        grad_avg.lerp_(grad, 1 - alpha)  # m_t = β₂ m_{t-1} + (1 - β₂) g_t
        avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()  # √(v_t - m_t²)
    else:
        avg = square_avg.sqrt()  # √v_t
    avg = avg.add_(eps)

    if momentum > 0:
        buf = state["momentum_buffer"]
        buf.mul_(momentum).addcdiv_(grad, avg)  # b_t = β b_{t-1} + g_t / (√· + ε)
        param.add_(buf, alpha=-lr)  # θ_t = θ_{t-1} - η b_t
    else:
        param.addcdiv_(grad, avg, value=-lr)  # θ_t = θ_{t-1} - η g_t / (√· + ε)


class RMSprop(ReferenceOptimizer):
    r"""RMSprop: scale each coordinate by a moving RMS of its gradients (same interface as ``torch.optim.RMSprop``).

    For t = 1, 2, ... with g_t = ∇_θ L(θ_{t-1}) (negated when ``maximize``) and v_0 = m_0 = b_0 = 0:

    1. weight decay:  g_t ← g_t + λ θ_{t-1}
    2. mean square:  v_t = β₂ v_{t-1} + (1 - β₂) g_t²   (β₂ is torch's ``alpha``)
    3. centered only:  m_t = β₂ m_{t-1} + (1 - β₂) g_t  and  v_t is replaced by  v_t - m_t²  (a variance)
    4. scaled gradient:  g̃_t = g_t / (√v_t + ε)
    5. with momentum β > 0:  b_t = β b_{t-1} + g̃_t,  θ_t = θ_{t-1} - η b_t;  otherwise  θ_t = θ_{t-1} - η g̃_t

    State per parameter: ``step`` (t), ``square_avg`` (v_t), ``momentum_buffer`` (b_t, only if β > 0) and
    ``grad_avg`` (m_t, only if centered).

    Parameters
    ----------
    params : iterable
        Tensors to optimize, or dicts defining parameter groups.
    lr : float, optional
        Learning rate η (default 1e-2).
    alpha : float, optional
        Decay rate β₂ of the moving averages (default 0.99).
    eps : float, optional
        ε added to the denominator (default 1e-8).
    weight_decay : float, optional
        L2 penalty λ (default 0).
    momentum : float, optional
        Momentum coefficient β (default 0).
    centered : bool, optional
        Normalize by an estimate of the gradient's variance instead of its second moment (default False).
    maximize : bool, optional
        Maximize the objective (default False).

    Raises
    ------
    ValueError
        For a negative lr, eps, momentum, weight_decay or alpha (torch's messages).
    """

    update_rule = staticmethod(rmsprop_update)
    option_defaults: ClassVar[dict[str, Any]] = {"momentum": 0, "centered": False, "maximize": False}
    counters = ("step",)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = {
            "step": new_step_counter(),
            "square_avg": torch.zeros_like(param, memory_format=torch.preserve_format),
        }
        if group["momentum"] > 0:
            state["momentum_buffer"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        if group["centered"]:
            state["grad_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        return state
