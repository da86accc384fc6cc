"""Experiments of the chapter "Choosing an optimizer" (its explorable is :mod:`course_pkg.explore.chapters.choosing`).

A *fair* race gives every optimizer its own tuned learning rate. Here the tuning protocol is a log-grid search
with half-decade spacing, η = 10^(k/2), scored by the final loss (2-D test functions) or by the validation
accuracy (digits MLP); each optimizer then races with its best η.

- :func:`run_landscape` / :func:`tune_landscape` / :func:`landscape_race`: SGD, momentum, Adagrad, RMSprop and
  Adam (all from :mod:`course_pkg.optim`) on Rosenbrock, Beale and a saddle (:mod:`course_pkg.landscapes`);
  :data:`TUNED_EXPONENTS` records the tuning (the chapter recomputes and checks it).
- :func:`train_digits_mlp` / :func:`digits_race`: the same optimizers train a small MLP on scikit-learn's digits.
- :func:`wilson_data` / :func:`train_least_squares`: the over-parameterized, linearly separable problem of
  Wilson et al. (2017), on which adaptive methods generalize worse than gradient descent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch

import course_pkg.optim as co
from course_pkg.data import load_digits
from course_pkg.experiments.sgd import shuffled_minibatches
from course_pkg.landscapes import Landscape, beale, rosenbrock, saddle

__all__ = [
    "OPTIMIZERS",
    "PROBLEMS",
    "LR_EXPONENTS",
    "STEPS",
    "TUNED_EXPONENTS",
    "make_optimizer",
    "optimal_value",
    "run_landscape",
    "tune_landscape",
    "landscape_race",
    "DigitsRun",
    "digits_split",
    "train_digits_mlp",
    "digits_race",
    "wilson_data",
    "train_least_squares",
]

#: The contestants: name → (course_pkg.optim class, fixed keyword arguments). Only the learning rate is tuned.
OPTIMIZERS: dict[str, tuple[type, dict[str, Any]]] = {
    "SGD": (co.SGD, {}),
    "Momentum": (co.SGD, {"momentum": 0.9}),
    "Adagrad": (co.Adagrad, {}),
    "RMSprop": (co.RMSprop, {}),
    "Adam": (co.Adam, {}),
}

#: The learning-rate grid of the 2-D races: η = 10^(k/2) for these k (10⁻⁴ … 10).
LR_EXPONENTS = tuple(range(-8, 3))
#: Steps of every 2-D run.
STEPS = 300


def _problems() -> dict[str, tuple[Landscape, tuple[float, float]]]:
    # the saddle's demo start lies exactly on the attracting x-axis; a 10⁻³ nudge in y lets methods escape
    return {
        "rosenbrock": (rosenbrock(), rosenbrock().start),
        "beale": (beale(), beale().start),
        "saddle": (saddle(), (-1.8, 1e-3)),
    }


#: Problems of the 2-D race: name → (landscape, start θ₀).
PROBLEMS = _problems()


def make_optimizer(name: str, params: Any, lr: float) -> torch.optim.Optimizer:
    """An optimizer of :data:`OPTIMIZERS` with learning rate ``lr``.

    Parameters
    ----------
    name : str
        A key of :data:`OPTIMIZERS`.
    params : iterable of torch.Tensor
        Parameters to optimize.
    lr : float
        Learning rate η.

    Returns
    -------
    torch.optim.Optimizer
        The configured :mod:`course_pkg.optim` optimizer.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}")
    cls, kwargs = OPTIMIZERS[name]
    return cls(params, lr=lr, **kwargs)


def _check_problem(problem: str) -> tuple[Landscape, tuple[float, float]]:
    if problem not in PROBLEMS:
        raise ValueError(f"unknown problem {problem!r}; choose one of {sorted(PROBLEMS)}")
    return PROBLEMS[problem]


def optimal_value(landscape: Landscape) -> float:
    """The loss L* at the landscape's best known minimum."""
    return float(np.min(landscape.value(np.asarray(landscape.minima, dtype=np.float64))))


@lru_cache(maxsize=512)
def run_landscape(
    problem: str, optimizer: str, lr_exponent: int, steps: int = STEPS
) -> tuple[np.ndarray, np.ndarray]:
    """Run one optimizer on one 2-D problem with η = 10^(lr_exponent/2) (cached).

    Parameters
    ----------
    problem : str
        A key of :data:`PROBLEMS`.
    optimizer : str
        A key of :data:`OPTIMIZERS`.
    lr_exponent : int
        k in η = 10^(k/2).
    steps : int
        Number of steps T.

    Returns
    -------
    trajectory : numpy.ndarray of shape (T + 1, 2)
        θ₀, θ₁, …, θ_T (the run stops early, padded with NaN, if θ leaves a large box).
    gaps : numpy.ndarray of shape (T + 1,)
        Optimality gaps L(θ_t) − L* (NaN after a divergence).
    """
    landscape, start = _check_problem(problem)
    theta = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer(optimizer, [theta], 10.0 ** (lr_exponent / 2))
    traj = np.full((steps + 1, 2), np.nan)
    traj[0] = start
    for t in range(1, steps + 1):
        theta.grad = landscape.gradient(theta.detach())
        opt.step()
        value = theta.detach().numpy()
        if not np.all(np.isfinite(value)) or np.abs(value).max() > 1e3:
            break
        traj[t] = value
    gaps = landscape.value(traj) - optimal_value(landscape)
    return traj, np.asarray(gaps, dtype=np.float64)


