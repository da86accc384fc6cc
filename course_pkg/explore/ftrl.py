r"""Explorable of the chapter "Follow the regularized leader (FTRL)".

- :func:`ftrl_sparsity`: L1 strength :math:`\lambda_1`, learning-rate scale :math:`\alpha` and L2 strength
  :math:`\lambda_2` of FTRL-Proximal → the online log-loss along a sparse logistic-regression stream, the learned
  weights against the true sparse weights, and the sparsity/loss trade-off over all :math:`\lambda_1`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from course_pkg.experiments import ftrl as F
from course_pkg.explore import Choice, Explorable

__all__ = ["ftrl_sparsity", "EXPLORABLES", "L1_GRID", "STREAM_LENGTH"]

#: The L1 strengths offered, and the length of the stream.
L1_GRID = (0.0, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0)
STREAM_LENGTH = 1500


@lru_cache(maxsize=16)
def _path(alpha: float, l2: float) -> dict[str, np.ndarray]:
    """FTRL-Proximal for every λ₁ of :data:`L1_GRID` on the fixed stream (cached: pure and deterministic)."""
    stream = F.sparse_logistic_stream(n=STREAM_LENGTH, seed=0)
    out = F.ftrl_proximal_path(stream, np.array(L1_GRID), alpha=alpha, beta=1.0, l2=l2, record_every=50)
    out["theta_star"] = stream["theta_star"]
    for value in out.values():
        value.setflags(write=False)
    return out


def _compute_sparsity(l1: float, alpha: float, l2: float) -> dict[str, Any]:
    path = _path(float(alpha), float(l2))
    i = L1_GRID.index(l1)
    t = np.arange(1, STREAM_LENGTH + 1)
    return {
        "l1": l1,
        "alpha": alpha,
        "l2": l2,
        "avg_loss": np.cumsum(path["losses"][i]) / t,
        "avg_loss_l1_0": np.cumsum(path["losses"][0]) / t,
        "theta": path["theta"][i],
        "theta_star": path["theta_star"],
        "nnz_t": path["nnz_t"],
        "nnz": path["nnz"][i],
        "final_nnz": path["nnz"][:, -1],
        "mean_loss": path["losses"].mean(axis=1),
        "l1_grid": np.array(L1_GRID),
    }


def _draw_sparsity(r: dict[str, Any], fig: Any) -> None:
    ax_loss, ax_w, ax_trade = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.1, 1.3, 1.0]})
    t = np.arange(1, r["avg_loss"].size + 1)
    ax_loss.plot(t, r["avg_loss_l1_0"], color="0.6", lw=1.5, label="λ₁ = 0")
    ax_loss.plot(t, r["avg_loss"], color="C0", lw=2, label=f"λ₁ = {r['l1']:g}")
    ax_loss.set_ylim(0.5, 0.75)
    ax_loss.set_xlabel("example t")
    ax_loss.set_ylabel("online log-loss (running mean)")
    ax_loss.legend(fontsize=8, loc="upper right")

    d = r["theta"].size
    ax_w.vlines(np.arange(d), 0.0, r["theta_star"], color="0.7", lw=1.5, label="true θ*")  # one collection
    nz = r["theta"] != 0
    ax_w.plot(np.flatnonzero(nz), r["theta"][nz], "o", ms=3, color="C0", label="learned θ ≠ 0")
    ax_w.plot(np.flatnonzero(~nz), np.zeros((~nz).sum()), "|", ms=4, color="C3", label="exact zero")
    ax_w.set_ylim(-2.8, 2.8)
    ax_w.set_xlabel("feature i (frequent → rare)")
    ax_w.set_ylabel("weight θᵢ")
    ax_w.set_title(f"{int(nz.sum())} of {d} weights non-zero", fontsize=10)
    ax_w.legend(fontsize=7, loc="lower right", ncol=3)

    here = list(r["l1_grid"]).index(r["l1"])
    ax_trade.plot(r["final_nnz"], r["mean_loss"], "o-", color="0.6", ms=4)
    ax_trade.plot(
        r["final_nnz"][here], r["mean_loss"][here], "o", color="C3", ms=8, label=f"λ₁ = {r['l1']:g}"
    )
    ax_trade.set_xlabel("non-zero weights (λ₁ from 20 to 0)")
    ax_trade.set_ylabel("mean online log-loss")
    ax_trade.set_title(f"trade-off, α = {r['alpha']:g}, λ₂ = {r['l2']:g}", fontsize=10)
    ax_trade.legend(fontsize=8, loc="upper right")


def ftrl_sparsity() -> Explorable:
    """λ₁, α and λ₂ of FTRL-Proximal → online loss, learned weights and the sparsity trade-off."""
    return Explorable(
        name="ftrl-l1-sparsity",
        title="FTRL-Proximal: L1 strength → sparsity and online loss",
        params={
            "l1": Choice(list(L1_GRID), default=3.0, label="L1 strength λ₁"),
            "alpha": Choice([0.05, 0.1, 0.3, 1.0], default=0.3, label="learning-rate scale α"),
            "l2": Choice([0.0, 1.0], default=0.0, label="L2 strength λ₂"),
        },
        compute=_compute_sparsity,
        draw=_draw_sparsity,
        figsize=(11, 3.4),
    )


EXPLORABLES = [ftrl_sparsity]
