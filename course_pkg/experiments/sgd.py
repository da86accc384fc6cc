"""Experiments of the chapter "Stochastic and minibatch gradient descent".

Small-batch vs large-batch training of a small MLP on scikit-learn's bundled digits data (1797 images of 8×8
pixels, 10 classes), a sharpness measure of the minimum reached (Keskar et al. 2017), losses along random
filter-normalised directions (Li et al. 2018), and a learning-rate × batch-size stability grid
(Masters & Luschi 2018). The toy problems of the chapter's explorables: a 2-D least-squares data set
(:func:`regression_problem`) and a 1-D loss with a sharp and a flat minimum (:func:`sharp_flat_loss`,
:func:`sharp_flat_grad`, :func:`sharp_basin`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from course_pkg.data import load_digits

__all__ = [
    "DigitsSplit",
    "TrainResult",
    "load_digits_split",
    "make_mlp",
    "train_mlp",
    "full_loss",
    "shuffled_minibatches",
    "accuracy",
    "epsilon_sharpness",
    "random_direction_losses",
    "interpolation_losses",
    "stability_grid",
    "large_batch_comparison",
    "cached",
    "regression_problem",
    "sharp_flat_loss",
    "sharp_flat_grad",
    "sharp_basin",
]


@dataclass
class DigitsSplit:
    """Standardised digits data split into a training and a test set (float32 tensors)."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor


@dataclass
class TrainResult:
    """Outcome of :func:`train_mlp`.

    Attributes
    ----------
    model : torch.nn.Module
        The trained network.
    train_loss : list of float
        Full-batch training loss R̂(θ) after each epoch (index 0 is the loss at initialisation).
    test_accuracy : float
        Accuracy on the test set after the last epoch (0 when training diverged).
    diverged : bool
        True when the loss became non-finite or exceeded 10 times its initial value.
    steps : int
        Number of optimizer steps taken.
    """

    model: nn.Module
    train_loss: list[float] = field(default_factory=list)
    test_accuracy: float = 0.0
    diverged: bool = False
    steps: int = 0


def load_digits_split(test_size: float = 0.25, seed: int = 0) -> DigitsSplit:
    """Load scikit-learn's digits, split it (stratified) and standardise with training statistics.

    :func:`course_pkg.data.load_digits` with ``split="stratified", std_offset=1.0`` (several border pixels are
    constant: dividing by ``std + 1`` keeps them finite), as tensors.

    Parameters
    ----------
    test_size : float
        Fraction of the n = 1797 images held out for testing.
    seed : int
        Seed of the split.

    Returns
    -------
    DigitsSplit
        Features of shape (n, 64) as float32, labels as int64.
    """
    digits = load_digits(split="stratified", test_size=test_size, seed=seed, std_offset=1.0)
    to_x = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    to_y = lambda a: torch.tensor(a, dtype=torch.int64)  # noqa: E731
    return DigitsSplit(
        to_x(digits["X_train"]), to_y(digits["y_train"]), to_x(digits["X_test"]), to_y(digits["y_test"])
    )


def make_mlp(hidden: int = 64, seed: int = 0, n_in: int = 64, n_out: int = 10) -> nn.Sequential:
    """A one-hidden-layer ReLU network ``n_in → hidden → n_out`` with seeded default initialisation."""
    if hidden < 1:
        raise ValueError(f"hidden must be a positive integer, got {hidden}")
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))
    torch.random.set_rng_state(gen_state)
    return model


def shuffled_minibatches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """One epoch of minibatch indices: ``0, …, n − 1`` in a fresh random order, cut into consecutive batches.

    Every batch has ``batch_size`` indices but the last, which keeps the remainder (as torch's ``DataLoader``
    with ``shuffle=True, drop_last=False``). The order is one ``torch.randperm(n, generator=generator)`` per call,
    so a seeded generator gives every run the same batches.
    """
    perm = torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        yield perm[start : start + batch_size]


