"""Explorables of the chapter "Large batches and warmup".

- :func:`layer_ratios`: 15 steps of SGD with momentum, LARS and LAMB on a bias-free 4-layer ReLU network on digits,
  from the same initialisation and the same minibatches of size B; left, the relative update ‖Δθ_k‖/‖θ_k‖ of each
  weight matrix k (median over the steps); right, the minibatch loss. The batch size is a slider; the learning rates
  are either fixed or scaled with B (linearly for SGD and LARS, by √k for LAMB, as in You et al. 2017/2020).

The network and the three update rules are written in numpy (float64), so that a frame costs milliseconds; the tests
check them step by step against ``torch.optim.SGD`` and :class:`course_pkg.optim.LARS` / :class:`~course_pkg.optim.LAMB`.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

from course_pkg.experiments import one_blas_thread
from course_pkg.explore import Choice, Explorable, Toggle, log10_ticks

BLUE = "#1f77b4"
ORANGE = "#d95f02"
GREEN = "#1b9e77"
GREY = "#8c8c8c"

#: The network of the explorable: 64 → 64 → 64 → 64 → 10 (four weight matrices, no biases).
WIDTHS = (64, 64, 64, 64, 10)
STEPS = 15
#: Base batch size B₀ and base rates; with scaling, k = B / B₀ multiplies SGD's and LARS's η and √k LAMB's.
BASE_BATCH = 16
BASE_LR = {"SGD": 0.05, "LARS": 0.05, "LAMB": 0.004}
MOMENTUM = 0.9
TRUST = 0.01
BETAS = (0.9, 0.999)
EPS = 1e-6
BATCHES = (32, 128, 512, 1024)
COLORS = {"SGD": BLUE, "LARS": ORANGE, "LAMB": GREEN}
#: Losses above this (and non-finite ones) are drawn at this value.
LOSS_CAP = 1e3


def learning_rate(name: str, batch_size: int, scaled: bool) -> float:
    """η of optimizer ``name`` at batch size B: the base rate, times k = B/B₀ (SGD, LARS) or √k (LAMB) if scaled."""
    if name not in BASE_LR:
        raise ValueError(f"optimizer must be one of {list(BASE_LR)}, got {name!r}")
    k = batch_size / BASE_BATCH
    return BASE_LR[name] * ((math.sqrt(k) if name == "LAMB" else k) if scaled else 1.0)


@cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 standardized digits (:func:`course_pkg.data.load_digits_standardized`) and their labels."""
    from course_pkg.data import load_digits_standardized

    return load_digits_standardized()


