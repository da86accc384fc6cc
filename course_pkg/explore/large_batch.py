"""Explorables of the chapter "Large batches and warmup".

- :func:`layer_ratios`: 15 steps of SGD with momentum, LARS and LAMB on a 4-layer ReLU network on digits, from the
  same initialisation and the same minibatches of size B; left, the relative update ‖Δθ_k‖/‖θ_k‖ of each weight
  matrix k (median over the steps); right, the training loss. The batch size is a slider; the learning rates are
  either fixed or scaled with B (linearly for SGD and LARS, by √k for LAMB, as in You et al. 2017/2020).
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import torch
from torch import nn

from course_pkg.experiments.large_batch import make_deep_mlp
from course_pkg.experiments.sgd import DigitsSplit, load_digits_split
from course_pkg.explore import Choice, Explorable, Toggle
from course_pkg.explore.core import plain_log_ticks
from course_pkg.optim import LAMB, LARS

BLUE = "#1f77b4"
ORANGE = "#d95f02"
GREEN = "#1b9e77"
GREY = "#8c8c8c"

#: The network of the explorable: 64 → 64 → 64 → 64 → 10 (four weight matrices).
WIDTHS = (64, 64, 64, 64, 10)
STEPS = 15
#: Base batch size B₀ and base rates; with scaling, k = B / B₀ multiplies SGD's and LARS's η and √k LAMB's.
BASE_BATCH = 16
BASE_LR = {"SGD": 0.05, "LARS": 0.05, "LAMB": 0.004}
MOMENTUM = 0.9
TRUST = 0.01
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


def make_optimizer(name: str, params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """SGD with momentum 0.9 (``torch.optim.SGD``), LARS (ζ = 0.01, momentum 0.9) or LAMB (defaults)."""
    if name == "SGD":
        return torch.optim.SGD(params, lr=lr, momentum=MOMENTUM)
    if name == "LARS":
        return LARS(params, lr=lr, momentum=MOMENTUM, trust_coefficient=TRUST)
    if name == "LAMB":
        return LAMB(params, lr=lr)
    raise ValueError(f"optimizer must be one of {list(BASE_LR)}, got {name!r}")


@cache
def _data() -> DigitsSplit:
    return load_digits_split()


def run_ratios(
    name: str, batch_size: int, lr: float, steps: int = STEPS, seed: int = 0
) -> dict[str, np.ndarray]:
    """Train the explorable's network for ``steps`` steps and record the relative update of each weight matrix.

    Biases are trained by the same optimizer (they start at torch's default, not 0) but not reported.

    Returns
    -------
    dict
        ``ratio``: array (steps, 4) of ‖θ_{k,t} - θ_{k,t-1}‖ / ‖θ_{k,t-1}‖ (``nan`` once non-finite);
        ``loss``: array (steps,) of the minibatch loss L(θ_{t-1}) on 𝓑_t, the loss each step sees (``nan`` after
        a non-finite one).
    """
    data = _data()
    n = data.X_train.shape[0]
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must lie in [1, {n}], got {batch_size}")
    model = make_deep_mlp(seed, WIDTHS)
    weights = [m.weight for m in model if isinstance(m, nn.Linear)]
    opt = make_optimizer(name, list(model.parameters()), lr)
    gen = torch.Generator().manual_seed(seed)
    ratio = np.full((steps, len(weights)), np.nan)
    loss = np.full(steps, np.nan)
    perm = torch.randperm(n, generator=gen)
    pos = 0
    for t in range(steps):
        if pos + batch_size > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        idx = perm[pos : pos + batch_size]
        pos += batch_size
        before = [w.detach().clone() for w in weights]
        opt.zero_grad()
        batch_loss = nn.functional.cross_entropy(model(data.X_train[idx]), data.y_train[idx])
        loss[t] = float(batch_loss.detach())
        if not np.isfinite(loss[t]):
            break
        batch_loss.backward()
        opt.step()
        with torch.no_grad():
            ratio[t] = [float((w - w0).norm() / w0.norm()) for w, w0 in zip(weights, before)]
    return {"ratio": ratio, "loss": loss}


@cache
def _runs(batch_size: int, scaled: bool) -> dict[str, dict[str, Any]]:
    """The three runs of one frame, computed once per process (they are deterministic)."""
    runs = {}
    for name in BASE_LR:
        lr = learning_rate(name, batch_size, scaled)
        runs[name] = {"lr": lr, **run_ratios(name, batch_size, lr)}
    return runs


def _compute(batch_size: int, scaled: bool) -> dict[str, Any]:
    return {
        "batch_size": int(batch_size),
        "scaled": bool(scaled),
        "runs": _runs(int(batch_size), bool(scaled)),
    }


def _draw(r: dict[str, Any], fig: Any) -> None:
    ax_r, ax_l = fig.subplots(1, 2)
    layers = np.arange(1, len(WIDTHS))
    for name, run in r["runs"].items():
        with np.errstate(all="ignore"):
            med = np.nanmedian(np.where(np.isfinite(run["ratio"]), run["ratio"], np.nan), axis=0)
        med = np.clip(np.nan_to_num(med, nan=10.0, posinf=10.0), 1e-5, 10.0)
        ax_r.semilogy(
            layers, med, "-o", color=COLORS[name], lw=1.4, ms=4, label=f"{name}, η = {run['lr']:.3g}"
        )
        loss = np.clip(np.nan_to_num(run["loss"], nan=LOSS_CAP, posinf=LOSS_CAP), 1e-3, LOSS_CAP)
        ax_l.semilogy(np.arange(1, len(loss) + 1), loss, color=COLORS[name], lw=1.4, label=name)
    ax_r.set(xlabel="weight matrix k", xticks=layers, ylim=(1e-5, 10.0))
    ax_r.set_title(f"‖Δθ_k‖ / ‖θ_k‖ (median of {STEPS} steps)", fontsize=10)
    ax_r.legend(fontsize=10, loc="upper left", framealpha=0.9)
    ax_l.axhline(math.log(10), color=GREY, lw=0.8, ls="--")
    ax_l.set(xlabel="step t", ylim=(1e-2, LOSS_CAP))
    rule = "η scaled with B" if r["scaled"] else "η fixed"
    ax_l.set_title(f"minibatch loss, B = {r['batch_size']} ({rule})", fontsize=10)
    ax_l.legend(fontsize=10, loc="upper right", framealpha=0.9)
    for ax in (ax_r, ax_l):
        ax.grid(alpha=0.3, lw=0.4)
        plain_log_ticks(ax.yaxis)


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
