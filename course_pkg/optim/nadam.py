"""NAdam (Dozat, 2016): Adam with Nesterov momentum and a momentum schedule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import torch
from torch import Tensor

from ._base import ReferenceOptimizer, check_adam_hyperparameters, new_step_counter

__all__ = ["NAdam", "nadam_update"]


def nadam_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    momentum_decay: float,
    decoupled_weight_decay: bool,
    maximize: bool,
) -> None:
    """Apply one NAdam step to ``param`` in place (see :class:`NAdam` for the rule).

    Parameters
    ----------
    param : Tensor
        The parameter θ_{t-1}; overwritten with θ_t.
    grad : Tensor
        Its gradient g_t (not modified).
    state : dict
        ``step`` (t-1), ``mu_product`` (β_{1,1} ⋯ β_{1,t-1}, a 0-dim tensor), ``exp_avg`` (m_{t-1}) and
        ``exp_avg_sq`` (v_{t-1}); updated in place.
    lr, beta1, beta2, eps, weight_decay, momentum_decay : float
        η, β₁, β₂, ε, λ and c.
    decoupled_weight_decay, maximize : bool
        Decay θ directly (as AdamW) instead of adding λθ to g_t; ascend instead of descend.
    """
    if maximize:
        grad = -grad
    state["step"] += 1
    t = state["step"].item()
    bias_correction2 = 1 - beta2**t

    if weight_decay != 0:
        if decoupled_weight_decay:
            param.mul_(1 - lr * weight_decay)  # θ ← (1 - ηλ) θ
        else:
            grad = grad.add(param, alpha=weight_decay)  # g_t ← g_t + λ θ_{t-1}

    mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))  # μ_t
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))  # μ_{t+1}
    state["mu_product"] *= mu  # μ_1 ⋯ μ_t
    mu_product = state["mu_product"].item()
    mu_product_next = mu_product * mu_next  # μ_1 ⋯ μ_{t+1}

    m, v = state["exp_avg"], state["exp_avg_sq"]
    m.lerp_(grad, 1 - beta1)  # m_t = β₁ m_{t-1} + (1 - β₁) g_t
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # v_t = β₂ v_{t-1} + (1 - β₂) g_t²
    denom = v.div(bias_correction2).sqrt().add_(eps)  # √v̂_t + ε
    # θ_t = θ_{t-1} - η [(1 - μ_t) g_t / (1 - μ_1⋯μ_t) + μ_{t+1} m_t / (1 - μ_1⋯μ_{t+1})] / (√v̂_t + ε)
    param.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
    param.addcdiv_(m, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))


class NAdam(ReferenceOptimizer):
    r"""NAdam: Adam whose first moment looks one step ahead, Nesterov-style (as ``torch.optim.NAdam``).

    For t = 1, 2, ... with g_t = ∇_θ L(θ_{t-1}) (negated when ``maximize``) and m_0 = v_0 = 0:

    1. weight decay λ:  g_t ← g_t + λ θ_{t-1},  or with ``decoupled_weight_decay``  θ_{t-1} ← (1 - η λ) θ_{t-1}
    2. momentum schedule:  β_{1,t} = β₁ (1 - ½ · 0.96^(t c))   (c = ``momentum_decay``; Dozat writes μ_t)
    3. moments:  m_t = β₁ m_{t-1} + (1 - β₁) g_t,   v_t = β₂ v_{t-1} + (1 - β₂) g_t²,   v̂_t = v_t / (1 - β₂ᵗ)
    4. step:  θ_t = θ_{t-1} - η [ (1 - β_{1,t}) g_t / (1 - ∏_{i≤t} β_{1,i})  +  β_{1,t+1} m_t / (1 - ∏_{i≤t+1} β_{1,i}) ]
       / (√v̂_t + ε)

    State per parameter: ``step`` (t), ``mu_product`` (∏_{i≤t} β_{1,i}, a 0-dim CPU tensor), ``exp_avg`` (m_t) and
    ``exp_avg_sq`` (v_t).

    Parameters
    ----------
    params : iterable
        Tensors to optimize, or dicts defining parameter groups.
    lr : float, optional
        Learning rate η (default 2e-3).
    betas : tuple of float, optional
        Decay rates (β₁, β₂) (default (0.9, 0.999)).
    eps : float, optional
        ε added to the denominator (default 1e-8).
    weight_decay : float, optional
        Weight decay λ (default 0).
    momentum_decay : float, optional
        c, how fast β_{1,t} rises to β₁ (default 4e-3).
    decoupled_weight_decay : bool, optional
        Decay the weights directly, as AdamW (default False).
    maximize : bool, optional
        Maximize the objective (default False).

    Raises
    ------
    ValueError
        For an invalid lr, eps, beta, weight_decay or momentum_decay (torch's messages).
    """

    update_rule = staticmethod(nadam_update)
    option_defaults: ClassVar[dict[str, Any]] = {"maximize": False, "decoupled_weight_decay": False}
    counters = ("step", "mu_product")

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_adam_hyperparameters(lr, eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "step": new_step_counter(),
            "mu_product": new_step_counter(1.0),
            "exp_avg": torch.zeros_like(param, memory_format=torch.preserve_format),
            "exp_avg_sq": torch.zeros_like(param, memory_format=torch.preserve_format),
        }
