"""Stochastic gradient descent, with heavy-ball or Nesterov momentum."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from torch import Tensor

from ._base import ReferenceOptimizer, check_lr

__all__ = ["SGD", "sgd_update"]


def sgd_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
) -> None:
    """Apply one SGD step to ``param`` in place (see :class:`SGD` for the rule).

    Parameters
    ----------
    param : Tensor
        The parameter θ_{t-1}; overwritten with θ_t.
    grad : Tensor
        Its gradient g_t (not modified).
    state : dict
        ``{"momentum_buffer": b_{t-1}}`` after the first step with momentum, ``{}`` before; updated in place.
    lr, momentum, dampening, weight_decay : float
        η, β, the dampening (no symbol) and λ.
    nesterov, maximize : bool
        Use Nesterov momentum; ascend instead of descend.
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)  # g_t + λ θ_{t-1}

    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:  # t = 1: b_1 = g_1
            buf = grad.detach().clone()
            state["momentum_buffer"] = buf
        else:  # b_t = β b_{t-1} + (1 - dampening) g_t
            buf.mul_(momentum).add_(grad, alpha=1 - dampening)
        grad = grad.add(buf, alpha=momentum) if nesterov else buf

    param.add_(grad, alpha=-lr)  # θ_t = θ_{t-1} - η · direction


class SGD(ReferenceOptimizer):
    r"""Stochastic gradient descent, optionally with momentum (same interface and numbers as ``torch.optim.SGD``).

    For t = 1, 2, ... with g_t = ∇_θ L(θ_{t-1}) on the current minibatch 𝓑_t (negated when ``maximize``):

    1. weight decay (an L2 penalty λ/2 ‖θ‖²):  g_t ← g_t + λ θ_{t-1}
    2. momentum buffer (only if β ≠ 0):  b_1 = g_1,  b_t = β b_{t-1} + (1 - dampening) g_t  for t > 1
    3. direction:  g̃_t = g_t + β b_t (Nesterov),  g̃_t = b_t (heavy ball),  g̃_t = g_t (β = 0)
    4. step:  θ_t = θ_{t-1} - η g̃_t

    State per parameter: ``momentum_buffer`` (b_t), present only when β ≠ 0. Sparse gradients are accepted, as in
    torch (the buffer is then sparse too).

    Parameters
    ----------
    params : iterable
        Tensors to optimize, or dicts defining parameter groups.
    lr : float, optional
        Learning rate η (default 1e-3).
    momentum : float, optional
        Momentum coefficient β (default 0).
    dampening : float, optional
        Dampening of the momentum, the weight 1 - dampening of g_t in b_t (default 0).
    weight_decay : float, optional
        L2 penalty λ (default 0).
    nesterov : bool, optional
        Use Nesterov momentum (default False); needs β > 0 and no dampening.
    maximize : bool, optional
        Maximize the objective instead of minimizing it (default False).

    Raises
    ------
    ValueError
        For a negative learning rate, momentum or weight decay, or Nesterov without momentum or with dampening
        (same messages as ``torch.optim.SGD``).
    """

    update_rule = staticmethod(sgd_update)
    option_defaults: ClassVar[dict[str, Any]] = {"nesterov": False, "maximize": False}
    sparse_gradients = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {}  # the momentum buffer is created from the first gradient
