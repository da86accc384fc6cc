r"""Learning-rate schedules, written to reproduce ``torch.optim.lr_scheduler`` exactly.

A schedule changes the learning rate :math:`\eta_t` of every parameter group of an optimizer as training
proceeds. The scheduler is *attached* to an optimizer, and every call to :meth:`LRScheduler.step` (made after
``optimizer.step()``) advances the counter ``last_epoch`` (the number :math:`t` of scheduler steps taken so far)
and writes the new :math:`\eta_t` into each ``param_group["lr"]``.

Like torch, the torch-named schedules (:class:`StepLR`, :class:`MultiStepLR`, :class:`ExponentialLR`,
:class:`CosineAnnealingLR`, :class:`LinearLR`, :class:`PolynomialLR`, :class:`MultiplicativeLR`,
:class:`ConstantLR`) are written in *chainable* (recursive)
form: the new rate is computed from the rate currently in the optimizer, so that two schedulers attached to the
same optimizer compose, and the floating-point sequence is identical to torch's. Each class also exposes its
closed form :math:`\eta_t = f(t)` in ``closed_form_lr``, which the tests compare against. :class:`LambdaLR`,
:class:`WarmupCosine`, :class:`InverseTimeLR`, :class:`CosineAnnealingWarmRestarts` (torch's formula, with its
restart bookkeeping) and :class:`WarmupStableDecay` are closed forms by definition.

Notation: :math:`\eta_0` is the initial learning rate of a group (``base_lrs``), :math:`t` is ``last_epoch``.
"""

from __future__ import annotations

import math
import types
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.optim import Optimizer

__all__ = [
    "LRScheduler",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "PolynomialLR",
    "LambdaLR",
    "WarmupCosine",
    "InverseTimeLR",
    "MultiplicativeLR",
    "ConstantLR",
    "CosineAnnealingWarmRestarts",
    "WarmupStableDecay",
    "lr_sequence",
]


def _current_lrs(optimizer: Optimizer) -> list[float | Tensor]:
    """The learning rate of every param group (tensors cloned, so that callers cannot alias them)."""
    return [g["lr"].clone() if isinstance(g["lr"], Tensor) else g["lr"] for g in optimizer.param_groups]