def init_weights(seed: int = 0) -> list[np.ndarray]:
    """Weight matrices (fan_out × fan_in) drawn uniformly on ±1/√fan_in, like ``torch.nn.Linear``'s default."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, (b, a)) / math.sqrt(a) for a, b in zip(WIDTHS[:-1], WIDTHS[1:])]


def loss_and_grads(weights: list[np.ndarray], X: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """Mean cross-entropy of the bias-free ReLU network and its gradients (hand-written backpropagation)."""
    hs, h = [X], X
    for W in weights[:-1]:
        h = np.maximum(h @ W.T, 0.0)
        hs.append(h)
    logits = h @ weights[-1].T
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(len(y)), y].mean()
    delta = np.exp(logp)
    delta[np.arange(len(y)), y] -= 1.0
    delta /= len(y)
    grads = [np.empty(0)] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        grads[k] = delta.T @ hs[k]
        if k:
            delta = (delta @ weights[k]) * (hs[k] > 0)
    return float(loss), grads


def _trust(num: float, den: float, w_norm: float, u_norm: float) -> float:
    return num / den if w_norm > 0 and u_norm > 0 else 1.0  # the convention of course_pkg.optim.trust_ratio


def run_ratios(
    name: str, batch_size: int, lr: float, steps: int = STEPS, seed: int = 0
) -> dict[str, np.ndarray]:
    """Train the explorable's network for ``steps`` steps; record the relative update of each weight matrix.

    SGD is torch's heavy ball (b_1 = g_1, b_t = β b_{t-1} + g_t, θ -= η b_t); LARS is (lb-lars) with λ = 0, ζ =
    :data:`TRUST`; LAMB is (lb-lamb) with λ = 0, φ the identity, (β₁, β₂) = :data:`BETAS`, ε = :data:`EPS`. The
    minibatches are consecutive slices of one random permutation (a new one when it runs out).

    Returns
    -------
    dict
        ``ratio``: array (steps, 4) of ‖θ_{k,t} - θ_{k,t-1}‖ / ‖θ_{k,t-1}‖ (``nan`` after a non-finite loss);
        ``loss``: array (steps,) of the minibatch loss L(θ_{t-1}) on 𝓑_t.
    """
    return _run_together({name: lr}, batch_size, steps, seed)[name]


def _run_together(
    lrs: dict[str, float], batch_size: int, steps: int = STEPS, seed: int = 0
) -> dict[str, dict[str, np.ndarray]]:
    """:func:`run_ratios` of each optimizer of ``lrs`` (name → η), on the same minibatches.

    The runs start from the same weights on the same first minibatch, so their first gradient is computed once.
    """
    for name in lrs:
        if name not in BASE_LR:
            raise ValueError(f"optimizer must be one of {list(BASE_LR)}, got {name!r}")
    X, y = digits()
    n = len(y)
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must lie in [1, {n}], got {batch_size}")
    rng = np.random.default_rng(seed + 1)
    perm, pos, batches = rng.permutation(n), 0, []
    for _ in range(steps):
        if pos + batch_size > n:
            perm, pos = rng.permutation(n), 0
        batches.append(perm[pos : pos + batch_size])
        pos += batch_size
    first = loss_and_grads(init_weights(seed), X[batches[0]], y[batches[0]])
    return {name: _train(name, lr, X, y, batches, seed, first) for name, lr in lrs.items()}


def _train(
    name: str,
    lr: float,
    X: np.ndarray,
    y: np.ndarray,
    batches: list[np.ndarray],
    seed: int,
    first: tuple[float, list[np.ndarray]],
) -> dict[str, np.ndarray]:
    weights = init_weights(seed)
    buf = [np.zeros_like(w) for w in weights]
    m = [np.zeros_like(w) for w in weights]
    v = [np.zeros_like(w) for w in weights]
    steps = len(batches)
    ratio = np.full((steps, len(weights)), np.nan)
    loss = np.full(steps, np.nan)
    with np.errstate(all="ignore"):
        for t, idx in enumerate(batches, start=1):
            loss[t - 1], grads = first if t == 1 else loss_and_grads(weights, X[idx], y[idx])
            if not np.isfinite(loss[t - 1]):
                break
            for k, (w, g) in enumerate(zip(weights, grads)):
                w_norm = np.linalg.norm(w)
                if name == "SGD":
                    buf[k] = g.copy() if t == 1 else MOMENTUM * buf[k] + g
                    step = lr * buf[k]
                elif name == "LARS":
                    g_norm = np.linalg.norm(g)
                    chi = _trust(TRUST * w_norm, g_norm, w_norm, g_norm)
                    buf[k] = MOMENTUM * buf[k] + lr * chi * g
                    step = buf[k]
                else:
                    m[k] = BETAS[0] * m[k] + (1 - BETAS[0]) * g
                    v[k] = BETAS[1] * v[k] + (1 - BETAS[1]) * g * g
                    r = (m[k] / (1 - BETAS[0] ** t)) / (np.sqrt(v[k] / (1 - BETAS[1] ** t)) + EPS)
                    r_norm = np.linalg.norm(r)
                    step = lr * _trust(w_norm, r_norm, w_norm, r_norm) * r
                ratio[t - 1, k] = np.linalg.norm(step) / w_norm
                weights[k] = w - step
    return {"ratio": ratio, "loss": loss}


@cache
def _runs(batch_size: int, scaled: bool) -> dict[str, dict[str, Any]]:
    """The three runs of one frame, computed once per process (they are deterministic)."""
    lrs = {name: learning_rate(name, batch_size, scaled) for name in BASE_LR}
    with one_blas_thread():  # small matrices: threads only add contention
        runs = _run_together(lrs, batch_size)
    return {name: {"lr": lr, **runs[name]} for name, lr in lrs.items()}


def _compute(batch_size: int, scaled: bool) -> dict[str, Any]:
    return {
        "batch_size": int(batch_size),
        "scaled": bool(scaled),
        "runs": _runs(int(batch_size), bool(scaled)),
    }


#: Tick marks of the log-scaled panels (every second power of ten: the relative steps differ by decades).
RATIO_TICKS = (1e-4, 1e-2, 1.0)
LOSS_TICKS = (1e-2, 1.0, 1e2)


def _draw(r: dict[str, Any], fig: Any) -> None:
    ax_r, ax_l = fig.subplots(1, 2)
    layers = np.arange(1, len(WIDTHS))
    steps = np.arange(1, STEPS + 1)
    for name, run in r["runs"].items():
        with np.errstate(all="ignore"):
            med = np.nanmedian(np.where(np.isfinite(run["ratio"]), run["ratio"], np.nan), axis=0)
        med = np.clip(np.nan_to_num(med, nan=10.0, posinf=10.0), 1e-5, 10.0)
        ax_r.plot(
            layers,
            np.log10(med),
            "-o",
            color=COLORS[name],
            lw=1.4,
            ms=4,
            label=f"{name}, η = {run['lr']:.3g}",
        )
        loss = np.clip(np.nan_to_num(run["loss"], nan=LOSS_CAP, posinf=LOSS_CAP), 1e-3, LOSS_CAP)
        ax_l.plot(steps[: len(loss)], np.log10(loss), color=COLORS[name], lw=1.4)
    ax_r.set(xlabel="weight matrix k", xticks=layers)
    ax_r.set_ylim(np.log10((1e-5, 10.0)))
    log10_ticks(ax_r.yaxis, RATIO_TICKS)
    ax_r.set_title(f"‖Δθ_k‖ / ‖θ_k‖ (median of {STEPS} steps)", fontsize=10)
    ax_r.legend(fontsize=10, loc="lower left", framealpha=0.9)
    ax_l.axhline(math.log10(math.log(10)), color=GREY, lw=0.8, ls="--")
    ax_l.set(xlabel="step t", xlim=(0.3, STEPS + 0.7), xticks=(1, 5, 10, 15))
    ax_l.set_ylim(np.log10((1e-2, LOSS_CAP)))
    log10_ticks(ax_l.yaxis, LOSS_TICKS)
    rule = "η scaled with B" if r["scaled"] else "η fixed"
    ax_l.set_title(f"minibatch loss, B = {r['batch_size']} ({rule})", fontsize=10)
    for ax in (ax_r, ax_l):
        ax.grid(axis="y", alpha=0.3, lw=0.4)


def layer_ratios() -> Explorable:
    """Batch size × learning-rate scaling: per-layer relative updates and loss of SGD, LARS and LAMB."""
    return Explorable(
        name="large-batch-layer-ratios",
        title="Per-layer relative updates of SGD, LARS and LAMB: batch size × learning-rate scaling",
        params={
            "batch_size": Choice(list(BATCHES), default=512, label="batch size B"),
            "scaled": Toggle(default=True, label="scale η with B"),
        },
        compute=_compute,
        draw=_draw,
        figsize=(8.6, 3.8),
    )


EXPLORABLES = [layer_ratios]
