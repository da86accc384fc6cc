"""Explorables of the chapter "The loss landscape of deep networks".

- :func:`saddle_index`: random (GOE) Hessians at a critical point, shifted by the loss level as in the Gaussian-field
  model that Dauphin et al. (2014) build on; the eigenvalue histogram, the index (fraction of negative eigenvalues)
  and the Monte-Carlo probability that the critical point is a minimum, for a dimension d × a loss level u (the
  samples: :func:`course_pkg.experiments.landscape.hessian_spectrum`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.collections import PolyCollection

from course_pkg.experiments.landscape import DIMS, SAMPLES, SHIFT, hessian_spectrum, semicircle_cdf
from course_pkg.explore import Choice, Explorable, LinGrid, plain_log_ticks

BLUE = "#1f77b4"
ORANGE = "#d95f02"
GREY = "#8c8c8c"
RED = "#c0392b"

#: Probabilities below this are drawn at the bottom of the log axis.
P_FLOOR = 1e-5


def _compute(d: int, loss_level: float) -> dict[str, Any]:
    d, u = int(d), float(loss_level)
    r = hessian_spectrum(d, u)
    n_hist = min(r["n"], 20_000 // d)  # about 20 000 eigenvalues in the histogram whatever d is
    counts, edges = np.histogram(r["eigenvalues"][:n_hist].ravel(), bins=48, range=(-5.5, 5.5), density=True)
    p_min = {k: hessian_spectrum(k, u)["p_min"] for k in DIMS}
    return {
        "d": d,
        "u": u,
        "counts": counts,
        "edges": edges,
        "index": r["index"],
        "index_limit": float(semicircle_cdf(-SHIFT * (0.5 - u))),
        "p_min": p_min,
        "n": {k: SAMPLES[k] for k in DIMS},
    }


def _draw(r: dict[str, Any], fig: Any) -> None:
    ax_h, ax_p = fig.subplots(1, 2)
    centre = SHIFT * (0.5 - r["u"])
    left, width = r["edges"][:-1], np.diff(r["edges"])
    colors = np.where(left + width / 2 < 0, RED, BLUE)
    # the histogram's bars as one collection of rectangles (one artist instead of one patch per bar)
    bottom, top = np.zeros_like(left), np.asarray(r["counts"], dtype=float)
    corners = np.stack(
        [
            np.column_stack(c)
            for c in ((left, bottom), (left, top), (left + width, top), (left + width, bottom))
        ],
        axis=1,
    )
    ax_h.add_collection(PolyCollection(corners, facecolors=colors, alpha=0.75, linewidths=0), autolim=False)
    x = np.linspace(-2.0, 2.0, 121)
    ax_h.plot(x + centre, np.sqrt(4.0 - x**2) / (2.0 * np.pi), color="k", lw=1.0, ls="--", label="d → ∞")
    ax_h.axvline(0.0, color=GREY, lw=0.8)
    ax_h.set(xlim=(-5.5, 5.5), ylim=(0, 0.75), xlabel="eigenvalue λ of H", ylabel="density")
    ax_h.set_title(
        f"d = {r['d']}, loss level u = {r['u']:.1f}\nindex (λ < 0): {r['index']:.2f}"
        f" (d → ∞: {r['index_limit']:.2f})",
        fontsize=10,
    )
    ax_h.legend(loc="upper right", fontsize=10, frameon=False)

    dims = np.array(DIMS)
    p = np.array([r["p_min"][k] for k in DIMS])
    floor = np.array([1.0 / r["n"][k] for k in DIMS])
    seen = p > 0
    ax_p.semilogy(dims[seen], p[seen], "-o", color=ORANGE, ms=4, lw=1.3, label="estimate")
    ax_p.semilogy(dims[~seen], floor[~seen], "v", color=GREY, ms=6, ls="none", label="none of n: < 1/n")
    here = DIMS.index(r["d"])
    ax_p.semilogy([r["d"]], [max(p[here], floor[here])], "o", mfc="none", mec="k", ms=10, mew=1.2)
    ax_p.set_xscale("log")
    ax_p.set(xlim=(1.6, 64), ylim=(P_FLOOR, 1.5), xlabel="dimension d", ylabel="P(minimum)")
    ax_p.set_xticks(DIMS, [str(k) for k in DIMS])
    ax_p.xaxis.set_minor_locator(_null_locator())
    ax_p.set_title(f"P(all λ > 0) at u = {r['u']:.1f}\nat d = {r['d']}: {p[here]:.2g}", fontsize=10)
    ax_p.legend(loc="lower left", fontsize=10, frameon=False)
    ax_p.grid(alpha=0.3, lw=0.4)
    plain_log_ticks(ax_p.yaxis)


def _null_locator() -> Any:
    from matplotlib.ticker import NullLocator

    return NullLocator()


def saddle_index() -> Explorable:
    """Dimension × loss level: the spectrum of a random Hessian, its index and the chance of a minimum."""
    return Explorable(
        name="landscape-saddle-index",
        title="Random Hessians at a critical point: dimension × loss level",
        params={
            "d": Choice(list(DIMS), default=10, label="dimension d"),
            "loss_level": LinGrid(0.0, 1.0, num=11, default=0.3, label="loss level u"),
        },
        compute=_compute,
        draw=_draw,
        figsize=(8.6, 3.8),
    )


EXPLORABLES = [saddle_index]