class LRScheduler:
    """Base class: attach to an optimizer, then call :meth:`step` once after every ``optimizer.step()``.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimizer whose ``param_group["lr"]`` values are scheduled (a ``course_pkg.optim`` optimizer or a
        ``torch.optim`` one).
    last_epoch : int, default -1
        Index of the last step taken. ``-1`` starts a fresh schedule (each group's current ``lr`` is stored as
        its ``initial_lr``); another value resumes one and needs ``initial_lr`` in every group.

    Notes
    -----
    Subclasses implement :meth:`get_lr`, the learning rates at step ``last_epoch``. Construction performs one
    initial :meth:`step`, so that right after construction ``last_epoch == 0`` and the optimizer holds
    :math:`\\eta_0` (or the schedule's value at :math:`t = 0`).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                lr = group["lr"]
                group.setdefault("initial_lr", lr.clone() if isinstance(lr, Tensor) else lr)
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming a scheduler "
                        "with last_epoch >= 0: load the optimizer's state (or set initial_lr) first"
                    )
        self.base_lrs: list[float | Tensor] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Reset the step count and take the constructor's step (flagged by ``_is_initial``)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float | Tensor]:
        """Learning rates of the param groups at step ``last_epoch`` (implemented by subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr()")

    def step(self) -> None:
        """Advance the schedule by one step and write the new rates into the optimizer."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            if isinstance(group["lr"], Tensor):
                group["lr"].fill_(float(lr))
            else:
                group["lr"] = lr
        self._last_lr = _current_lrs(self.optimizer)

    def get_last_lr(self) -> list[float | Tensor]:
        """The learning rates written by the most recent :meth:`step`, one per param group."""
        return self._last_lr

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer, as a dict (same keys as torch's schedulers)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the attributes saved by :meth:`state_dict`."""
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    r"""Multiply the learning rate by :math:`\gamma` every ``step_size`` steps.

    .. math:: \eta_t = \eta_0\, \gamma^{\lfloor t / s \rfloor}, \qquad s = \texttt{step\_size}.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    step_size : int
        Period :math:`s` of the decay, in steps.
    gamma : float, default 0.1
        Multiplicative decay factor :math:`\gamma`.
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        """Multiply the current rates by γ when ``last_epoch`` is a non-zero multiple of ``step_size``."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _current_lrs(self.optimizer)
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def closed_form_lr(self) -> list[float | Tensor]:
        r"""The closed form :math:`\eta_0 \gamma^{\lfloor t/s \rfloor}` at ``t = last_epoch``."""
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    r"""Multiply the learning rate by :math:`\gamma` at each milestone.

    .. math:: \eta_t = \eta_0\, \gamma^{\#\{m \in M : m \le t\}}

    where :math:`M` is the multiset of milestones (a milestone listed twice decays twice).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    milestones : iterable of int
        Steps at which the rate decays (increasing).
    gamma : float, default 0.1
        Multiplicative decay factor :math:`\gamma`.
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).
    """

    def __init__(
        self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        """Multiply the current rates by γ^(multiplicity) when ``last_epoch`` is a milestone."""
        if self.last_epoch not in self.milestones:
            return _current_lrs(self.optimizer)
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def closed_form_lr(self) -> list[float | Tensor]:
        r"""The closed form :math:`\eta_0 \gamma^{\#\{m \le t\}}` at ``t = last_epoch``."""
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    r"""Multiply the learning rate by :math:`\gamma` at every step: :math:`\eta_t = \eta_0 \gamma^t`.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    gamma : float
        Multiplicative decay factor :math:`\gamma` per step.
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        """Multiply the current rates by γ (except in the constructor's step)."""
        if self._is_initial:
            return _current_lrs(self.optimizer)
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def closed_form_lr(self) -> list[float | Tensor]:
        r"""The closed form :math:`\eta_0 \gamma^t` at ``t = last_epoch``."""
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from :math:`\eta_0` down to :math:`\eta_{\min}` over :math:`T` steps (no restarts).

    .. math:: \eta_t = \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min}) \bigl(1 + \cos(\pi t / T)\bigr)

    (Loshchilov & Hutter 2017). Computed, like torch, by the recursion

    .. math:: \eta_{t} = \eta_{\min} + (\eta_{t-1} - \eta_{\min})
              \frac{1 + \cos(\pi t / T)}{1 + \cos(\pi (t-1) / T)},

    which equals the closed form in exact arithmetic and composes with other schedulers. Past :math:`T` the
    cosine keeps going (the rate climbs back up towards :math:`\eta_0` over the next :math:`T` steps).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    T_max : int
        Half-period :math:`T` of the cosine, in steps.
    eta_min : float, default 0.0
        Minimum learning rate :math:`\eta_{\min}`.
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        """Apply one step of the cosine recursion to the current rates."""
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return _current_lrs(self.optimizer)
        if self._step_count == 1 and t > 0:  # resumed from a checkpoint: restart from the closed form
            return [
                eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / T)) / 2 for base in self.base_lrs
            ]
        if (t - 1 - T) % (2 * T) == 0:  # at the bottom of the cosine the ratio below would be 0/0
            return [
                group["lr"] + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base, group in zip(self.base_lrs, self.optimizer.param_groups, strict=True)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (group["lr"] - eta_min) + eta_min for group in self.optimizer.param_groups]

    def closed_form_lr(self) -> list[float | Tensor]:
        r"""The closed form :math:`\eta_{\min} + \frac12(\eta_0-\eta_{\min})(1+\cos(\pi t/T))`."""
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        return [eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T)) / 2 for base in self.base_lrs]


