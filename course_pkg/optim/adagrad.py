"""Adagrad (Duchi, Hazan & Singer, 2011): per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import torch
from torch import Tensor

from ._base import ReferenceOptimizer, check_lr, new_step_counter

__all__ = ["Adagrad", "adagrad_update"]


def adagrad_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """Apply one Adagrad step to ``param`` in place (see :class:`Adagrad` for the rule).

    Parameters
    ----------
    param : Tensor
        The parameter θ_{t-1}; overwritten with θ_t.
    grad : Tensor
        Its gradient g_t (not modified); dense, or sparse (then only its stored entries of θ and s change, and
        ``weight_decay`` must be 0, as in torch).
    state : dict
        ``step`` (t-1, a 0-dim tensor) and ``sum`` (s_{t-1}); updated in place.
    lr, lr_decay, weight_decay, eps : float
        η, the learning-rate decay (no symbol), λ and ε.
    maximize : bool
        Ascend instead of descend.
    """
    state["step"] += 1
    t = state["step"].item()
    if maximize:
        grad = -grad
    if weight_decay != 0:
        if grad.is_sparse:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        grad = grad.add(param, alpha=weight_decay)  # g_t ← g_t + λ θ_{t-1}

    lr_t = lr / (1 + (t - 1) * lr_decay)  # η_t = η / (1 + (t - 1) γ)
    if grad.is_sparse:  # the same rule on the stored entries only (an embedding's rows seen in this batch)
        grad = grad.coalesce()  # the update is not linear in g_t: sum repeated indices first
        indices, values = grad._indices(), grad._values()
        state["sum"].add_(
            torch.sparse_coo_tensor(indices, values.pow(2), grad.size(), check_invariants=False)
        )  # s_t = s_{t-1} + g_t²
        std_values = state["sum"].sparse_mask(grad)._values().sqrt_().add_(eps)  # √s_t + ε on those entries
        param.add_(
            torch.sparse_coo_tensor(indices, values / std_values, grad.size(), check_invariants=False),
            alpha=-lr_t,
        )
        return
    state_sum = state["sum"]
    state_sum.addcmul_(grad, grad, value=1)  # s_t = s_{t-1} + g_t²
    std = state_sum.sqrt().add_(eps)
    param.addcdiv_(grad, std, value=-lr_t)  # θ_t = θ_{t-1} - η_t g_t / (√s_t + ε)


class Adagrad(ReferenceOptimizer):
    r"""Adagrad: each coordinate's step shrinks with its accumulated squared gradients (as ``torch.optim.Adagrad``).

    For t = 1, 2, ... with g_t = ∇_θ L(θ_{t-1}) (negated when ``maximize``) and s_0 = the initial accumulator value:

    1. weight decay:  g_t ← g_t + λ θ_{t-1}
    2. decayed learning rate:  η_t = η / (1 + (t - 1) · lr_decay)
    3. accumulator:  s_t = s_{t-1} + g_t²   (element-wise)
    4. step:  θ_t = θ_{t-1} - η_t g_t / (√s_t + ε)

    State per parameter: ``step`` (t, a 0-dim CPU tensor) and ``sum`` (s_t). Like ``torch.optim.Adagrad`` the
    state of every parameter is created by the constructor (``step`` = 0, ``sum`` = s_0), from the constructor's
    ``initial_accumulator_value`` even for groups that override it. Sparse gradients (``nn.Embedding(...,
    sparse=True)``) are accepted, as in torch: only the stored entries of θ and s_t change; ``weight_decay`` must
    then be 0.

    Parameters
    ----------
    params : iterable
        Tensors to optimize, or dicts defining parameter groups.
    lr : float, optional
        Learning rate η (default 1e-2).
    lr_decay : float, optional
        Learning-rate decay: η_t = η / (1 + (t - 1) · lr_decay) (default 0).
    weight_decay : float, optional
        L2 penalty λ (default 0).
    initial_accumulator_value : float, optional
        s_0 (default 0).
    eps : float, optional
        ε added to the denominator (default 1e-10).
    maximize : bool, optional
        Maximize the objective (default False).

    Raises
    ------
    ValueError
        For a negative lr, lr_decay, weight_decay, initial_accumulator_value or eps (torch's messages).
    """

    update_rule = staticmethod(adagrad_update)
    option_defaults: ClassVar[dict[str, Any]] = {"maximize": False}
    counters = ("step",)
    sparse_gradients = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                self.state[param] = self._init_state(param, group)

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        # torch.optim reads the constructor's value here, not the group's
        s0 = self.defaults["initial_accumulator_value"]
        if torch.is_complex(param):
            s0 = complex(s0, s0)  # real and imaginary parts each start at s_0
        return {
            "step": new_step_counter(),
            "sum": torch.full_like(param, s0, memory_format=torch.preserve_format),
        }
