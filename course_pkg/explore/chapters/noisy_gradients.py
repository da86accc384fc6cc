r"""Explorable of the chapter "Noisy gradients, gradient accumulation and clipping".

- :func:`accumulation_histogram`: accumulation steps :math:`k`, depth :math:`D` of a residual MLP and gradient
  clipping → the histogram of gradient norms (single micro-batches vs the accumulated :math:`k`-micro-batch
  average) and the training loss curve of SGD.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from course_pkg.experiments import noisy_gradients as N
from course_pkg.explore import Choice, Explorable, Toggle, log10_ticks

__all__ = ["accumulation_histogram", "EXPLORABLES"]


def _compute_accumulation(k: int, depth: int, clip: bool) -> dict[str, Any]:
    with np.errstate(over="ignore", invalid="ignore"):
        return N.numpy_residual_run(k, depth, clip, micro_batch=4, updates=60, lr=0.05, max_norm=1.0)


#: Histogram bins of the gradient norms (log-spaced) and the ticks of the two log axes.
BINS = np.geomspace(0.05, 1e4, 40)
NORM_TICKS = (0.1, 1.0, 10.0, 100.0, 1e3, 1e4)
LOSS_TICKS = (0.1, 1.0, 10.0)


def _draw_accumulation(r: dict[str, Any], fig: Any) -> None:
    # both log axes are drawn as log10 values on linear axes: no log scale to set up at every frame
    ax_h, ax_l = fig.subplots(1, 2)
    micro = r["micro_norms"][np.isfinite(r["micro_norms"])]
    upd = r["update_norms"][np.isfinite(r["update_norms"])]
    edges = np.log10(BINS)
    for values, style in (
        (
            micro,
            {"color": "0.6", "alpha": 0.8, "fill": True, "label": f"micro-batch (b = {r['micro_batch']})"},
        ),
        (upd, {"color": "C0", "lw": 2, "label": f"accumulated (k = {r['k']})"}),
    ):
        if values.size:
            counts, _ = np.histogram(np.clip(values, BINS[0], BINS[-1]), bins=BINS)
            ax_h.stairs(counts / values.size, edges, baseline=0, **style)
    if r["clip"]:
        ax_h.axvline(np.log10(r["max_norm"]), color="C3", ls="--", label="clip threshold")
    ax_h.set_xlim(edges[0] - 0.2, edges[-1] + 0.2)
    log10_ticks(ax_h.xaxis, NORM_TICKS, labels="decimal")
    ax_h.set_ylim(0, None)
    ax_h.yaxis.set_major_locator(MaxNLocator(5))
    ax_h.set_xlabel("gradient norm ‖g‖")
    ax_h.set_ylabel("fraction of gradients")
    ax_h.set_title(f"residual MLP, depth D = {r['depth']}", fontsize=10)
    ax_h.legend(fontsize=10, loc="upper right")

    loss = r["loss"]
    finite = np.isfinite(loss)
    steps = np.arange(loss.size)
    with np.errstate(divide="ignore"):
        ax_l.plot(steps[finite], np.log10(loss[finite]), color="C0", lw=2)
    ax_l.set_ylim(np.log10(0.03), np.log10(30))
    log10_ticks(ax_l.yaxis, LOSS_TICKS, labels="decimal")
    ax_l.set_xlim(0, loss.size - 1)
    ax_l.set_xticks(np.arange(0, loss.size, 20))
    ax_l.set_xlabel("update")
    ax_l.set_ylabel("training loss (all data)")
    if not finite.all():
        ax_l.text(0.5, 0.5, "diverged", transform=ax_l.transAxes, ha="center", color="C3", fontsize=14)
        title = f"B = {r['k']} × {r['micro_batch']}: diverged"
    else:
        title = f"B = {r['k']} × {r['micro_batch']} = {r['k'] * r['micro_batch']}: final loss {loss[-1]:.3f}"
    ax_l.set_title(title + (" (clipped)" if r["clip"] else ""), fontsize=10)


def accumulation_histogram() -> Explorable:
    """Accumulation steps k, depth and clipping → gradient-norm histogram and loss curve."""
    return Explorable(
        name="noisy-gradients-accumulation",
        title="Gradient accumulation and clipping on a deep residual MLP",
        params={
            "k": Choice([1, 2, 4, 8, 16], default=1, label="accumulation steps k"),
            "depth": Choice([2, 4, 8], default=8, label="residual blocks D"),
            "clip": Toggle(default=False, label="clip ‖g‖ at 1"),
        },
        compute=_compute_accumulation,
        draw=_draw_accumulation,
        figsize=(9, 3.8),
    )


EXPLORABLES = [accumulation_histogram]