class LinearLR(LRScheduler):
    r"""Scale the learning rate by a factor that moves linearly from ``start_factor`` to ``end_factor``.

    .. math:: \eta_t = \eta_0 \Bigl(s + (e - s)\,\frac{\min(t, N)}{N}\Bigr)

    with :math:`s` = ``start_factor``, :math:`e` = ``end_factor``, :math:`N` = ``total_iters``. With
    :math:`s < e = 1` this is linear *warmup*; with :math:`s = 1 > e` a linear decay.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    start_factor : float, default 1/3
        Factor :math:`s \in (0, 1]` at :math:`t = 0`.
    end_factor : float, default 1.0
        Factor :math:`e \in [0, 1]` reached at :math:`t = N` and kept afterwards.
    total_iters : int, default 5
        Number of steps :math:`N` of the linear ramp.
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).

    Raises
    ------
    ValueError
        If ``start_factor`` is not in (0, 1] or ``end_factor`` not in [0, 1].
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."
            )
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        """Scale the current rates by the ratio of consecutive factors of the ramp."""
        t, s, e, n = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
        if t == 0:
            return [group["lr"] * s for group in self.optimizer.param_groups]
        if self._is_initial or t > n:
            return _current_lrs(self.optimizer)
        # factor(t) / factor(t-1) with factor(t) = s + (e - s) t / n
        ratio = 1.0 + (e - s) / (n * s + (t - 1) * (e - s))
        return [group["lr"] * ratio for group in self.optimizer.param_groups]

    def closed_form_lr(self) -> list[float | Tensor]:
        r"""The closed form :math:`\eta_0 (s + (e-s)\min(t,N)/N)` at ``t = last_epoch``."""
        t, s, e, n = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
        return [base * (s + (e - s) * min(n, t) / n) for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    r"""Polynomial decay to zero over ``total_iters`` steps.

    .. math:: \eta_t = \eta_0 \Bigl(1 - \frac{\min(t, N)}{N}\Bigr)^{p}

    with :math:`N` = ``total_iters`` and :math:`p` = ``power`` (:math:`p = 1`: linear decay to 0).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    total_iters : int, default 5
        Number of decay steps :math:`N`; the rate stays at 0 afterwards.
    power : float, default 1.0
        Power :math:`p` of the polynomial.
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).
    """

    def __init__(
        self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1
    ) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        """Scale the current rates by the ratio of consecutive values of the polynomial."""
        t, n = self.last_epoch, self.total_iters
        if self._is_initial or t > n:
            return _current_lrs(self.optimizer)
        ratio = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** self.power
        return [group["lr"] * ratio for group in self.optimizer.param_groups]

    def closed_form_lr(self) -> list[float | Tensor]:
        r"""The closed form :math:`\eta_0 (1 - \min(t,N)/N)^p` at ``t = last_epoch``."""
        t, n = self.last_epoch, self.total_iters
        return [base * (1.0 - min(n, t) / n) ** self.power for base in self.base_lrs]


def _per_group(optimizer: Optimizer, lr_lambda: Any) -> list:
    """One function per parameter group, as torch's ``LambdaLR`` and ``MultiplicativeLR`` accept them: a single
    function shared by every group, or a list with one entry per group (torch's error message otherwise)."""
    if isinstance(lr_lambda, list | tuple):
        if len(lr_lambda) != len(optimizer.param_groups):
            raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
        return list(lr_lambda)
    return [lr_lambda] * len(optimizer.param_groups)


class LambdaLR(LRScheduler):
    r"""Learning rate :math:`\eta_t = \eta_0\, \lambda(t)` for a user function :math:`\lambda`.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    lr_lambda : callable or list of callables
        :math:`\lambda(t)`, one function for all groups or one per param group.
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).

    Raises
    ------
    ValueError
        If a list of functions does not have one entry per param group.

    Notes
    -----
    :meth:`state_dict` saves the attributes of callable *objects* but not plain functions or lambdas (which
    cannot be serialised): pass the same functions again when restoring.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _per_group(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        """Return :math:`\\eta_0 \\lambda(t)` for every group."""
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs, strict=True)]

    def state_dict(self) -> dict[str, Any]:
        """The attributes, with the ``__dict__`` of callable objects in place of the functions."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else fn.__dict__.copy() for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the attributes (and the state of callable-object lambdas) saved by :meth:`state_dict`."""
        lambdas_state = state_dict["lr_lambdas"]
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "lr_lambdas"})
        for fn, fn_state in zip(self.lr_lambdas, lambdas_state, strict=True):
            if fn_state is not None:
                fn.__dict__.update(fn_state)


