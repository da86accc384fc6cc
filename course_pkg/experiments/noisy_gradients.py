r"""Experiments of the chapter "Noisy gradients, gradient accumulation and clipping".

Two implementations of the same kind of network, a residual MLP

.. math:: h_0 = x W_{\text{in}}, \qquad h_{l} = h_{l-1} + \phi(h_{l-1} W_l) \;(l = 1, \dots, N), \qquad
          \hat y = h_N W_{\text{out}},

with depth :math:`N` (the number of residual blocks; the book keeps :math:`D` for the training set) and
activation :math:`\phi`:

- :class:`ResidualMLP` in torch (ReLU blocks), for the digits experiments: gradient variance at
  initialisation (:func:`gradient_variance`), training with gradient accumulation and clipping (:func:`train`);
- :func:`numpy_residual_run`: a small tanh version in numpy with hand-written backpropagation, vectorised over
  the :math:`k` micro-batches of an accumulated update so that an explorable can afford it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

import course_pkg.optim as co
from course_pkg.data import load_digits

__all__ = [
    "ResidualMLP",
    "digits_tensors",
    "gradient_variance",
    "train",
    "regression_data",
    "numpy_residual_run",
]


class ResidualMLP(nn.Module):
    r"""Residual MLP: ``depth`` blocks :math:`h \leftarrow h + W_2\,\mathrm{ReLU}(W_1 h)` between two linear maps.

    Parameters
    ----------
    depth : int
        Number of residual blocks :math:`N \ge 0`.
    width : int
        Width of the hidden representation :math:`h`.
    in_dim, out_dim : int
        Input and output dimensions.
    """

    def __init__(self, depth: int, width: int, in_dim: int, out_dim: int) -> None:
        super().__init__()
        if depth < 0 or width < 1:
            raise ValueError(f"need depth >= 0 and width >= 1, got depth={depth}, width={width}")
        self.inp = nn.Linear(in_dim, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width)) for _ in range(depth)
        )
        self.out = nn.Linear(width, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (or outputs) of the network."""
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