def tune_landscape(problem: str, optimizer: str) -> tuple[int, np.ndarray]:
    """Grid-search the learning rate of one optimizer on one 2-D problem.

    The score of η is the final optimality gap L(θ_T) − L* (a diverged run scores +∞); the smallest wins,
    ties going to the smaller η.

    Parameters
    ----------
    problem : str
        A key of :data:`PROBLEMS`.
    optimizer : str
        A key of :data:`OPTIMIZERS`.

    Returns
    -------
    best_exponent : int
        k of the tuned η = 10^(k/2).
    final_gaps : numpy.ndarray of shape (len(LR_EXPONENTS),)
        The score of every grid point.
    """
    finals = np.array([run_landscape(problem, optimizer, k)[1][-1] for k in LR_EXPONENTS])
    scores = np.where(np.isfinite(finals), finals, np.inf)
    return LR_EXPONENTS[int(np.argmin(scores))], finals


def landscape_race(problem: str, lr_offset: int = 0) -> dict[str, Any]:
    """Every optimizer on one problem at its tuned η times 10^(lr_offset/2).

    Parameters
    ----------
    problem : str
        A key of :data:`PROBLEMS`.
    lr_offset : int
        Half-decades added to every tuned exponent (0: the tuned race).

    Returns
    -------
    dict
        ``{"tuned": {name: k}, "lr": {name: η}, "trajectories": {name: (T+1, 2)}, "gaps": {name: (T+1,)}}``.
    """
    tuned = {name: tune_landscape(problem, name)[0] for name in OPTIMIZERS}
    out: dict[str, Any] = {"tuned": tuned, "lr": {}, "trajectories": {}, "gaps": {}}
    for name, k in tuned.items():
        traj, gaps = run_landscape(problem, name, k + lr_offset)
        out["lr"][name] = 10.0 ** ((k + lr_offset) / 2)
        out["trajectories"][name] = traj
        out["gaps"][name] = gaps
    return out


# ---------------------------------------------------------------------------------------------- digits MLP
def digits_split(seed: int = 0) -> dict[str, torch.Tensor]:
    """scikit-learn's 8×8 digits (n = 1797), scaled to [0, 1], split 1000 / 300 / 497 (train/val/test).

    :func:`course_pkg.data.load_digits` with ``split="shuffled", scaling="unit"``, as tensors.

    Parameters
    ----------
    seed : int
        Seed of the permutation.

    Returns
    -------
    dict of str to torch.Tensor
        ``X_train, y_train, X_val, y_val, X_test, y_test`` (float32 inputs, int64 labels).
    """
    digits = load_digits(split="shuffled", seed=seed, train_val=(1000, 300), scaling="unit")
    return {
        k: torch.tensor(v, dtype=torch.float32 if k.startswith("X") else torch.int64)
        for k, v in digits.items()
    }


@dataclass(frozen=True)
class DigitsRun:
    """History of one digits-MLP training run.

    Attributes
    ----------
    optimizer : str
        Name in :data:`OPTIMIZERS`.
    lr : float
        Learning rate η.
    train_loss : numpy.ndarray
        Mean training cross-entropy of each epoch.
    val_accuracy : numpy.ndarray
        Validation accuracy after each epoch.
    test_accuracy : float
        Test accuracy after the last epoch.
    """

    optimizer: str
    lr: float
    train_loss: np.ndarray
    val_accuracy: np.ndarray
    test_accuracy: float


def _accuracy(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(X).argmax(dim=1) == y).float().mean())


def train_digits_mlp(
    optimizer: str, lr: float, epochs: int = 5, batch_size: int = 50, hidden: int = 64, seed: int = 0
) -> DigitsRun:
    """Train a 64–hidden–10 ReLU MLP on the digits split with one optimizer.

    The initialization and the minibatch order depend only on ``seed``, so every optimizer sees the same
    network and the same batches.

    Parameters
    ----------
    optimizer : str
        A key of :data:`OPTIMIZERS`.
    lr : float
        Learning rate η.
    epochs : int
        Passes over the 1000 training digits.
    batch_size : int
        Minibatch size B.
    hidden : int
        Width of the hidden layer.
    seed : int
        Seed of the data split, initialization and batch order.

    Returns
    -------
    DigitsRun
        Loss and accuracy history.
    """
    data = digits_split(seed)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))
    opt = make_optimizer(optimizer, model.parameters(), lr)
    gen = torch.Generator().manual_seed(seed)
    n = data["X_train"].shape[0]
    losses, val_acc = [], []
    for _ in range(epochs):
        total = 0.0
        for idx in shuffled_minibatches(n, batch_size, gen):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(data["X_train"][idx]), data["y_train"][idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / n if math.isfinite(total) else float("nan"))
        val_acc.append(_accuracy(model, data["X_val"], data["y_val"]))
    return DigitsRun(
        optimizer=optimizer,
        lr=lr,
        train_loss=np.array(losses),
        val_accuracy=np.array(val_acc),
        test_accuracy=_accuracy(model, data["X_test"], data["y_test"]),
    )


