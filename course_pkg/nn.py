"""Initialization and normalization of deep networks, written from scratch.

- Initializers (chapter "Initialization and normalization"): :func:`glorot_uniform`, :func:`glorot_normal`
  (Glorot & Bengio, 2010: variance ``gain² · 2 / (fan_in + fan_out)``) and :func:`he_uniform`, :func:`he_normal`
  (He et al., 2015: variance ``gain² / fan``, ``gain² = 2`` for ReLU). Given the same :class:`torch.Generator`
  they return exactly the tensors of ``torch.nn.init.xavier_uniform_`` / ``xavier_normal_`` /
  ``kaiming_uniform_`` / ``kaiming_normal_``: the same bounds in the same float arithmetic, drawn by the same
  ``uniform_`` / ``normal_`` call.
- Normalization layers, forward and backward by hand (no autograd): :func:`batch_norm_forward`,
  :func:`batch_norm_backward` (training mode with batch statistics and the running-statistics update of
  ``torch.nn.BatchNorm1d``; eval mode with the running statistics) and :func:`layer_norm_forward`,
  :func:`layer_norm_backward` (``torch.nn.LayerNorm``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

__all__ = [
    "BatchNormCache",
    "LayerNormCache",
    "batch_norm_backward",
    "batch_norm_forward",
    "fans",
    "gain",
    "glorot_normal",
    "glorot_std",
    "glorot_uniform",
    "he_normal",
    "he_std",
    "he_uniform",
    "layer_norm_backward",
    "layer_norm_forward",
]

_LINEAR = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}


# -- initializers --------------------------------------------------------------------------------------------------
def _shape(shape: Sequence[int] | int) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in shape):
        raise ValueError(f"shape must be a sequence of non-negative ints, got {shape!r}")
    return shape


def fans(shape: Sequence[int]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``.

    A linear layer's weight is ``(out_features, in_features)``; a convolution's is ``(out_channels, in_channels,
    k₁, k₂, …)``, and each output unit sees ``in_channels · k₁ · k₂ · …`` inputs (its fan-in), each input reaches
    ``out_channels · k₁ · k₂ · …`` outputs (its fan-out).
    """
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(
            f"fan_in and fan_out need a weight with at least 2 dimensions (out, in, *kernel), got shape {shape}"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which an initializer's standard deviation is multiplied for a nonlinearity.

    ``linear``/``conv*``/``sigmoid``: 1; ``relu``: √2 (ReLU keeps half of a symmetric input's second moment);
    ``leaky_relu`` with negative slope ``a`` (``param``, default 0.01): √(2 / (1 + a²)); ``tanh``: 5/3;
    ``selu``: 3/4 (torch's values, ``torch.nn.init.calculate_gain``).
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _empty(shape: Sequence[int], dtype: torch.dtype) -> torch.Tensor:
    shape = _shape(shape)
    fans(shape)  # validates the number of dimensions
    return torch.empty(shape, dtype=dtype)


def glorot_std(shape: Sequence[int], gain: float = 1.0) -> float:
    """Glorot's standard deviation ``gain · √(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans(shape)
    if fan_in + fan_out == 0:
        raise ValueError(f"Glorot initialization needs fan_in + fan_out > 0, got shape {tuple(shape)}")
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


def he_std(
    shape: Sequence[int], a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> float:
    """He's standard deviation ``gain / √fan`` with ``fan`` = fan_in (``mode="fan_in"``) or fan_out."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        raise ValueError(f"He initialization needs a non-zero {mode}, got shape {tuple(shape)}")
    return gain(nonlinearity, a) / math.sqrt(fan)


def glorot_uniform(
    shape: Sequence[int],
    gain: float = 1.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Glorot (Xavier) uniform: ``U(−b, b)`` with ``b = √3 · gain · √(2 / (fan_in + fan_out))``.

    Same draws as ``torch.nn.init.xavier_uniform_(torch.empty(shape), gain, generator)``.
    """
    w = _empty(shape, dtype)
    bound = math.sqrt(3.0) * glorot_std(shape, gain)
    return w.uniform_(-bound, bound, generator=generator)


def glorot_normal(
    shape: Sequence[int],
    gain: float = 1.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Glorot (Xavier) normal: ``N(0, gain² · 2 / (fan_in + fan_out))`` (as ``torch.nn.init.xavier_normal_``)."""
    w = _empty(shape, dtype)
    return w.normal_(0.0, glorot_std(shape, gain), generator=generator)


def he_uniform(
    shape: Sequence[int],
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """He (Kaiming) uniform: ``U(−b, b)`` with ``b = √3 · gain / √fan`` (as ``torch.nn.init.kaiming_uniform_``).

    ``a`` is the negative slope of a leaky ReLU (``a = 0`` with the default ``nonlinearity="leaky_relu"`` is
    the ReLU gain √2, torch's default).
    """
    w = _empty(shape, dtype)
    if 0 in w.shape:
        return w
    bound = math.sqrt(3.0) * he_std(shape, a, mode, nonlinearity)
    return w.uniform_(-bound, bound, generator=generator)


def he_normal(
    shape: Sequence[int],
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """He (Kaiming) normal: ``N(0, gain² / fan)`` (as ``torch.nn.init.kaiming_normal_``)."""
    w = _empty(shape, dtype)
    if 0 in w.shape:
        return w
    return w.normal_(0.0, he_std(shape, a, mode, nonlinearity), generator=generator)


# -- batch normalization -------------------------------------------------------------------------------------------
@dataclass
class BatchNormCache:
    """What :func:`batch_norm_backward` needs from the forward pass."""

    x_hat: torch.Tensor  # the normalized input
    inv_std: torch.Tensor  # 1 / √(var + ε), per channel, broadcastable to x
    gamma: torch.Tensor  # the scale γ, broadcastable to x
    dims: tuple[int, ...]  # the dimensions reduced over (all but the channel dimension 1)
    training: bool


def _check_bn(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> int:
    if x.dim() < 2:
        raise ValueError(
            f"batch_norm expects input of shape (B, C) or (B, C, L, …), got shape {tuple(x.shape)}"
        )
    c = x.shape[1]
    for name, v in (("gamma", gamma), ("beta", beta)):
        if tuple(v.shape) != (c,):
            raise ValueError(f"{name} must have shape ({c},) (one value per channel), got {tuple(v.shape)}")
    return c


def batch_norm_forward(
    x: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[torch.Tensor, BatchNormCache, torch.Tensor, torch.Tensor]:
    """Batch normalization of ``x`` (shape ``(B, C)`` or ``(B, C, L, …)``), one mean and variance per channel.

    Training mode normalizes with the statistics of the batch, μ = mean and σ² = the *biased* variance over
    every dimension but the channel dimension (``m`` values per channel), ``x̂ = (x − μ)/√(σ² + ε)``,
    ``y = γ x̂ + β``, and updates the running statistics with torch's convention (``momentum`` is the weight of
    the new value, not of the old one, and the running variance uses the *unbiased* variance ``σ² m/(m − 1)``)::

        running_mean ← (1 − momentum) · running_mean + momentum · μ
        running_var  ← (1 − momentum) · running_var  + momentum · σ² m/(m − 1)

    Eval mode normalizes with the running statistics and leaves them unchanged.

    Returns
    -------
    (y, cache, new_running_mean, new_running_var)
        The inputs are not modified; ``cache`` goes to :func:`batch_norm_backward`.
    """
    c = _check_bn(x, gamma, beta)
    for name, v in (("running_mean", running_mean), ("running_var", running_var)):
        if tuple(v.shape) != (c,):
            raise ValueError(f"{name} must have shape ({c},), got {tuple(v.shape)}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be in [0, 1], got {momentum}")
    if not eps >= 0.0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    dims = (0, *range(2, x.dim()))
    view = (1, c) + (1,) * (x.dim() - 2)
    m = x.numel() // c if c else 0
    if training:
        if m <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {tuple(x.shape)}"
            )
        mean = x.mean(dim=dims)
        var = ((x - mean.view(view)) ** 2).mean(dim=dims)
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * var * (m / (m - 1))
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean.clone(), running_var.clone()
    inv_std = 1.0 / torch.sqrt(var.view(view) + eps)
    x_hat = (x - mean.view(view)) * inv_std
    y = gamma.view(view) * x_hat + beta.view(view)
    return y, BatchNormCache(x_hat, inv_std, gamma.view(view), dims, training), new_mean, new_var


def batch_norm_backward(
    dy: torch.Tensor, cache: BatchNormCache
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients ``(dx, dγ, dβ)`` of batch normalization, given ``dy = ∂L/∂y``.

    With ``g = γ · dy`` and sums over the ``m`` values of a channel, training mode gives (μ and σ² depend on x)::

        dx = (inv_std / m) · (m g − Σ g − x̂ Σ g x̂),    dγ = Σ dy x̂,    dβ = Σ dy

    Eval mode treats the running statistics as constants: ``dx = g · inv_std``.
    """
    if dy.shape != cache.x_hat.shape:
        raise ValueError(
            f"dy must have the shape of the input {tuple(cache.x_hat.shape)}, got {tuple(dy.shape)}"
        )
    dims = cache.dims
    dgamma = (dy * cache.x_hat).sum(dim=dims)
    dbeta = dy.sum(dim=dims)
    g = dy * cache.gamma
    if not cache.training:
        return g * cache.inv_std, dgamma, dbeta
    m = dy.numel() // dy.shape[1]
    sum_g = g.sum(dim=dims, keepdim=True)
    sum_gx = (g * cache.x_hat).sum(dim=dims, keepdim=True)
    dx = cache.inv_std / m * (m * g - sum_g - cache.x_hat * sum_gx)
    return dx, dgamma, dbeta


# -- layer normalization -------------------------------------------------------------------------------------------
@dataclass
class LayerNormCache:
    """What :func:`layer_norm_backward` needs from the forward pass."""

    x_hat: torch.Tensor
    inv_std: torch.Tensor  # keepdim over the normalized dimensions
    gamma: torch.Tensor
    dims: tuple[int, ...]  # the normalized (trailing) dimensions


def layer_norm_forward(
    x: torch.Tensor,
    normalized_shape: Sequence[int] | int,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    eps: float = 1e-5,
) -> tuple[torch.Tensor, LayerNormCache]:
    """Layer normalization over the trailing dimensions ``normalized_shape`` of ``x`` (as ``torch.nn.LayerNorm``).

    Every example (every position of a sequence) is normalized by the mean and *biased* variance of its own
    ``k = prod(normalized_shape)`` features, then scaled by γ and shifted by β (both of shape
    ``normalized_shape``). Nothing depends on the other examples of the batch, so training and evaluation
    compute the same thing and there are no running statistics.
    """
    shape = _shape(normalized_shape)
    if len(shape) == 0 or tuple(x.shape[x.dim() - len(shape) :]) != shape or x.dim() < len(shape):
        raise ValueError(
            f"normalized_shape {shape} must equal the trailing dimensions of the input, got input shape "
            f"{tuple(x.shape)}"
        )
    for name, v in (("gamma", gamma), ("beta", beta)):
        if tuple(v.shape) != shape:
            raise ValueError(f"{name} must have shape {shape}, got {tuple(v.shape)}")
    if not eps >= 0.0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    dims = tuple(range(x.dim() - len(shape), x.dim()))
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
    inv_std = 1.0 / torch.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, LayerNormCache(x_hat, inv_std, gamma, dims)


def layer_norm_backward(
    dy: torch.Tensor, cache: LayerNormCache
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients ``(dx, dγ, dβ)`` of layer normalization: the batch-norm formula with sums over the features."""
    if dy.shape != cache.x_hat.shape:
        raise ValueError(
            f"dy must have the shape of the input {tuple(cache.x_hat.shape)}, got {tuple(dy.shape)}"
        )
    lead = tuple(range(dy.dim() - len(cache.dims)))
    dgamma = (dy * cache.x_hat).sum(dim=lead) if lead else dy * cache.x_hat
    dbeta = dy.sum(dim=lead) if lead else dy.clone()
    g = dy * cache.gamma
    k = math.prod(dy.shape[d] for d in cache.dims)
    sum_g = g.sum(dim=cache.dims, keepdim=True)
    sum_gx = (g * cache.x_hat).sum(dim=cache.dims, keepdim=True)
    dx = cache.inv_std / k * (k * g - sum_g - cache.x_hat * sum_gx)
    return dx, dgamma, dbeta