def digits_tensors(dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled digits (1797 images of 8×8 pixels), standardised, as torch tensors (X, y).

    :func:`course_pkg.data.load_digits` with ``std_offset=1e-8`` (statistics of all 1797 images).
    """
    digits = load_digits(std_offset=1e-8)
    return torch.as_tensor(digits["X"], dtype=dtype), torch.as_tensor(digits["y"], dtype=torch.long)


def gradient_variance(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
    r"""Per-example gradient statistics of the cross-entropy loss at the current parameters.

    With :math:`g_i` the gradient of example :math:`i` and :math:`\bar g` their mean over the :math:`n` examples,
    the *total variance* is :math:`\operatorname{tr}\operatorname{Cov}(g_i) = \frac1n \sum_i \|g_i - \bar g\|^2`;
    a minibatch gradient of size :math:`B` (sampled with replacement) has total variance
    :math:`\operatorname{tr}\operatorname{Cov}/B`.

    Returns
    -------
    dict
        ``total_variance`` (float), ``mean_grad_sq_norm`` (:math:`\|\bar g\|^2`), ``per_tensor_variance`` (list
        of floats, one per parameter tensor, summing to ``total_variance``) and ``names`` (parameter names).
    """
    from torch.func import functional_call, grad, vmap

    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss_one(p: dict[str, torch.Tensor], x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, p, (x.unsqueeze(0),))
        return nn.functional.cross_entropy(out, t.unsqueeze(0))

    per_example = vmap(grad(loss_one), in_dims=(None, 0, 0))(params, X, y)
    per_tensor = []
    mean_sq = 0.0
    for name in params:
        g = per_example[name].reshape(X.shape[0], -1)
        mean = g.mean(dim=0)
        per_tensor.append(float(((g - mean) ** 2).sum(dim=1).mean()))
        mean_sq += float(mean @ mean)
    return {
        "total_variance": float(sum(per_tensor)),
        "mean_grad_sq_norm": mean_sq,
        "per_tensor_variance": per_tensor,
        "names": list(params),
    }


def train(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    batch_size: int,
    accumulation_steps: int = 1,
    lr: float = 0.05,
    momentum: float = 0.0,
    max_norm: float | None = None,
    seed: int = 0,
    record_micro: bool = True,
) -> dict[str, np.ndarray]:
    r"""Minibatch SGD (``course_pkg.optim.SGD``) with gradient accumulation and optional clipping.

    Each update draws a batch of ``batch_size`` examples (the same batches whatever ``accumulation_steps``, for a
    given seed), splits it into ``accumulation_steps`` equal micro-batches, accumulates :math:`\nabla L_j / k`
    with :func:`course_pkg.optim.accumulate`, optionally clips the total gradient norm at ``max_norm`` and steps.
    With ``record_micro`` the norm of every micro-batch gradient is measured too (an extra backward pass per
    micro-batch, outside the update).

    Returns
    -------
    dict
        ``loss`` (batch loss before each update), ``grad_norm`` (total gradient norm before clipping) and
        ``micro_grad_norm`` (norms of the individual micro-batch gradients, shape ``(steps, k)``, or
        ``(steps, 0)`` without ``record_micro``).
    """
    k = accumulation_steps
    if batch_size % k:
        raise ValueError(f"batch_size={batch_size} must be a multiple of accumulation_steps={k}")
    gen = torch.Generator().manual_seed(seed)
    opt = co.SGD(model.parameters(), lr=lr, momentum=momentum)
    params = [p for p in model.parameters()]
    losses, norms, micro_norms = [], [], []
    for _ in range(steps):
        idx = torch.randint(0, X.shape[0], (batch_size,), generator=gen)
        chunks = list(zip(X[idx].chunk(k), y[idx].chunk(k), strict=True))
        opt.zero_grad()
        row = []
        for xb, yb in chunks if record_micro else []:  # measured separately, not part of the update
            g = torch.autograd.grad(nn.functional.cross_entropy(model(xb), yb), params)
            row.append(float(torch.sqrt(sum((gi**2).sum() for gi in g))))
        loss = co.accumulate(lambda b: nn.functional.cross_entropy(model(b[0]), b[1]), chunks)
        total = co.clip_grad_norm_(params, max_norm if max_norm is not None else float("inf"))
        opt.step()
        losses.append(float(loss))
        norms.append(float(total))
        micro_norms.append(row)
    return {
        "loss": np.array(losses),
        "grad_norm": np.array(norms),
        "micro_grad_norm": np.array(micro_norms).reshape(steps, -1 if record_micro else 0),
    }


# -- the numpy residual MLP of the explorable -------------------------------------------------------------------

#: Input dimension, width and number of examples of the explorable's regression problem.
NP_IN, NP_WIDTH, NP_N = 8, 16, 256


def regression_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Noisy non-linear regression: :math:`x \sim \mathcal N(0, I_8)`, :math:`y = \sin(2 x^\top u) + 0.3\,\xi`."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((NP_N, NP_IN))
    u = rng.standard_normal(NP_IN) / np.sqrt(NP_IN)
    y = np.sin(2.0 * X @ u) + 0.3 * rng.standard_normal(NP_N)
    return X, y


def _init(depth: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    w_in = rng.standard_normal((NP_IN, NP_WIDTH)) / np.sqrt(NP_IN)
    blocks = [rng.standard_normal((NP_WIDTH, NP_WIDTH)) / np.sqrt(NP_WIDTH) for _ in range(depth)]
    w_out = rng.standard_normal((NP_WIDTH, 1)) / np.sqrt(NP_WIDTH)
    return [w_in, *blocks, w_out]


def _tanh_(z: np.ndarray) -> np.ndarray:
    """tanh of ``z`` in place, as 1 - 2/(exp(2z) + 1): within 4e-16 of ``np.tanh`` and half its time where numpy's
    float64 tanh is not vectorised (machines without AVX-512); ±1 where exp overflows, as tanh."""
    np.multiply(z, 2.0, out=z)
    np.exp(z, out=z)  # (callers silence its overflow warning: exp(2z) = inf gives tanh = 1, as it should)
    z += 1.0
    np.divide(-2.0, z, out=z)
    z += 1.0
    return z


def _forward(
    params: list[np.ndarray], x: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Outputs (..., 1) and the saved activations; ``x`` may carry leading micro-batch dimensions."""
    h = x @ params[0]
    hs, acts = [h], []
    with np.errstate(over="ignore"):
        for W in params[1:-1]:
            a = _tanh_(h @ W)
            h = h + a
            hs.append(h)
            acts.append(a)
    return h @ params[-1], hs, acts


def _micro_grads(
    params: list[np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    r"""Gradients of the mean squared loss :math:`\frac{1}{2b}\sum (\hat y - y)^2` of every micro-batch.

    ``x`` has shape (k, b, in), ``y`` (k, b). Returns one array per parameter with a leading k axis, and the k
    micro-batch losses.
    """
    return _backward(params, x, y, *_forward(params, x))


def _backward(
    params: list[np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    out: np.ndarray,
    hs: list[np.ndarray],
    acts: list[np.ndarray],
) -> tuple[list[np.ndarray], np.ndarray]:
    """:func:`_micro_grads` from the forward pass's outputs and saved activations (each with shape (k, b, ...))."""
    b = x.shape[1]
    r = out[..., 0] - y  # (k, b)
    losses = 0.5 * (r**2).mean(axis=1)
    d_out = r[..., None] / b  # dL/d(out), (k, b, 1)
    grads: list[np.ndarray] = [np.empty(0)] * len(params)
    grads[-1] = np.swapaxes(hs[-1], 1, 2) @ d_out
    dh = d_out @ params[-1].T  # (k, b, w)
    for layer in range(len(params) - 2, 0, -1):
        a = acts[layer - 1]
        da = dh * (1.0 - a**2)
        grads[layer] = np.swapaxes(hs[layer - 1], 1, 2) @ da
        dh = dh + da @ params[layer].T
    grads[0] = np.swapaxes(x, 1, 2) @ dh
    return grads, losses


def numpy_residual_run(
    accumulation_steps: int,
    depth: int,
    clip: bool,
    *,
    micro_batch: int = 4,
    updates: int = 60,
    lr: float = 0.05,
    max_norm: float = 1.0,
    seed: int = 0,
) -> dict[str, Any]:
    r"""SGD with :math:`k` accumulated micro-batches on a numpy tanh residual MLP (the explorable's model).

    Every update averages the gradients of :math:`k` micro-batches of ``micro_batch`` examples, i.e. uses an
    effective batch of :math:`B = k \cdot b`; with ``clip`` the averaged gradient is rescaled to norm at most
    ``max_norm`` (as :func:`course_pkg.optim.clip_grad_norm_`).

    Returns
    -------
    dict
        ``loss`` (full-data loss after each update, ``updates + 1`` values), ``micro_norms`` (every micro-batch
        gradient norm), ``update_norms`` (norm of each averaged gradient, before clipping) and the settings.
    """
    k = int(accumulation_steps)
    X, y = regression_data(0)
    params = _init(depth, seed)
    # the parameters as one vector θ (params: views of it), so that an update is a few operations on θ
    shapes = [p.shape for p in params]
    starts = np.cumsum([0] + [p.size for p in params]).tolist()
    bounds = list(zip(starts[:-1], starts[1:], shapes, strict=True))
    theta = np.concatenate([p.ravel() for p in params])
    params = [theta[a:b].reshape(shape) for a, b, shape in bounds]
    rng = np.random.default_rng(seed + 1)

    def full_pass() -> tuple[float, tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]]:
        # the loss on all the data; its activations are also those of every micro-batch (rows of X)
        forward = _forward(params, X)
        return float(0.5 * np.mean((forward[0][:, 0] - y) ** 2)), forward

    first, forward = full_pass()
    loss = [first]
    micro_norms, update_norms = [], []
    for _ in range(updates):
        idx = rng.integers(0, NP_N, size=(k, micro_batch))
        out, hs, acts = forward
        grads, _ = _backward(params, X[idx], y[idx], out[idx], [h[idx] for h in hs], [a[idx] for a in acts])
        flat = np.concatenate([g.reshape(k, -1) for g in grads], axis=1)  # (k, number of parameters)
        micro_norms.append(np.sqrt(np.einsum("ij,ij->i", flat, flat)))
        mean_grad = np.add.reduce(flat, axis=0) / k
        norm = float(np.sqrt(mean_grad @ mean_grad))
        update_norms.append(norm)
        scale = min(1.0, max_norm / (norm + 1e-6)) if clip else 1.0
        theta = theta - lr * scale * mean_grad
        params = [theta[a:b].reshape(shape) for a, b, shape in bounds]
        if np.isfinite(norm):
            value, forward = full_pass()
            loss.append(value)
        else:
            loss.append(np.inf)
        if not np.isfinite(loss[-1]) or loss[-1] > 1e6:
            loss.extend([np.inf] * (updates - len(loss) + 1))
            break
    return {
        "loss": np.array(loss),
        "micro_norms": np.concatenate(micro_norms),
        "update_norms": np.array(update_norms),
        "k": k,
        "depth": depth,
        "clip": clip,
        "max_norm": max_norm,
        "micro_batch": micro_batch,
    }