@torch.no_grad()
def full_loss(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Mean cross-entropy of ``model`` on the whole set (X, y)."""
    return float(nn.functional.cross_entropy(model(X), y))


@torch.no_grad()
def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of correctly classified examples."""
    return float((model(X).argmax(dim=1) == y).double().mean())


def train_mlp(
    data: DigitsSplit,
    batch_size: int,
    lr: float,
    epochs: int,
    seed: int = 0,
    hidden: int = 64,
    optimizer: Callable[..., torch.optim.Optimizer] | None = None,
    target_loss: float | None = None,
    **opt_kwargs: float,
) -> TrainResult:
    """Train :func:`make_mlp` by minibatch SGD with reshuffling every epoch.

    Parameters
    ----------
    data : DigitsSplit
        Training and test data.
    batch_size : int
        Batch size B (1 ≤ B ≤ n); the last, smaller batch of an epoch is kept.
    lr : float
        Learning rate η.
    epochs : int
        Number of passes over the training set.
    seed : int
        Seeds both the initialisation and the shuffling.
    hidden : int
        Width of the hidden layer.
    optimizer : callable, optional
        Optimizer class with torch.optim's constructor (default: ``torch.optim.SGD``).
    target_loss : float, optional
        Stop at the end of the first epoch whose full-batch training loss is below this value (so that runs
        with different batch sizes can be compared at equal training loss).
    **opt_kwargs
        Extra optimizer arguments (e.g. ``momentum=0.9``).

    Returns
    -------
    TrainResult
    """
    n = data.X_train.shape[0]
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must lie in [1, {n}], got {batch_size}")
    if epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs}")
    opt_cls = torch.optim.SGD if optimizer is None else optimizer
    model = make_mlp(hidden, seed)
    opt = opt_cls(model.parameters(), lr=lr, **opt_kwargs)
    gen = torch.Generator().manual_seed(seed)
    result = TrainResult(model=model)
    loss0 = full_loss(model, data.X_train, data.y_train)
    result.train_loss.append(loss0)
    for _ in range(epochs):
        for idx in shuffled_minibatches(n, batch_size, gen):
            loss = nn.functional.cross_entropy(model(data.X_train[idx]), data.y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            result.steps += 1
        epoch_loss = full_loss(model, data.X_train, data.y_train)
        result.train_loss.append(epoch_loss)
        if not math.isfinite(epoch_loss) or epoch_loss > 10 * loss0:
            result.diverged = True
            return result
        if target_loss is not None and epoch_loss < target_loss:
            break
    result.test_accuracy = accuracy(model, data.X_test, data.y_test)
    return result


@torch.no_grad()
def _assign(params: list[torch.Tensor], values: Iterable[torch.Tensor]) -> None:
    for p, v in zip(params, values):
        p.copy_(v)


@contextmanager
def _parameters_kept(model: nn.Module) -> Iterator[tuple[list[torch.Tensor], list[torch.Tensor]]]:
    """The model's parameters θ and a copy of their values; θ is put back on exit, even after an error.

    For measurements that move the parameters around (sharpness, losses along directions) and must leave the
    model as they found it.
    """
    params = list(model.parameters())
    theta = [p.detach().clone() for p in params]
    try:
        yield params, theta
    finally:
        _assign(params, theta)


def epsilon_sharpness(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, eps: float = 1e-3, steps: int = 20
) -> float:
    """Keskar et al. (2017) ε-sharpness of the loss at the model's parameters θ.

    .. math:: \\phi_\\epsilon = 100\\,\\frac{\\max_{\\Delta \\in C_\\epsilon} L(\\theta+\\Delta) - L(\\theta)}{1 + L(\\theta)},
       \\qquad C_\\epsilon = \\{\\Delta : |\\Delta_i| \\le \\epsilon(|\\theta_i| + 1)\\}

    The inner maximum is approximated by projected sign-gradient ascent (``steps`` steps of size
    ``box / 4``, starting from Δ = 0) instead of Keskar et al.'s L-BFGS-B; it is a lower bound of the true
    maximum. The model is left unchanged.

    Parameters
    ----------
    model : torch.nn.Module
        Trained network.
    X, y : torch.Tensor
        Data on which the full-batch cross-entropy L is evaluated (the training set).
    eps : float
        Relative box size ε > 0.
    steps : int
        Ascent steps.

    Returns
    -------
    float
        φ_ε in percent.
    """
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    with _parameters_kept(model) as (params, theta):
        box = [eps * (t.abs() + 1.0) for t in theta]
        base = full_loss(model, X, y)
        delta = [torch.zeros_like(t) for t in theta]
        best = base
        for _ in range(steps):
            _assign(params, (t + d for t, d in zip(theta, delta)))
            loss = nn.functional.cross_entropy(model(X), y)
            grads = torch.autograd.grad(loss, params)
            best = max(best, float(loss.detach()))
            with torch.no_grad():
                for d, g, b in zip(delta, grads, box):
                    d.add_(g.sign() * b / 4).clamp_(min=-b, max=b)
        _assign(params, (t + d for t, d in zip(theta, delta)))
        best = max(best, full_loss(model, X, y))
    return 100.0 * (best - base) / (1.0 + base)


def random_direction_losses(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    alphas: Sequence[float],
    n_directions: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """Loss along random filter-normalised directions, L(θ + α d), for each α (Li et al. 2018).

    Each direction d has the shape of θ; every row (filter) of a weight matrix and every bias vector of d is
    rescaled to the norm of the corresponding row/vector of θ, so that α is measured in units of the weights'
    own scale and networks of different weight norms can be compared.

    Returns
    -------
    numpy.ndarray
        Shape (n_directions, len(alphas)). The model is left unchanged.
    """
    if n_directions < 1:
        raise ValueError(f"n_directions must be a positive integer, got {n_directions}")
    gen = torch.Generator().manual_seed(seed)
    out = np.empty((n_directions, len(alphas)))
    with _parameters_kept(model) as (params, theta):
        for k in range(n_directions):
            dirs = []
            for t in theta:
                d = torch.randn(t.shape, generator=gen, dtype=t.dtype)
                if t.ndim == 1:
                    d = d * t.norm() / (d.norm() + 1e-12)
                else:
                    d = d * t.norm(dim=1, keepdim=True) / (d.norm(dim=1, keepdim=True) + 1e-12)
                dirs.append(d)
            for j, a in enumerate(alphas):
                _assign(params, (t + a * d for t, d in zip(theta, dirs)))
                out[k, j] = full_loss(model, X, y)
    return out


def interpolation_losses(
    model_a: nn.Module, model_b: nn.Module, X: torch.Tensor, y: torch.Tensor, alphas: Sequence[float]
) -> np.ndarray:
    """Loss on the line θ(α) = (1 − α) θ_a + α θ_b (Goodfellow et al. 2015; Keskar et al. 2017, Fig. 3).

    ``model_a`` is used as the workspace and restored afterwards; the two models must share an architecture.
    """
    if [p.shape for p in model_a.parameters()] != [p.shape for p in model_b.parameters()]:
        raise ValueError("model_a and model_b must have parameters of the same shapes")
    theta_b = [p.detach().clone() for p in model_b.parameters()]
    out = np.empty(len(alphas))
    with _parameters_kept(model_a) as (pa, theta_a):
        for j, a in enumerate(alphas):
            _assign(pa, ((1 - a) * ta + a * tb for ta, tb in zip(theta_a, theta_b)))
            out[j] = full_loss(model_a, X, y)
    return out


def stability_grid(
    data: DigitsSplit,
    lrs: Sequence[float],
    batch_sizes: Sequence[int],
    epochs: int,
    seed: int = 0,
    hidden: int = 64,
) -> dict[str, np.ndarray]:
    """Train one network per (η, B) pair and record final training loss and test accuracy.

    Returns
    -------
    dict
        ``"train_loss"`` and ``"test_accuracy"``, arrays of shape (len(lrs), len(batch_sizes)); diverged runs
        have loss ``inf`` and accuracy 0; ``"lrs"`` and ``"batch_sizes"`` echo the grid.
    """
    loss = np.empty((len(lrs), len(batch_sizes)))
    acc = np.empty_like(loss)
    for i, lr in enumerate(lrs):
        for j, b in enumerate(batch_sizes):
            res = train_mlp(data, batch_size=int(b), lr=float(lr), epochs=epochs, seed=seed, hidden=hidden)
            loss[i, j] = np.inf if res.diverged else res.train_loss[-1]
            acc[i, j] = res.test_accuracy
    return {
        "train_loss": loss,
        "test_accuracy": acc,
        "lrs": np.asarray(lrs, dtype=float),
        "batch_sizes": np.asarray(batch_sizes),
    }


def large_batch_comparison(
    data: DigitsSplit,
    seed: int,
    small: int = 16,
    large: int = 512,
    lr: float = 0.1,
    epochs: int = 30,
    hidden: int = 128,
    eps: float = 1e-3,
    max_epochs: int = 1500,
) -> dict[str, Any]:
    """One seed of the small-batch vs large-batch experiment (Keskar et al. 2017; Hoffer et al. 2017).

    Trains three networks from the same initialisation (``seed``): small batches for ``epochs`` epochs ("sb"),
    large batches for ``epochs`` epochs ("lb"), and large batches until the training loss falls below the
    small-batch run's final loss, at most ``max_epochs`` epochs ("lb_long").

    Returns
    -------
    dict
        For each of "sb", "lb", "lb_long": ``epochs``, ``steps``, ``train_loss`` (final), ``test_accuracy`` and
        ``sharpness`` (:func:`epsilon_sharpness` in percent, box size ``eps``); and ``barrier``, the largest
        training loss on the segment between the "sb" and "lb_long" solutions minus the larger of its two ends.
    """
    sb = train_mlp(data, batch_size=small, lr=lr, epochs=epochs, hidden=hidden, seed=seed)
    lb = train_mlp(data, batch_size=large, lr=lr, epochs=epochs, hidden=hidden, seed=seed)
    lb_long = train_mlp(
        data,
        batch_size=large,
        lr=lr,
        epochs=max_epochs,
        hidden=hidden,
        seed=seed,
        target_loss=sb.train_loss[-1],
    )
    out: dict[str, Any] = {}
    for name, r in [("sb", sb), ("lb", lb), ("lb_long", lb_long)]:
        out[name] = {
            "epochs": len(r.train_loss) - 1,
            "steps": r.steps,
            "train_loss": r.train_loss[-1],
            "test_accuracy": r.test_accuracy,
            "sharpness": epsilon_sharpness(r.model, data.X_train, data.y_train, eps=eps),
        }
    line = interpolation_losses(
        sb.model, lb_long.model, data.X_train, data.y_train, np.linspace(0.0, 1.0, 21)
    )
    out["barrier"] = float(line.max() - max(line[0], line[-1]))
    return out


def cached(path: str | Path, config: dict[str, Any], compute: Callable[[], Any]) -> Any:
    """Return ``compute()``, stored as JSON in ``path`` together with ``config``.

    A file whose stored config equals ``config`` is read instead of computing again; otherwise (no file, another
    config, unreadable JSON) the result is computed and the file (re)written. ``compute`` must return
    JSON-serialisable data (floats ``inf``/``nan`` are allowed); ``config`` must be JSON-serialisable and is
    compared after a JSON round trip.
    """
    path = Path(path)
    config = json.loads(json.dumps(config))
    try:
        stored = json.loads(path.read_text())
        if stored.get("config") == config:
            return stored["result"]
    except (OSError, ValueError, AttributeError):
        pass
    result = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"config": config, "result": result}, indent=1) + "\n")
    return json.loads(json.dumps(result))