class WarmupCosine(LRScheduler):
    r"""Linear warmup for :math:`W` steps, then cosine decay to :math:`\eta_{\min}` at step :math:`T`.

    .. math::
        \eta_t = \begin{cases}
            \eta_0 \, \dfrac{t + 1}{W} & 0 \le t < W, \\[1ex]
            \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
                \Bigl(1 + \cos\bigl(\pi \tfrac{t - W}{T - W}\bigr)\Bigr) & W \le t \le T, \\[1ex]
            \eta_{\min} & t > T.
        \end{cases}

    The warmup climbs in equal increments :math:`\eta_0 / W` and reaches :math:`\eta_0` at :math:`t = W - 1`;
    the cosine starts at :math:`\eta_0` at :math:`t = W`. ``warmup_steps=0`` is plain cosine annealing that then
    stays at :math:`\eta_{\min}`. (The same sequence as torch's ``SequentialLR`` of ``LinearLR(start_factor=1/W,
    total_iters=W-1)`` and ``CosineAnnealingLR(T_max=T-W)`` with milestone :math:`W`, up to rounding.)

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    warmup_steps : int
        Length :math:`W \ge 0` of the warmup.
    total_steps : int
        Step :math:`T > W` at which the cosine reaches :math:`\eta_{\min}`.
    eta_min : float, default 0.0
        Final learning rate :math:`\eta_{\min} \ge 0`.
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).

    Raises
    ------
    ValueError
        If ``warmup_steps < 0``, ``total_steps <= warmup_steps`` or ``eta_min < 0``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_steps: int,
        total_steps: int,
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if warmup_steps < 0:
            raise ValueError(f"Invalid warmup_steps: {warmup_steps} (must be >= 0)")
        if total_steps <= warmup_steps:
            raise ValueError(
                f"Invalid total_steps: {total_steps} (must be greater than warmup_steps={warmup_steps})"
            )
        if eta_min < 0:
            raise ValueError(f"Invalid eta_min: {eta_min} (must be >= 0)")
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        """Return the warmup or cosine value at ``t = last_epoch`` for every group."""
        t, W, T, eta_min = self.last_epoch, self.warmup_steps, self.total_steps, self.eta_min
        if t < W:
            return [base * (t + 1) / W for base in self.base_lrs]
        progress = min(t - W, T - W) / (T - W)
        return [eta_min + (base - eta_min) * (1 + math.cos(math.pi * progress)) / 2 for base in self.base_lrs]


class InverseTimeLR(LRScheduler):
    r"""Inverse-time decay :math:`\eta_t = \eta_0 / (1 + t/\tau)^{p}` (the Robbins–Monro family).

    For :math:`1/2 < p \le 1` the step sizes satisfy the Robbins–Monro conditions
    :math:`\sum_t \eta_t = \infty` (the iterates can travel any distance) and :math:`\sum_t \eta_t^2 < \infty`
    (the injected gradient noise has finite total variance), under which SGD converges to a minimiser instead of
    hovering at a noise floor. :math:`\tau` sets when the decay starts to bite: :math:`\eta_\tau = \eta_0 / 2^p`.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    tau : float
        Time scale :math:`\tau > 0`, in steps.
    power : float, default 1.0
        Exponent :math:`p > 0` (``1``: the classic :math:`\eta_0 / (1 + t/\tau)`).
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).

    Raises
    ------
    ValueError
        If ``tau <= 0`` or ``power <= 0``.
    """

    def __init__(self, optimizer: Optimizer, tau: float, power: float = 1.0, last_epoch: int = -1) -> None:
        if not tau > 0:
            raise ValueError(f"Invalid tau: {tau} (must be > 0)")
        if not power > 0:
            raise ValueError(f"Invalid power: {power} (must be > 0)")
        self.tau = tau
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        """Return :math:`\\eta_0 / (1 + t/\\tau)^p` for every group."""
        factor = (1.0 + self.last_epoch / self.tau) ** (-self.power)
        return [base * factor for base in self.base_lrs]


class MultiplicativeLR(LRScheduler):
    r"""Multiply the learning rate by a user factor at every step: :math:`\eta_t = \eta_{t-1}\, \lambda(t)`.

    .. math:: \eta_t = \eta_0 \prod_{k=1}^{t} \lambda(k)

    Unlike :class:`LambdaLR` (:math:`\eta_t = \eta_0 \lambda(t)`), the factors *compound*: a constant
    :math:`\lambda(k) = \gamma` gives :class:`ExponentialLR`.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    lr_lambda : callable or list of callables
        The factor :math:`\lambda(t)` applied at step :math:`t \ge 1`, one function for all groups or one per group.
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).

    Raises
    ------
    ValueError
        If a list of functions does not have one entry per param group.
    TypeError
        If a factor is not callable.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _per_group(optimizer, lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        r"""Multiply the current rates by :math:`\lambda(t)` (except in the constructor's step)."""
        if self._is_initial:
            return _current_lrs(self.optimizer)
        return [
            group["lr"] * fn(self.last_epoch)
            for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups, strict=True)
        ]

    def closed_form_lr(self) -> list[float | Tensor]:
        r"""The product :math:`\eta_0 \prod_{k=1}^{t} \lambda(k)` at ``t = last_epoch``."""
        out = []
        for fn, base in zip(self.lr_lambdas, self.base_lrs, strict=True):
            factor = 1.0
            for k in range(1, self.last_epoch + 1):
                factor *= fn(k)
            out.append(base * factor)
        return out

    state_dict = LambdaLR.state_dict
    load_state_dict = LambdaLR.load_state_dict


