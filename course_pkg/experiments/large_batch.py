"""Experiments of the chapter "Large batches and warmup".

A small ReLU network on scikit-learn's bundled digits trained with large batches by SGD with momentum, LARS and
LAMB (:mod:`course_pkg.optim`), with an optional linear warmup; the largest Hessian eigenvalue of the training loss
(power iteration on Hessian-vector products); and the gradient norm of the last feed-forward layer of a Post-LN and
a Pre-LN Transformer encoder at initialization, as a function of depth (Xiong et al. 2020). Everything is seeded,
float32 for training (speed) and CPU-sized.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from course_pkg.experiments.sgd import DigitsSplit, shuffled_minibatches

__all__ = [
    "LargeBatchRun",
    "make_deep_mlp",
    "train_large_batch",
    "hessian_lambda_max",
    "transformer_last_layer_grad_norm",
    "depth_scaling",
]


@dataclass
class LargeBatchRun:
    """Outcome of :func:`train_large_batch`.

    Attributes
    ----------
    model : torch.nn.Module
        The network after training.
    train_loss : float
        Full-batch training loss at the end (``nan`` if training produced a non-finite loss).
    test_accuracy : float
        Test accuracy at the end (0 if the loss became non-finite).
    steps : int
        Optimizer steps taken.
    """

    model: nn.Module
    train_loss: float
    test_accuracy: float
    steps: int


def make_deep_mlp(seed: int, widths: tuple[int, ...] = (64, 128, 128, 10)) -> nn.Sequential:
    """A ReLU network ``widths[0] → … → widths[-1]`` with torch's default initialisation, seeded.

    Parameters
    ----------
    seed : int
        Seed of the initialisation (the global torch generator is restored afterwards).
    widths : tuple of int
        Layer widths, input first; at least two.

    Returns
    -------
    torch.nn.Sequential
        ``Linear, ReLU, …, Linear`` in float32.
    """
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"widths must hold at least two positive sizes, got {widths}")
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    torch.random.set_rng_state(state)
    return nn.Sequential(*layers)


def train_large_batch(
    data: DigitsSplit,
    make_optimizer: Callable[[nn.Module], torch.optim.Optimizer],
    batch_size: int,
    epochs: int,
    seed: int,
    warmup_steps: int = 0,
    widths: tuple[int, ...] = (64, 128, 128, 10),
) -> LargeBatchRun:
    """Train :func:`make_deep_mlp` with minibatches of ``batch_size`` (reshuffled every epoch).

    Parameters
    ----------
    data : DigitsSplit
        Training and test data.
    make_optimizer : callable
        Builds the optimizer from the model (its learning rate is the peak rate η).
    batch_size : int
        B; the last, smaller batch of an epoch is kept.
    epochs : int
        Passes over the training set.
    seed : int
        Seeds the initialisation and the batch order.
    warmup_steps : int, optional
        Linear warmup η_t = η min(1, t / warmup_steps) over the first steps (default 0: none).
    widths : tuple of int, optional
        Layer widths of the network.

    Returns
    -------
    LargeBatchRun
    """
    n = data.X_train.shape[0]
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must lie in [1, {n}], got {batch_size}")
    if epochs < 1 or warmup_steps < 0:
        raise ValueError(f"need epochs >= 1 and warmup_steps >= 0, got {epochs}, {warmup_steps}")
    model = make_deep_mlp(seed, widths)
    opt = make_optimizer(model)
    peak = [group["lr"] for group in opt.param_groups]
    gen = torch.Generator().manual_seed(seed)
    t = 0
    for _ in range(epochs):
        for idx in shuffled_minibatches(n, batch_size, gen):
            t += 1
            if warmup_steps:
                for group, lr in zip(opt.param_groups, peak):
                    group["lr"] = lr * min(1.0, t / warmup_steps)
            loss = nn.functional.cross_entropy(model(data.X_train[idx]), data.y_train[idx])
            if not torch.isfinite(loss):
                return LargeBatchRun(model, math.nan, 0.0, t)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        train_loss = float(nn.functional.cross_entropy(model(data.X_train), data.y_train))
        acc = float((model(data.X_test).argmax(dim=1) == data.y_test).double().mean())
    if not math.isfinite(train_loss):
        return LargeBatchRun(model, math.nan, 0.0, t)
    return LargeBatchRun(model, train_loss, acc, t)


def hessian_lambda_max(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, iters: int = 50, seed: int = 0
) -> float:
    """Largest-magnitude eigenvalue of the Hessian of the mean cross-entropy, by power iteration.

    Each iteration is one Hessian-vector product (double backpropagation); the Rayleigh quotient vᵀHv of the
    last unit vector is returned.

    Parameters
    ----------
    model : torch.nn.Module
        The network (not modified).
    X, y : Tensor
        The data of the loss.
    iters : int, optional
        Power iterations (default 50).
    seed : int, optional
        Seed of the random start vector.

    Returns
    -------
    float
        λ with the largest |λ| (for a trained network, λ_max = λ_d).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    loss = nn.functional.cross_entropy(model(X), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    gen = torch.Generator().manual_seed(seed)
    v = [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in params]
    lam = 0.0
    for _ in range(iters):
        norm = torch.sqrt(sum((u * u).sum() for u in v))
        v = [u / norm for u in v]
        hv = torch.autograd.grad(grads, params, v, retain_graph=True)
        lam = float(sum((h * u).sum() for h, u in zip(hv, v)))
        v = [h.detach() for h in hv]
    return lam


def transformer_last_layer_grad_norm(
    norm_first: bool,
    depth: int,
    seed: int,
    d_model: int = 64,
    seq_len: int = 16,
    batch: int = 8,
    vocab: int = 50,
) -> float:
    """‖∂L/∂W‖_F of the last encoder layer's second feed-forward matrix at initialization.

    An encoder of ``depth`` ``torch.nn.TransformerEncoderLayer`` blocks (4 heads, feed-forward width 4·d, no
    dropout), Post-LN (``norm_first=False``: LayerNorm after each residual addition, as in Vaswani et al. 2017) or
    Pre-LN (``norm_first=True``: LayerNorm at the start of each block, plus a final LayerNorm), between a random
    embedding of ``vocab`` tokens and a linear read-out; the loss is the cross-entropy of random token labels.
    Every layer is initialised independently (``reset_parameters``). This is the quantity whose scale Xiong et al.
    (2020, Theorem 1) bound: O(d √(ln d)) for Post-LN, O(d √(ln d / depth)) for Pre-LN.

    Returns
    -------
    float
        The Frobenius norm of the gradient of ``layers[-1].linear2.weight``.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d_model, 4, 4 * d_model, dropout=0.0, batch_first=True, norm_first=norm_first
            )
            for _ in range(depth)
        )
        final = nn.LayerNorm(d_model) if norm_first else nn.Identity()
        embed, head = nn.Embedding(vocab, d_model), nn.Linear(d_model, vocab)
        x = torch.randint(vocab, (batch, seq_len))
        y = torch.randint(vocab, (batch, seq_len))
    finally:
        torch.random.set_rng_state(state)
    h = embed(x)
    for layer in layers:
        h = layer(h)
    logits = head(final(h))
    nn.functional.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1)).backward()
    return float(layers[-1].linear2.weight.grad.norm())


def depth_scaling(norm_first: bool, depths: tuple[int, ...], seeds: range) -> np.ndarray:
    """:func:`transformer_last_layer_grad_norm` for every depth (columns) and seed (rows)."""
    return np.array([[transformer_last_layer_grad_norm(norm_first, L, s) for L in depths] for s in seeds])
