"""FTRL-Proximal (McMahan et al., 2013, "Ad Click Prediction: a View from the Trenches", Algorithm 1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from ._base import ReferenceOptimizer

__all__ = ["FTRL", "ftrl_update"]


def ftrl_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    alpha: float,
    beta: float,
    l1: float,
    l2: float,
) -> None:
    """Apply one FTRL-Proximal step to ``param`` in place (see :class:`FTRL` for the rule).

    Parameters
    ----------
    param : Tensor
        The current weights θ_{t-1}; overwritten with θ_t.
    grad : Tensor
        The gradient g_t at θ_{t-1} (not modified).
    state : dict
        ``z`` (z_{t-1}) and ``n`` (n_{t-1}, the sum of squared gradients); updated in place.
    alpha, beta, l1, l2 : float
        α and β of the per-coordinate learning rate α / (β + √n), and the L1 and L2 strengths λ₁ and λ₂.
    """
    z, n = state["z"], state["n"]
    sqrt_n_prev = n.sqrt()  # √n_{t-1}
    n.addcmul_(grad, grad)  # n_t = n_{t-1} + g_t²
    sqrt_n = n.sqrt()  # √n_t
    sigma = (sqrt_n - sqrt_n_prev).div_(alpha)  # σ_t = (√n_t - √n_{t-1}) / α
    z.add_(grad).sub_(sigma.mul_(param))  # z_t = z_{t-1} + g_t - σ_t θ_{t-1}

    # θ_t = -(z_t - sign(z_t) λ₁) / ((β + √n_t) / α + λ₂), and exactly 0 where |z_t| ≤ λ₁
    denom = sqrt_n.add_(beta).div_(alpha).add_(l2)
    param.copy_(z - z.sign().mul_(l1)).div_(denom).neg_()
    param.masked_fill_(z.abs() <= l1, 0.0)


class FTRL(ReferenceOptimizer):
    r"""FTRL-Proximal with L1 and L2 regularization, per coordinate (McMahan et al., 2013, Algorithm 1).

    "Follow the regularized leader": θ_t minimizes the linearized losses seen so far plus a proximal term that
    keeps it near the past iterates, plus λ₁‖θ‖₁ + ½λ₂‖θ‖². The minimizer has a closed form per coordinate,
    kept through two numbers z and n. For t = 1, 2, ... with g_t = ∇_θ L(θ_{t-1}) and z_0 = n_0 = 0:

    1. σ_t = (√(n_{t-1} + g_t²) - √n_{t-1}) / α       (so that Σ_{s≤t} σ_s = √n_t / α, the inverse learning rate)
    2. z_t = z_{t-1} + g_t - σ_t θ_{t-1}
    3. n_t = n_{t-1} + g_t²
    4. θ_t = 0                                              if |z_t| ≤ λ₁
       θ_t = -(z_t - sign(z_t) λ₁) / ((β + √n_t)/α + λ₂)   otherwise

    All operations are element-wise: every coordinate has its own learning rate α / (β + √n_t), and λ₁ sets
    coordinates *exactly* to zero (sparse models). With λ₁ = λ₂ = β = 0 the iterates are those of Adagrad with
    η = α and ε = 0. The paper starts from θ_0 = 0; from another θ_0, step 2 uses it as the first proximal
    centre. θ is a function of (z, n): a coordinate whose gradients have all been zero stays at (or is reset to) 0.

    State per parameter: ``z`` (z_t) and ``n`` (n_t).

    Parameters
    ----------
    params : iterable
        Tensors to optimize, or dicts defining parameter groups.
    alpha : float, optional
        α > 0, the scale of the per-coordinate learning rate (default 0.1).
    beta : float, optional
        β ≥ 0, smooths the learning rate of rarely-updated coordinates (default 1.0, the paper's usual choice).
    l1 : float, optional
        λ₁ ≥ 0, L1 regularization strength (default 0).
    l2 : float, optional
        λ₂ ≥ 0, L2 regularization strength (default 0).

    Raises
    ------
    ValueError
        If α ≤ 0 or β, λ₁ or λ₂ is negative.
    """

    update_rule = staticmethod(ftrl_update)

    def __init__(
        self, params: Iterable[Any], alpha: float = 0.1, beta: float = 1.0, l1: float = 0.0, l2: float = 0.0
    ) -> None:
        if not 0.0 < alpha:
            raise ValueError(f"Invalid alpha value: {alpha} (the learning-rate scale α must be positive)")
        if not 0.0 <= beta:
            raise ValueError(f"Invalid beta value: {beta} (β must be non-negative)")
        if not 0.0 <= l1:
            raise ValueError(f"Invalid l1 value: {l1} (the L1 strength λ₁ must be non-negative)")
        if not 0.0 <= l2:
            raise ValueError(f"Invalid l2 value: {l2} (the L2 strength λ₂ must be non-negative)")
        super().__init__(params, {"alpha": alpha, "beta": beta, "l1": l1, "l2": l2})

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "z": torch.zeros_like(param, memory_format=torch.preserve_format),
            "n": torch.zeros_like(param, memory_format=torch.preserve_format),
        }