class ConstantLR(LRScheduler):
    r"""Multiply the learning rate by a constant ``factor`` for the first ``total_iters`` steps.

    .. math:: \eta_t = \begin{cases} c\, \eta_0 & t < N, \\ \eta_0 & t \ge N, \end{cases}

    with :math:`c` = ``factor`` and :math:`N` = ``total_iters``: a *constant* warmup (Goyal et al. 2017's first,
    rejected variant; He et al. 2016 used :math:`c = 0.1` for their 110-layer ResNet).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    factor : float, default 1/3
        Factor :math:`c \in [0, 1]`.
    total_iters : int, default 5
        Number of steps :math:`N` at the reduced rate.
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).

    Raises
    ------
    ValueError
        If ``factor`` is not in [0, 1].
    """

    def __init__(
        self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1
    ) -> None:
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        """Scale by ``factor`` at t = 0 and by 1/``factor`` at t = ``total_iters``; otherwise keep the rates."""
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return _current_lrs(self.optimizer)
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def closed_form_lr(self) -> list[float | Tensor]:
        r"""The closed form :math:`c\,\eta_0` before :math:`N`, :math:`\eta_0` from :math:`N` on."""
        return [base * (self.factor if self.last_epoch < self.total_iters else 1.0) for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    .. math:: \eta_t = \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
              \bigl(1 + \cos(\pi\, T_{\text{cur}} / T_i)\bigr)

    where :math:`T_{\text{cur}}` counts the steps since the last restart and :math:`T_i` is the length of the
    current cycle: :math:`T_0` for the first, multiplied by :math:`T_{\text{mult}}` at every restart. At a restart
    the rate jumps back to :math:`\eta_0`. Cycle :math:`i` (from 0) starts at step
    :math:`T_0 (T_{\text{mult}}^i - 1)/(T_{\text{mult}} - 1)` (:math:`i T_0` when :math:`T_{\text{mult}} = 1`).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    T_0 : int
        Length of the first cycle, in steps (a positive integer).
    T_mult : int, default 1
        Growth factor of the cycle length (an integer :math:`\ge 1`).
    eta_min : float, default 0.0
        Minimum learning rate :math:`\eta_{\min}`.
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).

    Raises
    ------
    ValueError
        With torch's messages, if ``T_0`` or ``T_mult`` is not a valid integer or ``eta_min`` is not a number.
    """

    def __init__(
        self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, float | int):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def step(self) -> None:
        r"""Advance :math:`T_{\text{cur}}` by one step, restarting when it reaches :math:`T_i`."""
        if self.last_epoch < 0:
            self.T_cur = 0
        else:
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        super().step()

    def get_lr(self) -> list[float | Tensor]:
        r"""The cosine of the current cycle at :math:`T_{\text{cur}}`."""
        cos = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base - self.eta_min) * cos / 2 for base in self.base_lrs]

    def closed_form_lr(self) -> list[float | Tensor]:
        r"""The rate at ``t = last_epoch`` from the cycle arithmetic alone (no running counters)."""
        t, T_0, mult = self.last_epoch, self.T_0, self.T_mult
        if mult == 1:
            T_i, T_cur = T_0, t % T_0
        else:
            start, T_i = 0, T_0
            while t >= start + T_i:
                start, T_i = start + T_i, T_i * mult
            T_cur = t - start
        cos = 1 + math.cos(math.pi * T_cur / T_i)
        return [self.eta_min + (base - self.eta_min) * cos / 2 for base in self.base_lrs]


class WarmupStableDecay(LRScheduler):
    r"""Warmup–stable–decay ("trapezoidal") schedule: linear warmup, a long constant phase, a short linear decay.

    .. math::
        \eta_t = \begin{cases}
            \eta_0 \, \dfrac{t + 1}{W} & 0 \le t < W, \\[1ex]
            \eta_0 & W \le t < T - D, \\[1ex]
            \eta_{\min} + (\eta_0 - \eta_{\min}) \, \dfrac{T - t}{D} & T - D \le t \le T, \\[1ex]
            \eta_{\min} & t > T.
        \end{cases}

    The warmup is :class:`WarmupCosine`'s; the decay falls in equal decrements from :math:`\eta_0` at
    :math:`t = T - D` to :math:`\eta_{\min}` at :math:`t = T`. Because the constant phase does not depend on
    :math:`T`, a run can be continued from any checkpoint of the stable phase and decayed later (Hu et al. 2024;
    Hägele et al. 2024). Torch has no such class; ``SequentialLR`` of ``LinearLR`` pieces gives the same rates.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    warmup_steps : int
        Length :math:`W \ge 0` of the warmup.
    decay_steps : int
        Length :math:`D \ge 1` of the final decay.
    total_steps : int
        Step :math:`T \ge W + D` at which the decay reaches :math:`\eta_{\min}`.
    eta_min : float, default 0.0
        Final learning rate :math:`\eta_{\min} \ge 0`.
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).

    Raises
    ------
    ValueError
        If ``warmup_steps < 0``, ``decay_steps < 1``, ``total_steps < warmup_steps + decay_steps`` or
        ``eta_min < 0``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_steps: int,
        decay_steps: int,
        total_steps: int,
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if warmup_steps < 0:
            raise ValueError(f"Invalid warmup_steps: {warmup_steps} (must be >= 0)")
        if decay_steps < 1:
            raise ValueError(f"Invalid decay_steps: {decay_steps} (must be >= 1)")
        if total_steps < warmup_steps + decay_steps:
            raise ValueError(
                f"Invalid total_steps: {total_steps} (must be at least warmup_steps + decay_steps = "
                f"{warmup_steps + decay_steps})"
            )
        if eta_min < 0:
            raise ValueError(f"Invalid eta_min: {eta_min} (must be >= 0)")
        self.warmup_steps = warmup_steps
        self.decay_steps = decay_steps
        self.total_steps = total_steps
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | Tensor]:
        """Return the warmup, stable or decay value at ``t = last_epoch`` for every group."""
        t, W, D, T, eta_min = (
            self.last_epoch,
            self.warmup_steps,
            self.decay_steps,
            self.total_steps,
            self.eta_min,
        )
        if t < W:
            return [base * (t + 1) / W for base in self.base_lrs]
        if t < T - D:
            return list(self.base_lrs)
        remaining = max(T - t, 0) / D
        return [eta_min + (base - eta_min) * remaining for base in self.base_lrs]


