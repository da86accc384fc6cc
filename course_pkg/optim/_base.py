"""The loop shared by every optimizer of :mod:`course_pkg.optim`.

Every optimizer in this package is the same loop over parameters plus an *update rule* for one tensor. The loop
lives here; each optimizer module holds its update rule as a plain function (``sgd_update``, ``adam_update``, ...)
that changes one parameter in place from its gradient and its state, and a thin :class:`ReferenceOptimizer`
subclass that names that function (``update_rule``), builds the initial state (``_init_state``) and states the rule
in its docstring. Everything else (reading a group's hyperparameters into the rule's keyword arguments, restoring
an older state dict, sparse and complex gradients) is the glue below, shared by every optimizer.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar

import torch
from torch import Tensor


def step_dtype() -> torch.dtype:
    """Return the dtype ``torch.optim`` uses for the ``state["step"]`` counter.

    Returns
    -------
    torch.dtype
        ``torch.float64`` when the default dtype is float64, otherwise ``torch.float32`` (torch keeps the counter
        as a 0-dim CPU tensor, so a state dict moves between the two implementations unchanged).
    """
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def new_step_counter(value: float = 0.0) -> Tensor:
    """Return a fresh step counter ``t``: a 0-dim CPU tensor, as ``torch.optim`` stores it.

    Parameters
    ----------
    value : float, optional
        Initial value (default 0: no step taken yet; the first update makes it 1).

    Returns
    -------
    Tensor
        A 0-dim tensor of dtype :func:`step_dtype` on the CPU.
    """
    return torch.tensor(value, dtype=step_dtype())


def as_float(value: float | Tensor) -> float:
    """Return a hyperparameter as a Python float (``torch.optim`` also accepts 1-element tensors for ``lr``).

    Parameters
    ----------
    value : float or Tensor
        A number or a 1-element tensor.

    Returns
    -------
    float
        The value as a Python float.
    """
    return value.item() if isinstance(value, Tensor) else float(value)


def as_scalar(value: float | Tensor) -> float | Tensor:
    """Return a learning rate as ``torch.optim`` uses it: a float unchanged, a 1-element tensor as a 0-dim tensor.

    Keeping a tensor learning rate a tensor keeps the arithmetic (its dtype and rounding) identical to torch's.

    Parameters
    ----------
    value : float or Tensor
        A number or a 1-element tensor.

    Returns
    -------
    float or Tensor
        ``value`` itself, or the tensor squeezed to 0 dimensions.
    """
    return value.squeeze() if isinstance(value, Tensor) and value.dim() != 0 else value


def check_lr(lr: float | Tensor) -> None:
    """Raise ``torch.optim``'s errors for an invalid learning rate.

    Parameters
    ----------
    lr : float or Tensor
        The learning rate η.

    Raises
    ------
    ValueError
        If ``lr`` is a tensor with more than one element, or is negative.
    """
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def check_adam_hyperparameters(
    lr: float | Tensor, eps: float, betas: tuple[float | Tensor, float | Tensor], weight_decay: float
) -> None:
    """Raise ``torch.optim``'s errors for the hyperparameters the Adam family shares (Adam, AdamW, NAdam, RAdam).

    Parameters
    ----------
    lr : float or Tensor
        The learning rate η.
    eps : float
        ε, added to the denominator.
    betas : tuple
        (β₁, β₂), each in [0, 1).
    weight_decay : float
        The weight-decay coefficient λ ≥ 0.

    Raises
    ------
    ValueError
        With torch's message for the first invalid value, checked in torch's order.
    """
    check_lr(lr)
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


@cache
def _keyword_names(rule: Callable[..., None]) -> tuple[str, ...]:
    """The keyword-only parameters of an update rule: the hyperparameters it reads from a parameter group."""
    return tuple(
        name
        for name, parameter in inspect.signature(rule).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    )


class ReferenceOptimizer(torch.optim.Optimizer):
    """A :class:`torch.optim.Optimizer` whose ``step`` is one loop over the parameters that have a gradient.

    A subclass names its update rule and its state, and nothing else:

    - ``update_rule``: ``staticmethod(rule)``, a function ``rule(param, grad, state, *, option=..., ...)`` that
      updates one tensor in place; each keyword-only argument is read from the parameter group under the same name
      (``lr`` as torch uses it: a float, or a tensor squeezed to 0 dimensions; ``beta1``/``beta2`` from ``betas``);
    - ``_init_state(param, group) -> dict``: the state of a parameter before its first update (``{}`` if the rule
      keeps none);
    - ``option_defaults``: the options a state dict saved by an older torch may lack, with the value torch's
      ``__setstate__`` fills in (``fixed_options``: values it always overwrites, as AdamW does);
    - ``counters``: the per-parameter scalars torch keeps as 0-dim CPU tensors (``step``; NAdam's ``mu_product``),
      restored as tensors when an older state dict stored them as plain numbers, as torch does;
    - ``sparse_gradients``: whether the rule accepts sparse gradients (SGD and Adagrad, as in torch).

    A parameter whose ``grad`` is ``None`` (frozen, or unused by the loss) is skipped: it is not changed and no
    state is created for it, exactly as in ``torch.optim``. A complex parameter is updated through its real view
    (``torch.view_as_real``), its state kept complex, as ``torch.optim`` does.
    """

    update_rule: ClassVar[Callable[..., None]]
    option_defaults: ClassVar[dict[str, Any]] = {}
    fixed_options: ClassVar[dict[str, Any]] = {}
    counters: ClassVar[tuple[str, ...]] = ()
    sparse_gradients: ClassVar[bool] = False

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled or loaded state as torch does: fill in missing options, make counters tensors."""
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in self.option_defaults.items():
                group.setdefault(key, value)
            group.update(self.fixed_options)
            for param in group["params"]:
                param_state = self.state.get(param, {})
                for key in self.counters:
                    if key in param_state and not torch.is_tensor(param_state[key]):
                        param_state[key] = torch.tensor(float(param_state[key]), dtype=step_dtype())

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """Return the initial state of ``param`` (called once, before its first update)."""
        raise NotImplementedError(f"{type(self).__name__} must define _init_state")

    def _rule_options(self, group: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments of ``update_rule``, read from a parameter group."""
        options = {}
        for name in _keyword_names(type(self).update_rule):
            if name == "lr":
                options[name] = as_scalar(group["lr"])
            elif name in ("beta1", "beta2"):
                options[name] = group["betas"][int(name[-1]) - 1]
            else:
                options[name] = group[name]
        return options

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Update ``param`` in place from ``grad`` and ``state`` with the hyperparameters in ``group``."""
        self.update_rule(param, grad, state, **self._rule_options(group))

    def _update_as_real(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Update a complex parameter as ``torch.optim`` does: real and imaginary parts as separate coordinates."""
        real_state = {
            key: torch.view_as_real(value) if isinstance(value, Tensor) and torch.is_complex(value) else value
            for key, value in state.items()
        }
        self._update(torch.view_as_real(param), torch.view_as_real(param.grad), real_state, group)
        for key, value in real_state.items():
            # a tensor created by the update (SGD's momentum buffer) is stored complex, like the parameter
            if key not in state:
                state[key] = torch.view_as_complex(value)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss; it is called with gradients enabled, before the update.

        Returns
        -------
        Any
            The closure's return value (the loss), or ``None`` without a closure.

        Raises
        ------
        RuntimeError
            If a gradient is sparse and the optimizer does not support sparse gradients (only SGD and Adagrad do,
            as in ``torch.optim``).
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue  # no gradient: no update and no new state
                sparse = param.grad.is_sparse
                if sparse and not self.sparse_gradients:
                    raise RuntimeError(
                        f"{type(self).__name__} does not support sparse gradients (only SGD and Adagrad do)"
                    )
                state = self.state[param]
                if len(state) == 0:
                    state.update(self._init_state(param, group))
                if torch.is_complex(param) and not sparse:
                    self._update_as_real(param, state, group)
                else:  # a sparse gradient is applied as it is, complex or not, as in torch
                    self._update(param, param.grad, state, group)
                if len(state) == 0:
                    del self.state[param]  # the rule keeps no state (plain SGD): store nothing, like torch
        return loss
