"""Step time of course_pkg.optim against torch.optim (single-tensor path, ``foreach=False``) on a ~1M-parameter MLP.

Both optimizers get identical parameters and gradients; steps alternate between the two so that load on the
machine affects both alike. Printed: the median step time of each and their ratio (target ≤ 1.2×).
Run with ``python -m benchmarks optim`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

import course_pkg.optim as ours

LAYERS = [(784, 1024), (1024, 256), (256, 10)]  # 1,068,810 parameters in 6 tensors
WARMUP, REPEATS = 3, 40
TARGET = 1.2

# name, our class, torch's class (None: no torch counterpart; compared with Adagrad, its closest relative), kwargs
CASES: list[tuple[str, type[torch.optim.Optimizer], type[torch.optim.Optimizer], dict[str, Any], bool]] = [
    (
        "SGD (momentum, Nesterov)",
        ours.SGD,
        torch.optim.SGD,
        {"lr": 0.01, "momentum": 0.9, "nesterov": True},
        True,
    ),
    ("Adagrad", ours.Adagrad, torch.optim.Adagrad, {"lr": 0.01}, True),
    (
        "RMSprop (centered, momentum)",
        ours.RMSprop,
        torch.optim.RMSprop,
        {"centered": True, "momentum": 0.9},
        True,
    ),
    ("Adadelta", ours.Adadelta, torch.optim.Adadelta, {}, True),
    ("Adam", ours.Adam, torch.optim.Adam, {}, True),
    (
        "Adam (amsgrad, weight decay)",
        ours.Adam,
        torch.optim.Adam,
        {"amsgrad": True, "weight_decay": 0.01},
        True,
    ),
    ("AdamW", ours.AdamW, torch.optim.AdamW, {}, True),
    ("NAdam", ours.NAdam, torch.optim.NAdam, {}, True),
    ("RAdam", ours.RAdam, torch.optim.RAdam, {}, True),
    ("FTRL (vs torch Adagrad)", ours.FTRL, torch.optim.Adagrad, {}, False),
]


def make_params(seed: int = 0) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """MLP weights and biases (float32) with a fixed random gradient attached to each."""
    gen = torch.Generator().manual_seed(seed)
    params, grads = [], []
    for n_in, n_out in LAYERS:
        for shape in ((n_out, n_in), (n_out,)):
            params.append((torch.randn(shape, generator=gen) / n_in**0.5).requires_grad_())
            grads.append(torch.randn(shape, generator=gen) * 1e-2)
    return params, grads


def time_pairs(step_a: Callable[[], Any], step_b: Callable[[], Any]) -> tuple[list[float], list[float]]:
    """Time ``REPEATS`` pairs of calls (after a warm-up), alternating which goes first; seconds per call."""
    for _ in range(WARMUP):
        step_a()
        step_b()
    times_a, times_b = [], []
    for i in range(REPEATS):
        order = ((step_a, times_a), (step_b, times_b))
        for step, times in order if i % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
    return times_a, times_b


def measure(
    ours_cls: type[torch.optim.Optimizer],
    ref_cls: type[torch.optim.Optimizer],
    kwargs: dict[str, Any],
    same: bool,
) -> tuple[float, float, float]:
    """Median step times (seconds) of ours and torch's, and the median of the per-pair ratios.

    The ratio is taken pair by pair (two neighbouring steps) so that changes of load on a shared machine cancel.
    """
    p_ours, grads = make_params()
    p_ref = [p.detach().clone().requires_grad_() for p in p_ours]
    for p, q, g in zip(p_ours, p_ref, grads):
        p.grad, q.grad = g.clone(), g.clone()
    opt = ours_cls(p_ours, **kwargs)
    ref = ref_cls(p_ref, **(kwargs if same else {}), foreach=False)
    t_ours, t_ref = time_pairs(opt.step, ref.step)
    ratio = statistics.median(a / b for a, b in zip(t_ours, t_ref))
    return statistics.median(t_ours), statistics.median(t_ref), ratio


def main() -> None:
    """Print the table: median step time of course_pkg vs torch.optim, and their ratio."""
    n_params = sum(n_in * n_out + n_out for n_in, n_out in LAYERS)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: steadier timings on a shared machine; both sides alike
    try:
        _table(n_params)
    finally:
        torch.set_num_threads(threads)


def _table(n_params: int) -> None:
    print(
        f"optimizer step on a {n_params:,}-parameter MLP (float32, CPU, 1 thread), median of {REPEATS} steps; "
        "torch.optim with foreach=False; ratio = median over neighbouring pairs of steps"
    )
    header = (
        f"{'optimizer':<30} {'course_pkg (ms)':>16} {'torch.optim (ms)':>17} {'ratio':>7}  target ≤{TARGET}×"
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name, ours_cls, ref_cls, kwargs, same in CASES:
        t_ours, t_ref, ratio = measure(ours_cls, ref_cls, kwargs, same)
        if same:
            worst = max(worst, ratio)
        verdict = ("ok" if ratio <= TARGET else "SLOW") if same else "(no torch counterpart)"
        print(f"{name:<30} {t_ours * 1e3:>16.3f} {t_ref * 1e3:>17.3f} {ratio:>6.2f}×  {verdict}")
    print(f"worst ratio over the torch-equivalent optimizers: {worst:.2f}× (target ≤{TARGET}×)")


if __name__ == "__main__":
    main()
