"""Adam (Kingma & Ba, 2015), its AMSGrad variant, and AdamW (decoupled weight decay, Loshchilov & Hutter, 2019)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import torch
from torch import Tensor

from ._base import ReferenceOptimizer, as_float, check_adam_hyperparameters, new_step_counter

__all__ = ["Adam", "AdamW", "adam_update"]


def adam_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
    decoupled_weight_decay: bool,
) -> None:
    """Apply one Adam step to ``param`` in place (see :class:`Adam` for the rule).

    Parameters
    ----------
    param : Tensor
        The parameter θ_{t-1}; overwritten with θ_t.
    grad : Tensor
        Its gradient g_t (not modified).
    state : dict
        ``step`` (t-1, a 0-dim tensor), ``exp_avg`` (m_{t-1}), ``exp_avg_sq`` (v_{t-1}) and, with AMSGrad,
        ``max_exp_avg_sq``; all updated in place.
    lr, beta1, beta2, eps, weight_decay : float
        η, β₁, β₂, ε and λ.
    amsgrad, maximize, decoupled_weight_decay : bool
        Use the running maximum of v_t; ascend; decay θ directly (AdamW) instead of adding λθ to g_t.
    """
    if maximize:
        grad = -grad
    state["step"] += 1
    t = state["step"].item()

    if weight_decay != 0:
        if decoupled_weight_decay:
            param.mul_(1 - lr * weight_decay)  # θ ← (1 - ηλ) θ          (AdamW)
        else:
            grad = grad.add(param, alpha=weight_decay)  # g_t ← g_t + λ θ  (L2 penalty)

    m, v = state["exp_avg"], state["exp_avg_sq"]
    m.lerp_(grad, 1 - beta1)  # m_t = β₁ m_{t-1} + (1 - β₁) g_t
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # v_t = β₂ v_{t-1} + (1 - β₂) g_t²
    if amsgrad:
        v_max = state["max_exp_avg_sq"]
        torch.maximum(v_max, v, out=v_max)  # v_t^max = max(v_{t-1}^max, v_t)
        v = v_max

    bias_correction1 = 1 - beta1**t
    bias_correction2 = 1 - beta2**t
    # θ_t = θ_{t-1} - η m̂_t / (√v̂_t + ε) with m̂_t = m_t / (1 - β₁ᵗ) and v̂_t = v_t / (1 - β₂ᵗ)
    denom = (v.sqrt() / bias_correction2**0.5).add_(eps)
    param.addcdiv_(m, denom, value=-lr / bias_correction1)


class Adam(ReferenceOptimizer):
    r"""Adam: bias-corrected moving averages of the gradient and its square (same interface as ``torch.optim.Adam``).

    For t = 1, 2, ... with g_t = ∇_θ L(θ_{t-1}) (negated when ``maximize``) and m_0 = v_0 = 0:

    1. weight decay λ:  g_t ← g_t + λ θ_{t-1}  (L2 penalty), or, with ``decoupled_weight_decay``
       (this is AdamW),  θ_{t-1} ← (1 - η λ) θ_{t-1}
    2. first moment:   m_t = β₁ m_{t-1} + (1 - β₁) g_t
    3. second moment:  v_t = β₂ v_{t-1} + (1 - β₂) g_t²   (element-wise square)
    4. AMSGrad only:   v_t ← v_t^max = max(v_{t-1}^max, v_t)
    5. bias correction:  m̂_t = m_t / (1 - β₁ᵗ),  v̂_t = v_t / (1 - β₂ᵗ)
    6. step:  θ_t = θ_{t-1} - η m̂_t / (√v̂_t + ε)

    State per parameter: ``step`` (t, a 0-dim CPU tensor), ``exp_avg`` (m_t), ``exp_avg_sq`` (v_t) and, with
    ``amsgrad``, ``max_exp_avg_sq`` (v_t^max).

    Parameters
    ----------
    params : iterable
        Tensors to optimize, or dicts defining parameter groups.
    lr : float, optional
        Learning rate η (default 1e-3).
    betas : tuple of float, optional
        Decay rates (β₁, β₂) of the two moving averages (default (0.9, 0.999)).
    eps : float, optional
        ε added to the denominator (default 1e-8).
    weight_decay : float, optional
        Weight decay λ (default 0).
    amsgrad : bool, optional
        Use AMSGrad (Reddi et al., 2018) (default False).
    maximize : bool, optional
        Maximize the objective (default False).
    decoupled_weight_decay : bool, optional
        Decay the weights directly, as AdamW does (default False).

    Raises
    ------
    ValueError
        For an invalid lr, eps, beta or weight decay (same messages as ``torch.optim.Adam``).
    """

    update_rule = staticmethod(adam_update)
    option_defaults: ClassVar[dict[str, Any]] = {
        "amsgrad": False,
        "maximize": False,
        "decoupled_weight_decay": False,
    }
    counters = ("step",)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_adam_hyperparameters(lr, eps, betas, weight_decay)
        if not (
            (isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))
        ):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor) and beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        defaults = {
            "lr": lr,
            "betas": (as_float(betas[0]), as_float(betas[1])),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = {
            "step": new_step_counter(),
            "exp_avg": torch.zeros_like(param, memory_format=torch.preserve_format),
            "exp_avg_sq": torch.zeros_like(param, memory_format=torch.preserve_format),
        }
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        return state


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay (same interface as ``torch.optim.AdamW``).

    The rule of :class:`Adam` with step 1 replaced by  θ_{t-1} ← (1 - η λ) θ_{t-1}:  the decay shrinks the weights
    directly instead of passing through m_t and v_t, so it is not rescaled by the adaptive denominator
    (Loshchilov & Hutter, 2019). Same state as :class:`Adam`.

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
        Decoupled weight decay λ (default 1e-2).
    amsgrad : bool, optional
        Use AMSGrad (default False).
    maximize : bool, optional
        Maximize the objective (default False).

    Raises
    ------
    ValueError
        For an invalid lr, eps, beta or weight decay (same messages as ``torch.optim.AdamW``).
    """

    fixed_options: ClassVar[dict[str, Any]] = {"decoupled_weight_decay": True}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True
        )