def digits_race(
    lr_exponents: tuple[int, ...] = tuple(range(-7, 3)), epochs: int = 5, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """Tune each optimizer's η on the validation set, then report its test accuracy.

    Parameters
    ----------
    lr_exponents : tuple of int
        The grid η = 10^(k/2).
    epochs : int
        Epochs of every run.
    seed : int
        Seed shared by all runs.

    Returns
    -------
    dict
        Per optimizer: ``{"runs": [DigitsRun per η], "best": DigitsRun}``; the best run has the highest final
        validation accuracy (ties: lower final training loss).
    """
    out: dict[str, dict[str, Any]] = {}
    for name in OPTIMIZERS:
        runs = [train_digits_mlp(name, 10.0 ** (k / 2), epochs=epochs, seed=seed) for k in lr_exponents]
        best = max(
            runs,
            key=lambda r: (
                r.val_accuracy[-1],
                -r.train_loss[-1] if np.isfinite(r.train_loss[-1]) else -np.inf,
            ),
        )
        out[name] = {"runs": runs, "best": best}
    return out


# --------------------------------------------------------------------------------- Wilson et al. (2017)
def wilson_data(n: int, p: float = 0.6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The linearly separable, over-parameterized problem of Wilson et al. (2017), section 3.3.

    Each label yᵢ is +1 with probability p, else −1. The feature vector xᵢ ∈ ℝ^(3+5n) has xᵢ₁ = yᵢ,
    xᵢ₂ = xᵢ₃ = 1, and a block of "private" features used by no other point: one feature set to 1 if yᵢ = +1,
    five if yᵢ = −1. With d = 3 + 5n > n, least squares has infinitely many interpolating solutions.

    Parameters
    ----------
    n : int
        Number of points.
    p : float
        Probability of the label +1.
    seed : int
        Seed.

    Returns
    -------
    X : numpy.ndarray of shape (n, 3 + 5 n)
        Features.
    y : numpy.ndarray of shape (n,)
        Labels in {−1, +1}.
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got {p}")
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < p, 1.0, -1.0)
    X = np.zeros((n, 3 + 5 * n))
    X[:, 0] = y
    X[:, 1:3] = 1.0
    for i in range(n):
        k = 1 if y[i] > 0 else 5
        X[i, 3 + 5 * i : 3 + 5 * i + k] = 1.0
    return X, y


def train_least_squares(
    X: np.ndarray, y: np.ndarray, optimizer: str, lr: float, steps: int = 400
) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch training of a linear model on the loss L(θ) = (1/2n) ‖Xθ − y‖², from θ₀ = 0, in float64.

    Parameters
    ----------
    X : numpy.ndarray of shape (n, d)
        Features.
    y : numpy.ndarray of shape (n,)
        Targets.
    optimizer : str
        A key of :data:`OPTIMIZERS`.
    lr : float
        Learning rate η.
    steps : int
        Number of full-batch steps.

    Returns
    -------
    theta : numpy.ndarray of shape (d,)
        The final parameters.
    losses : numpy.ndarray of shape (steps,)
        Training loss before each step.
    """
    Xt = torch.as_tensor(X, dtype=torch.float64)
    yt = torch.as_tensor(y, dtype=torch.float64)
    theta = torch.zeros(Xt.shape[1], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer(optimizer, [theta], lr)
    losses = np.empty(steps)
    for t in range(steps):
        opt.zero_grad()
        loss = 0.5 * ((Xt @ theta - yt) ** 2).mean()
        loss.backward()
        opt.step()
        losses[t] = loss.item()
    return theta.detach().numpy().copy(), losses


#: Result of :func:`tune_landscape` for every problem and optimizer (k of η = 10^(k/2)); the chapter recomputes
#: the tuning and checks these values, so that the explorable's frames need no tuning of their own.
TUNED_EXPONENTS: dict[str, dict[str, int]] = {
    "rosenbrock": {"SGD": -6, "Momentum": -6, "Adagrad": 1, "RMSprop": -1, "Adam": 0},
    "beale": {"SGD": -3, "Momentum": -5, "Adagrad": 0, "RMSprop": -2, "Adam": -1},
    "saddle": {"SGD": -2, "Momentum": -1, "Adagrad": -1, "RMSprop": -3, "Adam": -2},
}
