"""LARS: layer-wise adaptive rate scaling (You, Gitman & Ginsburg, 2017, "Large Batch Training of Convolutional
Networks", Algorithm 1), and :func:`exclude_bias_and_norm`, the parameter groups that leave biases and
normalization parameters out of the layer-wise adaptation (and of weight decay), as large-batch recipes do."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ._base import ReferenceOptimizer, check_lr

__all__ = ["LARS", "lars_update", "trust_ratio", "exclude_bias_and_norm"]


def trust_ratio(numerator: Tensor, denominator: Tensor, weight_norm: Tensor, update_norm: Tensor) -> Tensor:
    """Return ``numerator / denominator``, or 1 where ``weight_norm`` or ``update_norm`` is 0.

    This is the convention of LARS/LAMB implementations: a layer whose weights are all zero (a bias initialised at
    0) would otherwise never move (ratio 0), and a layer with a zero update would divide 0 by 0.

    Parameters
    ----------
    numerator, denominator : Tensor
        0-dim tensors: ζ‖θ_k‖ and ‖g_k‖ + λ‖θ_k‖ + ε (LARS), or φ(‖θ_k‖) and ‖r_k + λθ_k‖ (LAMB).
    weight_norm, update_norm : Tensor
        ‖θ_k‖ and the norm of the gradient (LARS) or of the update (LAMB), 0-dim.

    Returns
    -------
    Tensor
        The trust ratio χ_k, a 0-dim tensor.
    """
    ok = (weight_norm > 0) & (update_norm > 0)
    safe = torch.where(ok, denominator, torch.ones_like(denominator))
    return torch.where(ok, numerator / safe, torch.ones_like(numerator))


def lars_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    momentum: float,
    weight_decay: float,
    trust_coefficient: float,
    eps: float,
    layer_adaptation: bool,
) -> None:
    """Apply one LARS step to ``param`` (one layer's tensor) in place (see :class:`LARS` for the rule).

    Parameters
    ----------
    param : Tensor
        θ_{k,t-1}; overwritten with θ_{k,t}.
    grad : Tensor
        Its gradient g_{k,t} (not modified).
    state : dict
        ``momentum_buffer`` (b_{t-1}, which includes the learning rate) once momentum is used, ``{}`` before;
        ``trust_ratio`` (χ_k of the last step, kept for inspection, not needed by the rule).
    lr, momentum, weight_decay, trust_coefficient, eps : float
        η_t, β, λ, ζ and ε.
    layer_adaptation : bool
        Multiply by the trust ratio χ_k (False: χ_k = 1, plain SGD with momentum).
    """
    if layer_adaptation:
        w_norm = torch.linalg.vector_norm(param)
        g_norm = torch.linalg.vector_norm(grad)
        # χ_k = ζ ‖θ_k‖ / (‖g_k‖ + λ ‖θ_k‖ + ε), 1 if a norm is 0
        ratio = trust_ratio(trust_coefficient * w_norm, g_norm + weight_decay * w_norm + eps, w_norm, g_norm)
    else:
        ratio = torch.ones((), dtype=param.dtype, device=param.device)
    state["trust_ratio"] = ratio.detach().clone()
    direction = grad.add(param, alpha=weight_decay) if weight_decay != 0 else grad.clone()  # g_k + λ θ_k
    direction.mul_(ratio * lr)  # η_t χ_k (g_k + λ θ_k)
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:  # b_0 = 0, so b_1 = η_1 χ_k (g_1 + λθ_0)
            buf = direction
            state["momentum_buffer"] = buf
        else:  # b_t = β b_{t-1} + η_t χ_k (g_t + λ θ_{t-1})
            buf.mul_(momentum).add_(direction)
        direction = buf
    param.sub_(direction)  # θ_t = θ_{t-1} - b_t


class LARS(ReferenceOptimizer):
    r"""LARS: SGD with momentum whose step in every layer is scaled by that layer's trust ratio (You et al., 2017).

    Each parameter tensor is a "layer" k with weights θ_k. For t = 1, 2, ... with g_{k,t} = ∇_{θ_k} L(θ_{t-1}) on
    the minibatch 𝓑_t and b_0 = 0:

    1. trust ratio:  χ_k = ζ ‖θ_k‖ / (‖g_{k,t}‖ + λ ‖θ_k‖ + ε)   (χ_k = 1 if ‖θ_k‖ = 0 or ‖g_{k,t}‖ = 0)
    2. momentum:    b_t = β b_{t-1} + η_t χ_k (g_{k,t} + λ θ_{k,t-1})
    3. step:        θ_{k,t} = θ_{k,t-1} - b_t

    ζ is the paper's trust coefficient η (we keep η for the global learning rate, the paper's γ_t), λ its weight
    decay β and β its momentum m. Without momentum and weight decay the step of layer k has length
    ‖θ_{k,t} - θ_{k,t-1}‖ = η_t ζ ‖θ_{k,t-1}‖: every layer moves by the same *fraction* ηζ of its weights, however
    large or small its gradient. The paper's schedule γ_t = γ_0 (1 - t/T)² is left to a scheduler; the learning rate
    is inside the momentum buffer, as in the paper (with a constant η and χ_k = 1 this equals
    ``torch.optim.SGD(momentum=β, weight_decay=λ)``, whose buffer has η outside).

    ``layer_adaptation=False`` in a parameter group sets χ_k = 1 for its tensors: large-batch recipes use it, with
    ``weight_decay=0``, for biases and normalization parameters (:func:`exclude_bias_and_norm` builds such groups).
    The paper itself adapts every layer; the exclusion is a later practice and an option here.

    State per parameter: ``momentum_buffer`` (b_t) when β ≠ 0, and ``trust_ratio`` (χ_k of the last step).

    Parameters
    ----------
    params : iterable
        Tensors to optimize, or dicts defining parameter groups.
    lr : float, optional
        Global learning rate η (default 1.0: with ζ = 0.001, each layer moves by 0.1 % of its norm per step,
        before momentum).
    momentum : float, optional
        Momentum coefficient β (default 0.9).
    weight_decay : float, optional
        Weight decay λ (default 0).
    trust_coefficient : float, optional
        ζ > 0, the trust coefficient (default 0.001, the paper's value).
    eps : float, optional
        ε added to the denominator of χ_k (default 0, the paper's formula).
    layer_adaptation : bool, optional
        Use the trust ratio (default True).

    Raises
    ------
    ValueError
        For an invalid lr, momentum, weight decay or eps (``torch.optim``'s messages), or a trust coefficient
        that is not positive.
    """

    update_rule = staticmethod(lars_update)
    option_defaults: ClassVar[dict[str, Any]] = {"layer_adaptation": True, "eps": 0.0}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1.0,
        momentum: float = 0.9,
        weight_decay: float = 0,
        trust_coefficient: float = 0.001,
        eps: float = 0.0,
        *,
        layer_adaptation: bool = True,
    ) -> None:
        check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 < trust_coefficient:
            raise ValueError(
                f"Invalid trust_coefficient value: {trust_coefficient} (the trust coefficient ζ must be positive)"
            )
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "weight_decay": weight_decay,
            "trust_coefficient": trust_coefficient,
            "eps": eps,
            "layer_adaptation": layer_adaptation,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {}  # the momentum buffer is created from the first step


def exclude_bias_and_norm(model: nn.Module, weight_decay: float = 0.0) -> list[dict[str, Any]]:
    """Two parameter groups: weight matrices and kernels (adapted, decayed) and the rest (neither).

    Large-batch recipes (You et al. 2018/2020; Goyal et al. 2017 for the decay) leave the 1-dimensional
    parameters — biases and the scale and shift of normalization layers — out of the layer-wise adaptation and out
    of weight decay: their norms say little about a sensible step size, and a bias that starts at 0 would get a
    trust ratio of 0 (the convention χ = 1 of :func:`trust_ratio` avoids that too).

    Parameters
    ----------
    model : torch.nn.Module
        The network; its trainable parameters are split by dimension (``ndim >= 2``: adapted).
    weight_decay : float, optional
        λ for the adapted group (default 0); the other group gets 0.

    Returns
    -------
    list of dict
        ``[{"params": [...], "weight_decay": λ}, {"params": [...], "weight_decay": 0.0, "layer_adaptation":
        False}]``, for :class:`LARS` or :class:`~course_pkg.optim.LAMB`; a group with no parameter is left out.
    """
    adapted = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    excluded = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups: list[dict[str, Any]] = []
    if adapted:
        groups.append({"params": adapted, "weight_decay": weight_decay})
    if excluded:
        groups.append({"params": excluded, "weight_decay": 0.0, "layer_adaptation": False})
    return groups
