"""Experiments of the chapter "Adam and its family".

- :func:`adam_run`: Adam (torch's form, optional bias correction and linear warmup) with a gradient oracle, on
  NumPy arrays: the iterates, the steps θ_t − θ_{t−1} and the learning rates η_t.
- :func:`radam_rho`, :func:`first_rectified_step`, :func:`rectification`: RAdam's length of the approximated simple
  moving average ρ_t and its variance rectification term r_t (Liu et al. 2020).
- :func:`adaptive_lr_variance`: Monte-Carlo variance of Adam's adaptive learning rate ψ_t = √((1 − β₂ᵗ)/v_t) for
  i.i.d. Gaussian gradients, with and without rectification.
- :func:`logistic_regression_race`: Kingma & Ba (2015) §6.1 on digits — L2-regularised multinomial logistic
  regression trained with Adam, Adagrad and SGD with Nesterov momentum, each with its own tuned step size and the
  paper's α_t = α/√t decay.
- :func:`warmup_race`: Adam without warmup, Adam with a warmup schedule and RAdam at a high learning rate on a small
  MLP, with the fraction of dead ReLU units at the end.
- :func:`reddi_gradients`, :func:`projected_adam`, :func:`online_regret`: Reddi et al.'s (2018) one-dimensional
  online problem on which Adam converges to the worst point of [−1, 1] and AMSGrad to the best.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from course_pkg.experiments.sgd import DigitsSplit, accuracy, full_loss, shuffled_minibatches

__all__ = [
    "adam_run",
    "radam_rho",
    "first_rectified_step",
    "rectification",
    "adaptive_lr_variance",
    "logistic_regression_race",
    "warmup_race",
    "reddi_gradients",
    "projected_adam",
    "online_regret",
]


def adam_run(
    gradients: np.ndarray | Any,
    theta0: np.ndarray,
    steps: int,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    bias_correction: bool = True,
    warmup: int = 0,
) -> dict[str, np.ndarray]:
    r"""Adam (torch's form) with a gradient oracle ``gradients(theta, t) -> g_t``, on NumPy arrays.

    With g_t the gradient at θ_{t−1}, operations elementwise, m_0 = v_0 = 0:

        m_t = β₁ m_{t−1} + (1 − β₁) g_t,    v_t = β₂ v_{t−1} + (1 − β₂) g_t²,
        m̂_t = m_t / (1 − β₁ᵗ),    v̂_t = v_t / (1 − β₂ᵗ),    θ_t = θ_{t−1} − η_t m̂_t / (√v̂_t + ε).

    Without bias correction m̂_t, v̂_t are replaced by m_t, v_t. With a linear warmup of W = ``warmup`` steps,
    η_t = η min(1, t/W).

    Parameters
    ----------
    gradients : callable
        ``gradients(theta, t) -> g_t`` for t = 1, …, steps.
    theta0 : numpy.ndarray
        Starting point θ₀.
    steps : int
        Number of steps T.
    lr : float
        Learning rate η.
    beta1, beta2 : float
        Decay rates β₁, β₂ of the moment EMAs.
    eps : float
        ε added to √v̂_t.
    bias_correction : bool
        Divide by 1 − β₁ᵗ and 1 − β₂ᵗ.
    warmup : int
        Length W of the linear warmup (0: none).

    Returns
    -------
    dict
        ``"theta"`` (steps + 1, d) iterates, ``"step"`` (steps, d) updates θ_t − θ_{t−1}, ``"lr"`` (steps,) η_t.
    """
    if lr <= 0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= beta1 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
    if not 0.0 <= beta2 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
    # the updates are per coordinate: plain Python floats (the same IEEE arithmetic as NumPy's, bit for bit) are
    # several times faster than NumPy on the 1- or 2-D problems of the chapter and its explorable
    theta = np.asarray(theta0, dtype=float).ravel().tolist()
    d = len(theta)
    m, v = [0.0] * d, [0.0] * d
    thetas, deltas, lrs = [theta], [], []
    sqrt = math.sqrt
    for t in range(1, steps + 1):
        g = np.asarray(gradients(np.array(theta), t), dtype=float).ravel().tolist()
        m = [beta1 * mj + (1 - beta1) * gj for mj, gj in zip(m, g)]
        v = [beta2 * vj + (1 - beta2) * gj * gj for vj, gj in zip(v, g)]
        if bias_correction:
            c1, c2 = 1 - beta1**t, 1 - beta2**t
            m_hat, v_hat = [mj / c1 for mj in m], [vj / c2 for vj in v]
        else:
            m_hat, v_hat = m, v
        eta = lr * min(1.0, t / warmup) if warmup > 0 else lr
        delta = [-eta * mj / (sqrt(vj) + eps) for mj, vj in zip(m_hat, v_hat)]
        theta = [th + dj for th, dj in zip(theta, delta)]
        thetas.append(theta)
        deltas.append(delta)
        lrs.append(eta)
    thetas = np.array(thetas, dtype=float).reshape(steps + 1, d)
    deltas = np.array(deltas, dtype=float).reshape(steps, d)
    lrs = np.array(lrs, dtype=float)
    return {"theta": thetas, "step": deltas, "lr": lrs}


def radam_rho(t: Any, beta2: float) -> np.ndarray:
    """Length of the approximated simple moving average, ρ_t = ρ_∞ − 2 t β₂ᵗ / (1 − β₂ᵗ), ρ_∞ = 2/(1 − β₂) − 1."""
    if not 0.0 < beta2 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
    t = np.asarray(t, dtype=float)
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    return rho_inf - 2.0 * t * beta2**t / (1.0 - beta2**t)


def first_rectified_step(beta2: float, threshold: float = 5.0) -> int:
    """First step t with ρ_t > threshold (torch.optim.RAdam uses 5; Liu et al.'s Algorithm 2 uses 4)."""
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    if rho_inf <= threshold:
        raise ValueError(
            f"rho_inf = {rho_inf:.3g} never exceeds the threshold {threshold} for beta2 = {beta2}"
        )
    t = 1
    while radam_rho(t, beta2) <= threshold:
        t += 1
    return t


def rectification(t: Any, beta2: float) -> np.ndarray:
    """RAdam's rectification term r_t = √((ρ_t − 4)(ρ_t − 2) ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2) ρ_t)); NaN where ρ_t ≤ 4."""
    rho = radam_rho(t, beta2)
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    with np.errstate(invalid="ignore"):
        r = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    return np.where(rho > 4, r, np.nan)


def adaptive_lr_variance(
    beta2: float = 0.999, steps: int = 200, n_samples: int = 20000, seed: int = 0
) -> dict[str, np.ndarray]:
    """Monte-Carlo variance of Adam's bias-corrected adaptive learning rate under Gaussian gradients.

    Each of ``n_samples`` independent runs draws g_t ~ N(0, 1) i.i.d. and computes v_t = β₂ v_{t−1} + (1 − β₂) g_t²
    (v_0 = 0) and ψ_t = √((1 − β₂ᵗ) / v_t) (ε = 0). For a large t, v_t averages many squared gradients and
    ψ_t concentrates near 1/σ = 1; early on it is a function of a few gradients and its variance is large
    (at t = 1, ψ₁ = 1/|g₁| has infinite variance; the sample variance is then only a large, unstable number).

    Returns
    -------
    dict
        ``"t"`` (1…steps), ``"var"`` = Var[ψ_t], ``"var_rectified"`` = Var[r_t ψ_t] (NaN where ρ_t ≤ 4),
        ``"rho"`` = ρ_t.
    """
    if steps < 1 or n_samples < 2:
        raise ValueError(f"need steps >= 1 and n_samples >= 2, got steps={steps}, n_samples={n_samples}")
    rng = np.random.default_rng(seed)
    v = np.zeros(n_samples)
    var = np.empty(steps)
    var_rect = np.empty(steps)
    t = np.arange(1, steps + 1)
    r = rectification(t, beta2)
    for i in range(steps):
        g = rng.standard_normal(n_samples)
        v = beta2 * v + (1 - beta2) * g * g
        psi = np.sqrt((1 - beta2 ** (i + 1)) / v)
        var[i] = psi.var()
        var_rect[i] = (r[i] * psi).var() if np.isfinite(r[i]) else np.nan
    return {"t": t, "var": var, "var_rectified": var_rect, "rho": radam_rho(t, beta2)}


def _digits_logreg_loss(
    W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, y: torch.Tensor, l2: float
) -> torch.Tensor:
    return nn.functional.cross_entropy(X @ W.T + b, y) + 0.5 * l2 * (W * W).sum()


def logistic_regression_race(
    data: DigitsSplit,
    optimizers: dict[str, tuple[Callable[..., torch.optim.Optimizer], dict[str, float]]],
    lrs: Sequence[float],
    epochs: int = 45,
    batch_size: int = 128,
    l2: float = 1e-3,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Kingma & Ba (2015) §6.1: L2-regularised multinomial logistic regression, each optimizer with its best α.

    The learning rate decays as α_t = α/√t (t the step), as in the paper. For every optimizer and every α in ``lrs``
    the model (W: 10 × 64, b: 10, zero initialisation) is trained with minibatches of ``batch_size`` reshuffled
    every epoch; the α with the lowest final full-batch training objective R̂(θ) + (λ/2)‖W‖² is kept.

    Parameters
    ----------
    data : DigitsSplit
    optimizers : dict
        Name → (optimizer class, extra keyword arguments), e.g. ``{"Adam": (torch.optim.Adam, {})}``.
    lrs : sequence of float
        Candidate step sizes α.
    epochs, batch_size, l2, seed
        Training length, minibatch size, L2 weight λ, and the seed of the shuffling (shared by all runs).

    Returns
    -------
    dict
        Name → ``{"lr": best α, "curve": training objective after every epoch (index 0: initial),
        "test_accuracy": float, "final": {α: final objective}}``.
    """
    X, y = data.X_train.double(), data.y_train
    n = X.shape[0]
    out: dict[str, dict[str, Any]] = {}
    for name, (cls, kwargs) in optimizers.items():
        best: dict[str, Any] | None = None
        finals: dict[float, float] = {}
        for lr in lrs:
            W = torch.zeros(10, X.shape[1], dtype=torch.float64, requires_grad=True)
            b = torch.zeros(10, dtype=torch.float64, requires_grad=True)
            opt = cls([W, b], lr=lr, **kwargs)
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0 / math.sqrt(k + 1))
            gen = torch.Generator().manual_seed(seed)
            curve = [float(_digits_logreg_loss(W, b, X, y, l2).detach())]
            for _ in range(epochs):
                for idx in shuffled_minibatches(n, batch_size, gen):
                    loss = _digits_logreg_loss(W, b, X[idx], y[idx], l2)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    sched.step()
                with torch.no_grad():
                    curve.append(float(_digits_logreg_loss(W, b, X, y, l2)))
            final = curve[-1] if math.isfinite(curve[-1]) else math.inf
            finals[lr] = final
            if best is None or final < best["curve"][-1]:
                with torch.no_grad():
                    acc = float(
                        ((data.X_test.double() @ W.T + b).argmax(dim=1) == data.y_test).double().mean()
                    )
                best = {"lr": lr, "curve": curve, "test_accuracy": acc}
        assert best is not None
        best["final"] = finals
        out[name] = best
    return out


def warmup_race(
    data: DigitsSplit,
    runs: dict[str, tuple[Callable[..., torch.optim.Optimizer], int | Callable[[int], float]]],
    lr: float,
    epochs: int = 10,
    batch_size: int = 32,
    hidden: int = 128,
    depth: int = 3,
    seeds: Sequence[int] = (0,),
) -> dict[str, dict[str, Any]]:
    """Train a ReLU MLP (``depth`` hidden layers of width ``hidden``) at one (high) learning rate.

    Parameters
    ----------
    data : DigitsSplit
    runs : dict
        Name → (optimizer class, warmup). An integer W > 0 multiplies the learning rate by min(1, t/W) at step
        t = 1, 2, … (linear warmup; 0: none); a callable f multiplies it by f(t).
    lr : float
        Peak learning rate η.
    epochs, batch_size, hidden, depth
        Training length and network shape.
    seeds : sequence of int
        Each seed sets the initialisation and the shuffling; results are per seed.

    Returns
    -------
    dict
        Name → ``{"loss": (len(seeds), steps) minibatch losses, "train_loss": (len(seeds),) final full-batch
        training losses, "test_accuracy": (len(seeds),) array, "dead": (len(seeds), depth) fraction of the
        units of each hidden layer that are zero on every training example at the end ("dead" ReLUs)}``.
    """
    n = data.X_train.shape[0]
    out: dict[str, dict[str, Any]] = {}
    for name, (cls, warmup) in runs.items():
        if callable(warmup):
            factor = warmup
        else:
            w = max(int(warmup), 0)

            def factor(t: int, w: int = w) -> float:
                return 1.0 if w == 0 else min(1.0, t / w)

        losses, finals, accs, dead = [], [], [], []
        for seed in seeds:
            torch.manual_seed(seed)
            layers: list[nn.Module] = []
            width = data.X_train.shape[1]
            for _ in range(depth):
                layers += [nn.Linear(width, hidden), nn.ReLU()]
                width = hidden
            model = nn.Sequential(*layers, nn.Linear(width, 10))
            opt = cls(model.parameters(), lr=lr)
            # LambdaLR's counter k starts at 0 for the first step: the multiplier of step t = k + 1 is factor(t)
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k, f=factor: f(k + 1))
            gen = torch.Generator().manual_seed(seed)
            curve = []
            for _ in range(epochs):
                for idx in shuffled_minibatches(n, batch_size, gen):
                    loss = nn.functional.cross_entropy(model(data.X_train[idx]), data.y_train[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    sched.step()
                    curve.append(float(loss.detach()))
            losses.append(curve)
            final = full_loss(model, data.X_train, data.y_train)
            finals.append(final if math.isfinite(final) else math.inf)
            accs.append(accuracy(model, data.X_test, data.y_test))
            with torch.no_grad():
                h, frac = data.X_train, []
                for module in model:
                    h = module(h)
                    if isinstance(module, nn.ReLU):
                        frac.append(float((h > 0).sum(dim=0).eq(0).double().mean()))
            dead.append(frac)
        out[name] = {
            "loss": np.array(losses),
            "train_loss": np.array(finals),
            "test_accuracy": np.array(accs),
            "dead": np.array(dead),
        }
    return out


def reddi_gradients(
    steps: int,
    C: float = 1010.0,
    period: int = 101,
    stochastic: bool = False,
    n_runs: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """Gradients of Reddi et al.'s (2018, §5) linear losses f_t(x) = g_t x on the interval [−1, 1].

    Online version: g_t = C when t mod ``period`` = 1, −10 otherwise (t = 1, 2, …). Stochastic version: g_t = C
    with probability 1/``period``, −10 otherwise, independently. With the defaults the average gradient is
    positive ((C − 10(period − 1))/period = 0.099 online, 0.2 in expectation), so the best point is x = −1; the
    large, rare gradient is the only one pointing there.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_runs, steps)``.
    """
    if steps < 1 or period < 2 or n_runs < 1:
        raise ValueError(f"need steps >= 1, period >= 2, n_runs >= 1; got {steps}, {period}, {n_runs}")
    if not stochastic:
        t = np.arange(1, steps + 1)
        return np.tile(np.where(t % period == 1, C, -10.0), (n_runs, 1))
    rng = np.random.default_rng(seed)
    return np.where(rng.random((n_runs, steps)) < 1.0 / period, C, -10.0)


def projected_adam(
    grads: np.ndarray,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.99),
    eps: float = 1e-8,
    amsgrad: bool = False,
    radius: float = 1.0,
) -> np.ndarray:
    """Adam or AMSGrad on linear losses over [−radius, radius], step size α_t = ``lr``/√t, from x_0 = 0.

    The update is ``torch.optim.Adam``'s (bias-corrected moments; with ``amsgrad`` the running maximum of v_t in
    the denominator), followed by a projection (clipping) onto the interval, as in Reddi et al. (2018). The
    gradients do not depend on x, so many runs advance at once, one per row of ``grads``.

    Returns
    -------
    numpy.ndarray
        Shape of ``grads``: the iterates x_1, …, x_T of every run.
    """
    grads = np.atleast_2d(np.asarray(grads, dtype=np.float64))
    beta1, beta2 = betas
    x = np.zeros(grads.shape[0])
    m, v, v_max = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    xs = np.empty_like(grads)
    for t in range(1, grads.shape[1] + 1):
        g = grads[:, t - 1]
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        if amsgrad:
            v_max = np.maximum(v_max, v)
        denom = np.sqrt(v_max if amsgrad else v) / math.sqrt(1 - beta2**t) + eps
        x = np.clip(x - lr / math.sqrt(t) * (m / (1 - beta1**t)) / denom, -radius, radius)
        xs[:, t - 1] = x
    return xs


def online_regret(grads: np.ndarray, xs: np.ndarray, radius: float = 1.0) -> np.ndarray:
    """Average regret R_T/T of the iterates on linear losses, for every horizon T (shape of ``grads``).

    The learner suffers f_t(x_{t−1}) = g_t x_{t−1} (x_0 = 0); the best fixed point of [−radius, radius] in
    hindsight suffers −radius·|Σ_{s≤T} g_s|.
    """
    grads = np.atleast_2d(grads)
    prev = np.concatenate([np.zeros((xs.shape[0], 1)), xs[:, :-1]], axis=1)
    T = np.arange(1, grads.shape[1] + 1)
    return (np.cumsum(grads * prev, axis=1) + radius * np.abs(np.cumsum(grads, axis=1))) / T
