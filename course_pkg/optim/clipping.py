r"""Gradient clipping, written to reproduce ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``.

Clipping by norm rescales *all* gradients together so that their joint norm is at most the threshold :math:`\tau`
(``max_norm``):

.. math::
    \|g_t\| = \Bigl\| \bigl(\|g_t^{(1)}\|, \|g_t^{(2)}\|, \dots\bigr) \Bigr\|, \qquad
    g_t \leftarrow g_t \cdot \min\Bigl(1, \frac{\tau}{\|g_t\| + 10^{-6}}\Bigr),

where :math:`g_t^{(l)}` is the gradient of the :math:`l`-th parameter tensor and every norm is of
order ``norm_type`` (2 by default; the norm of the norms equals the norm of all gradients concatenated into one
vector). The direction of the update is kept; only its length is capped. Clipping by value clamps every coordinate
into :math:`[-\tau, \tau]` instead, which changes the direction.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

__all__ = ["NonFiniteNormError", "clip_grad_norm_", "clip_grad_value_"]


class NonFiniteNormError(RuntimeError, ValueError):
    """The total gradient norm is NaN or infinite (raised by ``clip_grad_norm_(..., error_if_nonfinite=True)``).

    It is a ``RuntimeError`` like torch's, and also a ``ValueError``.
    """


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    """The gradients of ``parameters`` that exist (parameters whose ``grad`` is None are skipped)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


@torch.no_grad()
def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    r"""Rescale the gradients in place so that their total norm (of order ``norm_type``) is at most ``max_norm``.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensors
        Parameters whose ``.grad`` are clipped (those with ``grad is None`` are ignored).
    max_norm : float
        Largest allowed total norm, the clipping threshold :math:`\tau \ge 0`.
    norm_type : float or "inf", default 2.0
        The order of the norm, a positive number; ``float("inf")`` or ``"inf"`` for the max-norm.
    error_if_nonfinite : bool, default False
        Raise instead of scaling when the total norm is NaN or infinite.
    foreach : bool or None, default None
        Accepted for compatibility with torch and ignored (this version loops over the tensors).

    Returns
    -------
    Tensor
        The total norm :math:`\|g_t\|_p` of the gradients *before* clipping (0-dim; ``tensor(0.)`` when there
        is no gradient).

    Raises
    ------
    ValueError
        If ``max_norm < 0`` or ``norm_type`` is not positive.
    NonFiniteNormError
        If ``error_if_nonfinite`` and the total norm is NaN or infinite.
    """
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if max_norm < 0:
        raise ValueError(f"max_norm must be non-negative, got {max_norm}")
    if not norm_type > 0:
        raise ValueError(f"norm_type must be positive (or inf), got {norm_type}")
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    first_device = grads[0].device
    per_tensor = [torch.linalg.vector_norm(g, norm_type) for g in grads]
    total_norm = torch.linalg.vector_norm(torch.stack([n.to(first_device) for n in per_tensor]), norm_type)
    if error_if_nonfinite and not torch.isfinite(total_norm):
        raise NonFiniteNormError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
            "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    # min(1, c / (norm + 1e-6)) as a tensor: no `if`, hence no device-to-host synchronisation on a GPU
    clip_coef = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    for g in grads:
        g.mul_(clip_coef.to(g.device))
    return total_norm


@torch.no_grad()
def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None
) -> None:
    r"""Clamp every gradient coordinate into :math:`[-\tau, \tau]`, in place.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensors
        Parameters whose ``.grad`` are clipped (those with ``grad is None`` are ignored).
    clip_value : float
        The bound :math:`\tau \ge 0`.
    foreach : bool or None, default None
        Accepted for compatibility with torch and ignored.

    Raises
    ------
    ValueError
        If ``clip_value < 0``.
    """
    clip_value = float(clip_value)
    if clip_value < 0:
        raise ValueError(f"clip_value must be non-negative, got {clip_value}")
    for g in _grads(parameters):
        g.clamp_(min=-clip_value, max=clip_value)