def lr_sequence(
    scheduler: Callable[..., LRScheduler], num_steps: int, lr: float = 1.0, **kwargs: Any
) -> np.ndarray:
    r"""The learning rates :math:`\eta_0, \dots, \eta_{\text{num\_steps}-1}` a schedule produces.

    Attaches the schedule to a throw-away one-parameter SGD optimizer and steps it, which is handy for plotting.

    Parameters
    ----------
    scheduler : callable
        A scheduler class (or any ``f(optimizer, **kwargs) -> LRScheduler``), e.g. :class:`StepLR`.
    num_steps : int
        Number of learning rates to return (>= 1).
    lr : float, default 1.0
        Initial learning rate :math:`\eta_0`.
    **kwargs
        Arguments of the scheduler, e.g. ``step_size=30``.

    Returns
    -------
    numpy.ndarray
        Shape ``(num_steps,)``, float64: the learning rate used at steps :math:`t = 0, \dots`.

    Raises
    ------
    ValueError
        If ``num_steps < 1``.
    """
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = scheduler(optimizer, **kwargs)
    out = np.empty(num_steps)
    for t in range(num_steps):
        out[t] = float(sched.get_last_lr()[0])
        optimizer.step()  # a no-op (no gradient), in the order torch's schedulers expect
        sched.step()
    return out
