"""RAdam (Liu et al., 2020): Adam with a rectified, variance-aware warmup of the adaptive step."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import torch
from torch import Tensor

from ._base import ReferenceOptimizer, check_adam_hyperparameters, new_step_counter

__all__ = ["RAdam", "radam_update"]


def radam_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled_weight_decay: bool,
    maximize: bool,
) -> None:
    """Apply one RAdam step to ``param`` in place (see :class:`RAdam` for the rule).

    Parameters
    ----------
    param : Tensor
        The parameter θ_{t-1}; overwritten with θ_t.
    grad : Tensor
        Its gradient g_t (not modified).
    state : dict
        ``step`` (t-1), ``exp_avg`` (m_{t-1}) and ``exp_avg_sq`` (v_{t-1}); updated in place.
    lr, beta1, beta2, eps, weight_decay : float
        η, β₁, β₂, ε and λ.
    decoupled_weight_decay, maximize : bool
        Decay θ directly (as AdamW) instead of adding λθ to g_t; ascend instead of descend.
    """
    if maximize:
        grad = -grad
    state["step"] += 1
    t = state["step"].item()

    if weight_decay != 0:
        if decoupled_weight_decay:
            param.mul_(1 - lr * weight_decay)  # θ ← (1 - ηλ) θ
        else:
            grad = grad.add(param, alpha=weight_decay)  # g_t ← g_t + λ θ_{t-1}

    m, v = state["exp_avg"], state["exp_avg_sq"]
    m.lerp_(grad, 1 - beta1)  # m_t = β₁ m_{t-1} + (1 - β₁) g_t
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # v_t = β₂ v_{t-1} + (1 - β₂) g_t²

    bias_correction1 = 1 - beta1**t
    bias_correction2 = 1 - beta2**t
    m_hat = m / bias_correction1  # m̂_t
    rho_inf = 2 / (1 - beta2) - 1  # ρ_∞
    rho_t = rho_inf - 2 * t * (beta2**t) / bias_correction2  # ρ_t

    if rho_t > 5.0:  # the variance of the adaptive step is tractable: rectify it
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5  # r_t
        adaptive_lr = (bias_correction2**0.5) / v.sqrt().add_(eps)  # 1 / (√v̂_t + ε) as √(1-β₂ᵗ) / (√v_t + ε)
        param.add_(m_hat * lr * adaptive_lr * rect, alpha=-1.0)  # θ_t = θ_{t-1} - η r_t m̂_t / (√v̂_t + ε)
    else:  # early steps: plain momentum SGD
        param.add_(m_hat * lr, alpha=-1.0)  # θ_t = θ_{t-1} - η m̂_t


class RAdam(ReferenceOptimizer):
    r"""RAdam: Adam that switches the adaptive step on once its variance is tractable (as ``torch.optim.RAdam``).

    For t = 1, 2, ... with g_t = ∇_θ L(θ_{t-1}) (negated when ``maximize``) and m_0 = v_0 = 0:

    1. weight decay λ:  g_t ← g_t + λ θ_{t-1},  or with ``decoupled_weight_decay``  θ_{t-1} ← (1 - η λ) θ_{t-1}
    2. moments:  m_t = β₁ m_{t-1} + (1 - β₁) g_t,   v_t = β₂ v_{t-1} + (1 - β₂) g_t²,   m̂_t = m_t / (1 - β₁ᵗ)
    3. length of the approximated simple moving average:  ρ_∞ = 2 / (1 - β₂) - 1,
       ρ_t = ρ_∞ - 2 t β₂ᵗ / (1 - β₂ᵗ)
    4. if ρ_t > 5:  r_t = √[ (ρ_t - 4)(ρ_t - 2) ρ_∞ / ((ρ_∞ - 4)(ρ_∞ - 2) ρ_t) ],
       θ_t = θ_{t-1} - η r_t m̂_t √(1 - β₂ᵗ) / (√v_t + ε);
       otherwise  θ_t = θ_{t-1} - η m̂_t

    State per parameter: ``step`` (t), ``exp_avg`` (m_t) and ``exp_avg_sq`` (v_t).

    Parameters
    ----------
    params : iterable
        Tensors to optimize, or dicts defining parameter groups.
    lr : float, optional
        Learning rate η (default 1e-3).
    betas : tuple of float, optional
        Decay rates (β₁, β₂) (default (0.9, 0.999)).
    eps : float, optional
        ε added to the denominator (default 1e-8).
    weight_decay : float, optional
        Weight decay λ (default 0).
    decoupled_weight_decay : bool, optional
        Decay the weights directly, as AdamW (default False).
    maximize : bool, optional
        Maximize the objective (default False).

    Raises
    ------
    ValueError
        For an invalid lr, eps, beta or weight_decay (torch's messages).
    """

    update_rule = staticmethod(radam_update)
    option_defaults: ClassVar[dict[str, Any]] = {"maximize": False, "decoupled_weight_decay": False}
    counters = ("step",)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_adam_hyperparameters(lr, eps, betas, weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "step": new_step_counter(),
            "exp_avg": torch.zeros_like(param, memory_format=torch.preserve_format),
            "exp_avg_sq": torch.zeros_like(param, memory_format=torch.preserve_format),
        }
