r"""Gradient accumulation: emulate a batch :math:`k` times larger than what fits in memory.

The gradient of the mean loss over a minibatch :math:`\mathcal B_t` of size :math:`B`, split into :math:`k`
micro-batches :math:`\mathcal B^{(1)}, \dots, \mathcal B^{(k)}` of equal size, is the mean of the micro-batch
gradients:

.. math::
    \nabla_\theta \hat R_{\mathcal B_t}(\theta) = \nabla_\theta \frac{1}{B} \sum_{i \in \mathcal B_t} \ell_i(\theta)
    = \sum_{j=1}^{k} \nabla_\theta \frac{\hat R_{\mathcal B^{(j)}}(\theta)}{k}, \qquad
    \hat R_{\mathcal B^{(j)}}(\theta) = \frac{1}{|\mathcal B^{(j)}|} \sum_{i \in \mathcal B^{(j)}} \ell_i(\theta).

Because ``backward()`` *adds* into ``.grad``, calling ``(loss_j / k).backward()`` for every micro-batch and then
``optimizer.step()`` once gives the large-batch update (up to floating-point summation order), with the memory of
one micro-batch. Unequal micro-batches need the weights :math:`|\mathcal B^{(j)}| / B` instead of :math:`1/k`.
Layers whose output depends on the whole batch (batch normalisation) break the identity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

__all__ = ["accumulate", "GradientAccumulator"]


def accumulate(
    loss_fn: Callable[[Any], Tensor],
    micro_batches: Iterable[Any],
    sizes: Sequence[int] | None = None,
) -> Tensor:
    r"""Add the gradient of the whole-batch mean loss into ``.grad``, one micro-batch at a time.

    For each micro-batch :math:`\mathcal B^{(j)}`, evaluates :math:`\hat R_{\mathcal B^{(j)}}` =
    ``loss_fn(micro_batch)`` (the *mean* loss over the micro-batch) and back-propagates
    :math:`w_j \hat R_{\mathcal B^{(j)}}`, with :math:`w_j = 1/k` or, when ``sizes`` are given,
    :math:`w_j = |\mathcal B^{(j)}| / \sum_l |\mathcal B^{(l)}|`. Gradients are *added* to the existing ``.grad``: call
    ``optimizer.zero_grad()`` before and ``optimizer.step()`` after.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(micro_batch) -> Tensor``: the scalar mean loss on one micro-batch.
    micro_batches : iterable
        The :math:`k \ge 1` micro-batches (any objects ``loss_fn`` accepts, e.g. ``(x, y)`` pairs).
    sizes : sequence of int, optional
        Number of examples in each micro-batch, for micro-batches of unequal size.

    Returns
    -------
    Tensor
        The whole-batch mean loss :math:`\sum_j w_j \hat R_{\mathcal B^{(j)}}` (detached).

    Raises
    ------
    ValueError
        If there is no micro-batch, if ``sizes`` does not have one positive entry per micro-batch, or if a loss
        is not a scalar.
    """
    batches = list(micro_batches)
    k = len(batches)
    if k == 0:
        raise ValueError("accumulate needs at least one micro-batch, got none")
    if sizes is None:
        weights = [1.0 / k] * k
    else:
        if len(sizes) != k or any(s <= 0 for s in sizes):
            raise ValueError(f"sizes must hold one positive size per micro-batch ({k}), got {list(sizes)}")
        total = sum(sizes)
        weights = [s / total for s in sizes]
    weighted = []
    for batch, w in zip(batches, weights, strict=True):
        loss = loss_fn(batch)
        if loss.dim() != 0:
            raise ValueError(f"loss_fn must return a scalar (0-dim) loss, got shape {tuple(loss.shape)}")
        (loss * w).backward()
        weighted.append(loss.detach() * w)
    return torch.stack(weighted).sum()


class GradientAccumulator:
    r"""Step an optimizer once every ``accumulation_steps`` micro-batches, in an ordinary training loop.

    ``backward(loss)`` back-propagates ``loss / k`` (the micro-batch's mean loss divided by :math:`k`); on every :math:`k`-th call it also runs
    ``optimizer.step()`` and ``optimizer.zero_grad()``::

        acc = GradientAccumulator(optimizer, accumulation_steps=4)
        for x, y in loader:                   # micro-batches
            loss = loss_fn(model(x), y)       # mean over the micro-batch
            acc.backward(loss)                # steps every 4th call

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimizer to step (``zero_grad`` is called on it once at construction, so that stale gradients do
        not leak into the first update).
    accumulation_steps : int
        Number :math:`k \ge 1` of equal-size micro-batches per update.

    Raises
    ------
    ValueError
        If ``accumulation_steps < 1``.
    """

    def __init__(self, optimizer: Optimizer, accumulation_steps: int) -> None:
        if accumulation_steps < 1:
            raise ValueError(f"accumulation_steps must be >= 1, got {accumulation_steps}")
        self.optimizer = optimizer
        self.accumulation_steps = accumulation_steps
        self.micro_step = 0
        self.optimizer.zero_grad()

    def backward(self, loss: Tensor) -> bool:
        """Back-propagate ``loss / k``; step and zero the gradients after every ``k``-th micro-batch.

        Parameters
        ----------
        loss : Tensor
            Scalar mean loss on the current micro-batch.

        Returns
        -------
        bool
            True if this call performed an optimizer step.
        """
        (loss / self.accumulation_steps).backward()
        self.micro_step += 1
        if self.micro_step % self.accumulation_steps == 0:
            self.optimizer.step()
            self.optimizer.zero_grad()
            return True
        return False
