r"""Averaging the iterates of an optimizer, written from scratch (chapter "Averaging, continuation and pretraining").

An optimizer produces iterates :math:`\theta_1, \theta_2, \dots` (the parameters after each step :math:`t`). With a
constant learning rate :math:`\eta` and noisy gradients they never settle: they keep bouncing around the minimum at
a *noise floor*. An average of the iterates cancels much of that noise:

- **Polyak averaging** (Polyak & Juditsky 1992; Ruppert 1988): the uniform running mean
  :math:`\bar\theta_t = \frac1t \sum_{s=1}^t \theta_s`, updated as
  :math:`\bar\theta_t = \bar\theta_{t-1} + (\theta_t - \bar\theta_{t-1}) / t` (:func:`polyak_update_`);
- **exponential moving average** (EMA) with decay :math:`\beta_{\text{ema}} \in [0, 1]` (torch's ``decay``):
  :math:`\tilde\theta_t = \beta_{\text{ema}} \tilde\theta_{t-1} + (1 - \beta_{\text{ema}}) \theta_t`, a window of
  about :math:`1 / (1 - \beta_{\text{ema}})` recent iterates (:func:`ema_update_`);
- **stochastic weight averaging** (SWA, Izmailov et al. 2018): Polyak averaging of the iterates from a start step
  :math:`t_{\text{swa}}` on, along a constant (:class:`SWALR`) or cyclic (:func:`swa_cyclic_lr`) learning rate,
  after which the batch-normalization statistics of the averaged network are recomputed (:func:`update_bn`).

:class:`AveragedModel` keeps :math:`\bar\theta_t` (or :math:`\tilde\theta_t`) of a ``torch.nn.Module`` — its
parameters, and with ``use_buffers=True`` its buffers too. Everything here computes the same tensors as
``torch.optim.swa_utils`` (``AveragedModel``'s default average, ``get_ema_multi_avg_fn``, ``SWALR``, ``update_bn``)
from the same inputs; ``tests/course_pkg/test_averaging.py`` checks it in float64 in lockstep.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.optim import Optimizer

from course_pkg.optim.schedules import LRScheduler

__all__ = [
    "AveragedModel",
    "SWALR",
    "check_decay",
    "ema_path",
    "ema_update_",
    "polyak_path",
    "polyak_update_",
    "swa_cyclic_lr",
    "update_bn",
]


def check_decay(decay: float) -> float:
    """Return ``decay`` if it is a valid EMA decay :math:`\\beta_{\\text{ema}} \\in [0, 1]` (torch's message if not)."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")
    return decay


# -- the two update rules, in place on lists of tensors -----------------------------------------------------------
@torch.no_grad()
def polyak_update_(averaged: Sequence[Tensor], current: Sequence[Tensor], n_averaged: int) -> None:
    r"""One step of the uniform running mean, in place: :math:`\bar\theta \leftarrow \bar\theta + (\theta -
    \bar\theta) / (n + 1)`, where :math:`n` iterates have been averaged so far.

    After the call, ``averaged`` is the mean of the :math:`n + 1` iterates. Integer tensors (a BatchNorm's
    ``num_batches_tracked`` when buffers are averaged) are averaged in floating point and truncated back, as torch
    does.
    """
    for a, theta in zip(averaged, current, strict=True):
        a.copy_(a + (theta - a) / (n_averaged + 1))


@torch.no_grad()
def ema_update_(averaged: Sequence[Tensor], current: Sequence[Tensor], decay: float) -> None:
    r"""One step of the exponential moving average, in place:
    :math:`\tilde\theta \leftarrow \beta_{\text{ema}} \tilde\theta + (1 - \beta_{\text{ema}}) \theta`.

    Floating-point tensors are updated as :math:`\tilde\theta + (1 - \beta_{\text{ema}})(\theta - \tilde\theta)`
    (``Tensor.lerp_``, the same arithmetic as ``torch.optim.swa_utils.get_ema_multi_avg_fn``); integer tensors are
    averaged in floating point and truncated back.
    """
    check_decay(decay)
    for a, theta in zip(averaged, current, strict=True):
        if torch.is_floating_point(a) or torch.is_complex(a):
            a.lerp_(theta, 1 - decay)
        else:
            a.copy_(a * decay + theta * (1 - decay))


# -- a model that holds the average ------------------------------------------------------------------------------
class AveragedModel(torch.nn.Module):
    r"""A copy of a network that holds the average of its iterates: Polyak (``decay=None``) or EMA.

    Call :meth:`update_parameters` after each optimizer step you want to average (from step
    :math:`t_{\text{swa}}` on for SWA). The first call copies the model: :math:`\bar\theta_1 = \theta_1`. Each
    later call applies

    .. math:: \bar\theta_t = \bar\theta_{t-1} + \frac{\theta_t - \bar\theta_{t-1}}{t}
              \quad\text{(Polyak)}, \qquad
              \tilde\theta_t = \beta_{\text{ema}}\tilde\theta_{t-1} + (1 - \beta_{\text{ema}})\,\theta_t
              \quad\text{(EMA)},

    where :math:`t` counts the calls (``n_averaged``). This is ``torch.optim.swa_utils.AveragedModel(model)``
    (default average) and ``AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))``.

    Parameters
    ----------
    model : torch.nn.Module
        The network being trained; it is deep-copied.
    decay : float or None, default None
        ``None`` for the uniform (Polyak, SWA) average; otherwise the EMA decay :math:`\beta_{\text{ema}}` in
        :math:`[0, 1]`.
    use_buffers : bool, default False
        Average the buffers (BatchNorm's running statistics) with the same rule as the parameters. If ``False``,
        each update copies the model's buffers as they are, and the averaged network needs :func:`update_bn`.
    device : torch.device or str, optional
        Where to keep the averaged copy.

    Raises
    ------
    ValueError
        If ``decay`` is outside :math:`[0, 1]` (torch's message), or if :meth:`update_parameters` receives a model
        whose tensors do not match the averaged copy's.
    """

    n_averaged: Tensor

    def __init__(
        self,
        model: torch.nn.Module,
        decay: float | None = None,
        use_buffers: bool = False,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if decay is not None:
            check_decay(decay)
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", torch.tensor(0, dtype=torch.long, device=device))
        self.decay = decay
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The averaged network's forward pass."""
        return self.module(*args, **kwargs)

    def _averaged_tensors(self, module: torch.nn.Module) -> list[Tensor]:
        tensors = list(module.parameters())
        if self.use_buffers:
            tensors += list(module.buffers())
        return tensors

    @torch.no_grad()
    def update_parameters(self, model: torch.nn.Module) -> None:
        """Average the current parameters (and buffers, with ``use_buffers``) of ``model`` in."""
        mine = [t.detach() for t in self._averaged_tensors(self.module)]
        theirs = [t.detach() for t in self._averaged_tensors(model)]
        if len(mine) != len(theirs) or any(a.shape != b.shape for a, b in zip(mine, theirs, strict=False)):
            raise ValueError(
                f"the model's {len(theirs)} tensors do not match the {len(mine)} tensors of the averaged copy "
                "(pass the network the AveragedModel was built from)"
            )
        theirs = [b.to(a.device) for a, b in zip(mine, theirs, strict=True)]
        n = int(self.n_averaged)
        if n == 0:
            for a, b in zip(mine, theirs, strict=True):
                a.copy_(b)
        elif self.decay is None:
            polyak_update_(mine, theirs, n)
        else:
            ema_update_(mine, theirs, self.decay)
        if not self.use_buffers:
            for a, b in zip(self.module.buffers(), model.buffers(), strict=True):
                a.detach().copy_(b.detach().to(a.device))
        self.n_averaged += 1


# -- BatchNorm statistics of the averaged network -----------------------------------------------------------------
@torch.no_grad()
def update_bn(
    loader: Iterable[Any], model: torch.nn.Module, device: torch.device | str | None = None
) -> None:
    r"""Recompute the running mean and variance of every BatchNorm layer of ``model`` with one pass over ``loader``.

    The statistics a BatchNorm layer kept while training belong to the networks it saw, not to the averaged one:
    the average of the weights is a different function. For each BatchNorm layer this pass records, for each batch
    :math:`k = 1, \dots, K`, the per-channel mean :math:`\mu_k` and the unbiased variance :math:`s^2_k` of the
    layer's input (in training mode, so that later layers see batch-normalized inputs) and sets

    .. math:: \text{running\_mean} = \frac1K \sum_{k=1}^K \mu_k, \qquad
              \text{running\_var} = \frac1K \sum_{k=1}^K s^2_k, \qquad \text{num\_batches\_tracked} = K,

    computed as the running mean :math:`r \leftarrow (1 - \frac1k) r + \frac1k x` (what
    ``torch.optim.swa_utils.update_bn`` gets from BatchNorm's cumulative average, ``momentum=None``). The
    layers' own running-statistics update is switched off during the pass.

    Parameters
    ----------
    loader : iterable
        Batches: tensors, or lists/tuples whose first element is the input tensor.
    model : torch.nn.Module
        The network (for SWA: ``AveragedModel.module`` or the ``AveragedModel`` itself). Its training/eval mode is
        restored afterwards.
    device : torch.device or str, optional
        Where to move each batch before the forward pass.
    """
    layers = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    layers = [m for m in layers if m.track_running_stats]
    if not layers:
        return
    counts = {m: 0 for m in layers}
    mean = {m: torch.zeros_like(m.running_mean) for m in layers}
    var = {m: torch.ones_like(m.running_var) for m in layers}

    def record(module: torch.nn.Module, inputs: tuple[Tensor, ...]) -> None:
        x = inputs[0]
        dims = [0] + list(range(2, x.dim()))  # every dimension but the channels
        k = counts[module] + 1
        counts[module] = k
        batch_mean = x.mean(dim=dims)
        batch_var = x.var(dim=dims, unbiased=True)
        mean[module] = (1 - 1 / k) * mean[module] + (1 / k) * batch_mean
        var[module] = (1 - 1 / k) * var[module] + (1 / k) * batch_var

    was_training = model.training
    hooks = [m.register_forward_pre_hook(record) for m in layers]
    for m in layers:
        m.track_running_stats = False  # batch statistics in the forward pass, no update of the buffers
    try:
        model.train()
        for batch in loader:
            x = batch[0] if isinstance(batch, list | tuple) else batch
            if device is not None:
                x = x.to(device)
            model(x)
    finally:
        for h in hooks:
            h.remove()
        for m in layers:
            m.track_running_stats = True
        model.train(was_training)
    for m in layers:
        m.running_mean.copy_(mean[m])
        m.running_var.copy_(var[m])
        m.num_batches_tracked.fill_(counts[m])


# -- SWA learning rates --------------------------------------------------------------------------------------------
class SWALR(LRScheduler):
    r"""Anneal each group's learning rate from its current value to a constant :math:`\eta_{\text{swa}}`.

    Over ``anneal_epochs`` = :math:`A` scheduler steps the rate moves from :math:`\eta_0` (the rate when the
    scheduler is created) to :math:`\eta_{\text{swa}}` and then stays there:

    .. math:: \eta_t = \alpha(t)\,\eta_{\text{swa}} + (1 - \alpha(t))\,\eta_0, \qquad
              \alpha(t) = a\big(\min(1, t / A)\big),

    with :math:`a(u) = (1 - \cos(\pi u))/2` (``"cos"``) or :math:`a(u) = u` (``"linear"``); :math:`A = 0` jumps to
    :math:`\eta_{\text{swa}}` at the first step. Like torch, the rate is computed *recursively* from the rate in
    the optimizer (it recovers :math:`\eta_0` from the previous step's :math:`\alpha`), so the floating-point
    sequence is ``torch.optim.swa_utils.SWALR``'s; :meth:`closed_form_lr` is the formula above.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Wrapped optimizer.
    swa_lr : float or list of float
        :math:`\eta_{\text{swa}}`, for all groups or one per group (stored as ``group["swa_lr"]``).
    anneal_epochs : int, default 10
        :math:`A \ge 0`, the number of steps of the annealing phase.
    anneal_strategy : {"cos", "linear"}, default "cos"
    last_epoch : int, default -1
        Index of the last step (``-1``: fresh start).

    Raises
    ------
    ValueError
        torch's messages: a list of ``swa_lr`` of the wrong length, an unknown ``anneal_strategy``, a negative
        or non-integer ``anneal_epochs``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        swa_lr: float | Sequence[float],
        anneal_epochs: int = 10,
        anneal_strategy: str = "cos",
        last_epoch: int = -1,
    ) -> None:
        groups = optimizer.param_groups
        if isinstance(swa_lr, list | tuple):
            if len(swa_lr) != len(groups):
                raise ValueError(
                    f"swa_lr must have the same length as optimizer.param_groups. "
                    f"swa_lr has {len(swa_lr)} values, param_groups has {len(groups)}."
                )
            swa_lrs = list(swa_lr)
        else:
            swa_lrs = [swa_lr] * len(groups)
        for value, group in zip(swa_lrs, groups, strict=True):
            group["swa_lr"] = value.clone() if isinstance(value, Tensor) else value
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_strategy = anneal_strategy
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal(self, u: float) -> float:
        """The annealing curve :math:`a(u)` for :math:`u \\in [0, 1]`."""
        return (1 - math.cos(math.pi * u)) / 2 if self.anneal_strategy == "cos" else u

    def _alpha(self, step: int) -> float:
        return self.anneal(max(0, min(1, step / max(1, self.anneal_epochs))))

    def get_lr(self) -> list[float | Tensor]:
        """One step of the recursion: recover :math:`\\eta_0` from the current rate, then apply the new alpha."""
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self._alpha(step - 1)
        alpha = self._alpha(step)
        out = []
        for group in self.optimizer.param_groups:
            lr, swa = group["lr"], group["swa_lr"]
            base = swa if prev_alpha == 1 else (lr - prev_alpha * swa) / (1 - prev_alpha)
            out.append(swa * alpha + base * (1 - alpha))
        return out

    def closed_form_lr(self) -> list[float | Tensor]:
        r"""The closed form :math:`\alpha(t)\eta_{\text{swa}} + (1 - \alpha(t))\eta_0` at ``last_epoch``."""
        step = self.last_epoch if self.anneal_epochs > 0 else max(1, self.last_epoch)
        alpha = self._alpha(step)
        return [
            group["swa_lr"] * alpha + base * (1 - alpha)
            for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True)
        ]


def swa_cyclic_lr(t: int, lr_max: float, lr_min: float, cycle: int) -> float:
    r"""The cyclic learning rate of SWA (Izmailov et al. 2018): a linear decay from :math:`\eta_{\max}` to
    :math:`\eta_{\min}` within each cycle of :math:`T_{\text{cyc}}` steps,

    .. math:: \eta_t = (1 - u(t))\,\eta_{\max} + u(t)\,\eta_{\min}, \qquad
              u(t) = \frac{((t - 1) \bmod T_{\text{cyc}}) + 1}{T_{\text{cyc}}},

    so that :math:`\eta_t = \eta_{\min}` at the end of each cycle (:math:`t` a multiple of :math:`T_{\text{cyc}}`),
    where SWA averages the iterate in. :math:`T_{\text{cyc}} = 1` is the constant rate :math:`\eta_{\min}`.

    Raises
    ------
    ValueError
        If ``t < 1`` or ``cycle < 1``.
    """
    if t < 1:
        raise ValueError(f"the step t starts at 1, got {t}")
    if cycle < 1:
        raise ValueError(f"cycle must be >= 1, got {cycle}")
    u = (((t - 1) % cycle) + 1) / cycle
    return (1 - u) * lr_max + u * lr_min


# -- the same averages of a stored trajectory (numpy), for the chapter's experiments -------------------------------
def polyak_path(iterates: np.ndarray, start: int = 1) -> np.ndarray:
    r"""Polyak averages of a trajectory: row :math:`t` of the result is
    :math:`\bar\theta_t = \frac{1}{t - t_{\text{swa}} + 1}\sum_{s=t_{\text{swa}}}^{t} \theta_s` for
    :math:`t \ge t_{\text{swa}}` (``start``) and :math:`\theta_t` before.

    Parameters
    ----------
    iterates : numpy.ndarray
        Shape ``(T, ...)``: row ``t - 1`` is :math:`\theta_t`.
    start : int, default 1
        :math:`t_{\text{swa}} \ge 1`, the first iterate averaged (1: every iterate; later: tail averaging, SWA).
    """
    x = np.asarray(iterates, dtype=np.float64)
    if start < 1:
        raise ValueError(f"start must be >= 1 (the first step), got {start}")
    out = x.copy()
    if start <= x.shape[0]:
        tail = np.cumsum(x[start - 1 :], axis=0)
        counts = np.arange(1, tail.shape[0] + 1).reshape((-1,) + (1,) * (x.ndim - 1))
        out[start - 1 :] = tail / counts
    return out


def ema_path(iterates: np.ndarray, decay: float) -> np.ndarray:
    r"""EMA of a trajectory: :math:`\tilde\theta_1 = \theta_1`,
    :math:`\tilde\theta_t = \beta_{\text{ema}}\tilde\theta_{t-1} + (1 - \beta_{\text{ema}})\theta_t`."""
    check_decay(decay)
    x = np.asarray(iterates, dtype=np.float64)
    out = np.empty_like(x)
    if x.shape[0]:
        out[0] = x[0]
    if x.shape[0] > 1:
        from scipy.signal import lfilter

        # the recursion over t as a linear filter: y_t = (1 - β) x_t + β y_{t-1}, the same operations as a loop
        out[1:] = lfilter([1 - decay], [1.0, -decay], x[1:], axis=0, zi=decay * x[:1])[0]
    return out
