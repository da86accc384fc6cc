r"""Explorable of the chapter "Follow the regularized leader (FTRL)".

- :func:`ftrl_sparsity`: L1 strength :math:`\lambda_1`, learning-rate scale :math:`\alpha` and L2 strength
  :math:`\lambda_2` of FTRL-Proximal → the online log-loss along a sparse logistic-regression stream, the learned
  weights against the true sparse weights, and the sparsity/loss trade-off over all :math:`\lambda_1`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from course_pkg.experiments import ftrl as F
from course_pkg.explore import Choice, Explorable

__all__ = ["ALPHA_GRID", "EXPLORABLES", "L1_GRID", "L2_GRID", "STREAM_LENGTH", "ftrl_sparsity"]

#: The L1 strengths offered, and the length of the stream.
L1_GRID = (0.0, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0)
STREAM_LENGTH = 1500


#: The learning-rate scales α and L2 strengths λ₂ offered.
ALPHA_GRID = (0.05, 0.1, 0.3, 1.0)
L2_GRID = (0.0, 1.0)
_RECORD_EVERY = 50


def _weights(z: np.ndarray, nsq: np.ndarray, alpha: np.ndarray, l1: np.ndarray, l2: np.ndarray) -> np.ndarray:
    """FTRL-Proximal weights from the state (z, n), β = 1, per row's (α, λ₁, λ₂); 0 where |z| ≤ λ₁."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(z) <= l1, 0.0, -(z - np.sign(z) * l1) / ((1.0 + np.sqrt(nsq)) / alpha + l2))


@lru_cache(maxsize=1)
def _grid_paths() -> dict[str, np.ndarray]:
    """FTRL-Proximal (β = 1) on the fixed stream for every (α, λ₂, λ₁) of the grids, in one vectorized pass.

    The arithmetic of :func:`course_pkg.experiments.ftrl.ftrl_proximal_path`, with α and λ₂ varying across rows
    as well as λ₁: one pass over the stream serves every frame (a control change then only reads the result).
    Arrays are indexed ``[alpha, l2, l1, ...]``.
    """
    stream = F.sparse_logistic_stream(n=STREAM_LENGTH, seed=0)
    X, idx, y = stream["X"], stream["idx"], stream["y"]
    T, d = X.shape
    A, L2, L1 = np.meshgrid(np.array(ALPHA_GRID), np.array(L2_GRID), np.array(L1_GRID), indexing="ij")
    alpha, l2, l1 = A.reshape(-1, 1), L2.reshape(-1, 1), L1.reshape(-1, 1)
    R = alpha.shape[0]
    z = np.zeros((R, d))
    nsq = np.zeros((R, d))
    losses = np.empty((R, T))
    nnz = []
    for t in range(T):
        I = idx[t]
        x = X[t, I]
        zi, ni = z[:, I], nsq[:, I]
        w = _weights(zi, ni, alpha, l1, l2)
        p = 0.5 * (1.0 + np.tanh(0.5 * (w @ x)))
        losses[:, t] = F.log_loss(p, y[t])
        g = (p - y[t])[:, None] * x
        sigma = (np.sqrt(ni + g * g) - np.sqrt(ni)) / alpha
        z[:, I] = zi + g - sigma * w
        nsq[:, I] = ni + g * g
        if (t + 1) % _RECORD_EVERY == 0:
            nnz.append(np.count_nonzero(_weights(z, nsq, alpha, l1, l2), axis=1))
    shape = (len(ALPHA_GRID), len(L2_GRID), len(L1_GRID))
    out = {
        "losses": losses.reshape(*shape, T),
        "theta": _weights(z, nsq, alpha, l1, l2).reshape(*shape, d),
        "nnz": np.array(nnz).T.reshape(*shape, -1),
        "nnz_t": np.arange(_RECORD_EVERY, T + 1, _RECORD_EVERY),
        "theta_star": stream["theta_star"],
    }
    for value in out.values():
        value.setflags(write=False)
    return out


def _path(alpha: float, l2: float) -> dict[str, np.ndarray]:
    """FTRL-Proximal for every λ₁ of :data:`L1_GRID` on the fixed stream, at one (α, λ₂) of the grids."""
    grid = _grid_paths()
    a, b = ALPHA_GRID.index(alpha), L2_GRID.index(l2)
    return {
        "losses": grid["losses"][a, b],
        "theta": grid["theta"][a, b],
        "nnz": grid["nnz"][a, b],
        "nnz_t": grid["nnz_t"],
        "theta_star": grid["theta_star"],
    }


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
    ax_loss.set_xticks([0, 500, 1000, 1500], ["0", "500", "1000", "1500"])
    ax_loss.set_yticks([0.5, 0.6, 0.7], ["0.5", "0.6", "0.7"])
    ax_loss.set_xlabel("example t")
    ax_loss.set_ylabel("online log-loss (running mean)")
    ax_loss.legend(fontsize=10, loc="upper right")

    d = r["theta"].size
    ax_w.vlines(np.arange(d), 0.0, r["theta_star"], color="0.7", lw=1.5, label="true θ*")  # one collection
    nz = r["theta"] != 0
    ax_w.plot(np.flatnonzero(nz), r["theta"][nz], "o", ms=3, color="C0", label="learned ≠ 0")
    ax_w.plot(np.flatnonzero(~nz), np.zeros((~nz).sum()), "|", ms=4, color="C3", label="exactly 0")
    ax_w.set_ylim(-4.4, 2.8)  # room for the legend under the weights
    ax_w.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10], integer=True))
    ax_w.set_yticks([-2, -1, 0, 1, 2], ["−2", "−1", "0", "1", "2"])
    ax_w.set_xlabel("feature i (frequent → rare)")
    ax_w.set_ylabel("weight θᵢ")
    ax_w.set_title(f"{int(nz.sum())} of {d} weights non-zero", fontsize=10)
    ax_w.legend(fontsize=10, loc="lower center", ncol=2, columnspacing=0.8)

    here = list(r["l1_grid"]).index(r["l1"])
    ax_trade.plot(r["final_nnz"], r["mean_loss"], "o-", color="0.6", ms=4)
    ax_trade.plot(
        r["final_nnz"][here], r["mean_loss"][here], "o", color="C3", ms=8, label=f"λ₁ = {r['l1']:g}"
    )
    ax_trade.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10], integer=True))
    ax_trade.yaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
    ax_trade.set_xlabel("non-zero weights (λ₁: 20 → 0)")
    ax_trade.set_ylabel("mean online log-loss")
    ax_trade.set_title(f"trade-off, α = {r['alpha']:g}, λ₂ = {r['l2']:g}", fontsize=10)
    ax_trade.legend(fontsize=10, loc="upper right")


def ftrl_sparsity() -> Explorable:
    """λ₁, α and λ₂ of FTRL-Proximal → online loss, learned weights and the sparsity trade-off."""
    return Explorable(
        name="ftrl-l1-sparsity",
        title="FTRL-Proximal: L1 strength → sparsity and online loss",
        params={
            "l1": Choice(list(L1_GRID), default=3.0, label="L1 strength λ₁"),
            "alpha": Choice(list(ALPHA_GRID), default=0.3, label="learning-rate scale α"),
            "l2": Choice(list(L2_GRID), default=0.0, label="L2 strength λ₂"),
        },
        compute=_compute_sparsity,
        draw=_draw_sparsity,
        figsize=(9.6, 3.8),
    )


EXPLORABLES = [ftrl_sparsity]