# --- the toy problems of the explorables: 2-D least squares, a 1-D loss with a sharp and a flat minimum ---------

#: Size n of the least-squares data set (the explorable ``minibatch_noise``).
N_POINTS = 256


def regression_problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Design matrix X (n × 2) and targets y of a noisy 2-D linear regression with n = 256.

    The empirical risk is R̂(θ) = 1/(2n) Σᵢ (xᵢᵀθ − yᵢ)², whose per-example gradient is (xᵢᵀθ − yᵢ) xᵢ.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_POINTS, 2)) * np.array([1.0, 0.6])
    y = X @ np.array([1.0, -1.0]) + 0.8 * rng.normal(size=N_POINTS)
    return X, y


#: Positions and curvatures of the two wells of :func:`sharp_flat_loss`.
SHARP_CENTRE, SHARP_CURVATURE = -1.0, 100.0
FLAT_CENTRE, FLAT_CURVATURE = 1.5, 1.6
#: Standard deviation s of the per-example shift of the loss (a minibatch of B examples shifts it by s/√B).
EXAMPLE_SHIFT = 0.25


def sharp_flat_loss(theta: np.ndarray) -> np.ndarray:
    """L(θ) = min(k_s (θ − a)², k_f (θ − b)²) / 2: a sharp well at a = −1 (curvature k_s = 100) and a flat well
    at b = 1.5 (k_f = 1.6), both of minimum value 0."""
    theta = np.asarray(theta, dtype=float)
    return 0.5 * np.minimum(
        SHARP_CURVATURE * (theta - SHARP_CENTRE) ** 2, FLAT_CURVATURE * (theta - FLAT_CENTRE) ** 2
    )


def sharp_flat_grad(theta: np.ndarray) -> np.ndarray:
    """Derivative L′(θ) of :func:`sharp_flat_loss` (the derivative of whichever well is lower at θ)."""
    theta = np.asarray(theta, dtype=float)
    in_sharp = SHARP_CURVATURE * (theta - SHARP_CENTRE) ** 2 < FLAT_CURVATURE * (theta - FLAT_CENTRE) ** 2
    return np.where(
        in_sharp, SHARP_CURVATURE * (theta - SHARP_CENTRE), FLAT_CURVATURE * (theta - FLAT_CENTRE)
    )


def sharp_basin() -> tuple[float, float]:
    """The interval of θ where the sharp well is the lower one (its basin), from the closed form
    √k_s |θ − a| = √k_f |θ − b|."""
    rs, rf = np.sqrt(SHARP_CURVATURE), np.sqrt(FLAT_CURVATURE)
    a, b = SHARP_CENTRE, FLAT_CENTRE
    return float((rs * a - rf * b) / (rs - rf)), float((rs * a + rf * b) / (rs + rf))
