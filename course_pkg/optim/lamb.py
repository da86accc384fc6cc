"""LAMB: layer-wise adaptive moments for batch training (You et al., 2020, "Large Batch Optimization for Deep
Learning: Training BERT in 76 minutes", Algorithm 2)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import torch
from torch import Tensor

from ._base import ReferenceOptimizer, as_float, check_adam_hyperparameters, new_step_counter
from .lars import trust_ratio

__all__ = ["LAMB", "lamb_update"]


def lamb_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    clamp: tuple[float, float] | None,
    layer_adaptation: bool,
) -> None:
    """Apply one LAMB step to ``param`` (one layer's tensor) in place (see :class:`LAMB` for the rule).

    Parameters
    ----------
    param : Tensor
        θ_{k,t-1}; overwritten with θ_{k,t}.
    grad : Tensor
        Its gradient g_{k,t} (not modified).
    state : dict
        ``step`` (t-1, a 0-dim tensor), ``exp_avg`` (m_{t-1}), ``exp_avg_sq`` (v_{t-1}); updated in place.
        ``trust_ratio`` (χ_k of the last step) is written for inspection.
    lr, beta1, beta2, eps, weight_decay : float
        η_t, β₁, β₂, ε and λ.
    clamp : tuple of float or None
        (γ_l, γ_u) of φ(z) = min(max(z, γ_l), γ_u); ``None`` for φ(z) = z.
    layer_adaptation : bool
        Multiply by the trust ratio χ_k (False: χ_k = 1, which is AdamW).
    """
    state["step"] += 1
    t = state["step"].item()
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m.lerp_(grad, 1 - beta1)  # m_t = β₁ m_{t-1} + (1 - β₁) g_t
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # v_t = β₂ v_{t-1} + (1 - β₂) g_t²
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    update = m_hat.div_(v_hat.sqrt_().add_(eps))  # r_t = m̂_t / (√v̂_t + ε)
    if weight_decay != 0:
        update.add_(param, alpha=weight_decay)  # r_t + λ θ_{t-1}
    if layer_adaptation:
        w_norm = torch.linalg.vector_norm(param)
        u_norm = torch.linalg.vector_norm(update)
        phi = w_norm if clamp is None else w_norm.clamp(clamp[0], clamp[1])
        ratio = trust_ratio(phi, u_norm, w_norm, u_norm)  # χ_k = φ(‖θ_k‖) / ‖r_t + λθ_k‖, 1 if a norm is 0
    else:
        ratio = torch.ones((), dtype=param.dtype, device=param.device)
    state["trust_ratio"] = ratio.detach().clone()
    param.sub_(update.mul_(ratio * lr))  # θ_t = θ_{t-1} - η_t χ_k (r_t + λ θ_{t-1})


class LAMB(ReferenceOptimizer):
    r"""LAMB: Adam's direction with decoupled weight decay, rescaled per layer by a trust ratio (You et al., 2020).

    Each parameter tensor is a "layer" k with weights θ_k. For t = 1, 2, ... with g_t = ∇_θ L(θ_{t-1}) on the
    minibatch 𝓑_t and m_0 = v_0 = 0 (Algorithm 2 of the paper):

    1. moments:          m_t = β₁ m_{t-1} + (1 - β₁) g_t,   v_t = β₂ v_{t-1} + (1 - β₂) g_t²
    2. bias correction:  m̂_t = m_t / (1 - β₁ᵗ),   v̂_t = v_t / (1 - β₂ᵗ)
    3. Adam ratio:       r_t = m̂_t / (√v̂_t + ε)
    4. trust ratio:      χ_k = φ(‖θ_{k,t-1}‖) / ‖r_{k,t} + λ θ_{k,t-1}‖   (χ_k = 1 if a norm is 0)
    5. step:             θ_{k,t} = θ_{k,t-1} - η_t χ_k (r_{k,t} + λ θ_{k,t-1})

    φ is the identity, or the clamp φ(z) = min(max(z, γ_l), γ_u) that the paper allows (``clamp=(γ_l, γ_u)``).
    With φ the identity the step of layer k has length η_t ‖θ_{k,t-1}‖: each layer moves by the fraction η_t of
    its weights. With χ_k = 1 (``layer_adaptation=False``, e.g. for biases and normalization parameters through
    :func:`~course_pkg.optim.exclude_bias_and_norm`) the rule is exactly ``torch.optim.AdamW`` with the same η and λ.

    State per parameter: ``step`` (t), ``exp_avg`` (m_t), ``exp_avg_sq`` (v_t), as in Adam, and ``trust_ratio``
    (χ_k of the last step).

    Parameters
    ----------
    params : iterable
        Tensors to optimize, or dicts defining parameter groups.
    lr : float, optional
        Learning rate η (default 1e-3).
    betas : tuple of float, optional
        (β₁, β₂) (default (0.9, 0.999)).
    eps : float, optional
        ε added to √v̂_t (default 1e-6, the value of the paper's BERT runs).
    weight_decay : float, optional
        Decoupled weight decay λ (default 0).
    clamp : tuple of float, optional
        (γ_l, γ_u) with 0 ≤ γ_l ≤ γ_u: φ clamps ‖θ_k‖ into this interval (default None: φ is the identity).
    layer_adaptation : bool, optional
        Use the trust ratio (default True).

    Raises
    ------
    ValueError
        For an invalid lr, eps, beta or weight decay (``torch.optim.Adam``'s messages) or an invalid clamp.
    """

    update_rule = staticmethod(lamb_update)
    option_defaults: ClassVar[dict[str, Any]] = {"layer_adaptation": True, "clamp": None}
    counters = ("step",)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0,
        clamp: tuple[float, float] | None = None,
        *,
        layer_adaptation: bool = True,
    ) -> None:
        check_adam_hyperparameters(lr, eps, betas, weight_decay)
        if clamp is not None:
            if len(clamp) != 2 or not 0.0 <= clamp[0] <= clamp[1]:
                raise ValueError(f"Invalid clamp value: {clamp} (expected (γ_l, γ_u) with 0 <= γ_l <= γ_u)")
            clamp = (float(clamp[0]), float(clamp[1]))
        defaults = {
            "lr": lr,
            "betas": (as_float(betas[0]), as_float(betas[1])),
            "eps": eps,
            "weight_decay": weight_decay,
            "clamp": clamp,
            "layer_adaptation": layer_adaptation,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "step": new_step_counter(),
            "exp_avg": torch.zeros_like(param, memory_format=torch.preserve_format),
            "exp_avg_sq": torch.zeros_like(param, memory_format=torch.preserve_format),
        }
