"""Explorables of the chapter "Bootstrap, bagging and boosting".

- :func:`bagging_variance`: number of bagged trees M and tree depth → bagged fits on three independent training
  sets (how much they still disagree), and the measured variance against M next to the formula
  ρσ² + (1 − ρ)σ²/M.
- :func:`bagging_boundary`: number of bagged classification trees M and label noise → the fraction of trees
  voting for each class over the plane, the majority-vote boundary, and the test error against M.
- :func:`adaboost_rounds`: boosting round t and label noise → sample weights and decision regions after t
  rounds, training error against the bound ∏ 2√(ε_t(1 − ε_t)), and the distribution of margins.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from course_pkg.data import two_moons
from course_pkg.explore import Choice, Explorable, contour_lines, plain_log_ticks
from course_pkg.learning.ensembles import AdaBoost, bootstrap_indices
from course_pkg.learning.trees import DecisionTree

__all__ = [
    "regression_sets",
    "bagging_members",
    "fit_adaboost",
    "adaboost_tables",
    "bagged_classifier_votes",
    "bagging_variance",
    "bagging_boundary",
    "adaboost_rounds",
    "EXPLORABLES",
]

#: Bagging experiment sizes: training sets, points per set, trees per ensemble.
N_SETS, N_POINTS, MAX_TREES = 12, 50, 50
BAG_SIZES = (1, 2, 3, 5, 10, 20, 50)
X_GRID = np.linspace(0.0, 1.0, 120)
#: Rounds offered by the AdaBoost explorable.
ROUNDS = (1, 2, 3, 4, 5, 8, 12, 20, 30, 50, 80, 120)


def regression_sets(n_sets: int = N_SETS, n: int = N_POINTS, sigma: float = 0.4, seed: int = 0) -> list:
    """Independent training sets ``(x, y)`` of ``y = sin(2πx) + σ z`` with ``x`` uniform on [0, 1].

    Parameters
    ----------
    n_sets : int
        Number of training sets.
    n : int
        Points per set.
    sigma : float
        Noise standard deviation.
    seed : int
        Seed.

    Returns
    -------
    list of tuple of numpy.ndarray
        ``[(x, y), ...]`` with ``x`` of shape ``(n, 1)``.
    """
    rng = np.random.default_rng(seed)
    sets = []
    for _ in range(n_sets):
        x = rng.uniform(0.0, 1.0, size=(n, 1))
        sets.append((x, np.sin(2 * np.pi * x[:, 0]) + sigma * rng.standard_normal(n)))
    return sets


@lru_cache(maxsize=4)
def bagging_members(max_depth: int | None) -> np.ndarray:
    """Predictions on :data:`X_GRID` of ``MAX_TREES`` bootstrap trees on each of ``N_SETS`` training sets.

    Parameters
    ----------
    max_depth : int or None
        Depth of each tree (``None``: grown until pure).

    Returns
    -------
    numpy.ndarray of shape (N_SETS, MAX_TREES, len(X_GRID))
        Member predictions (cached: the explorable's frames share them).
    """
    out = np.empty((N_SETS, MAX_TREES, len(X_GRID)))
    for s, (x, y) in enumerate(regression_sets()):
        for b, idx in enumerate(bootstrap_indices(N_POINTS, MAX_TREES, seed=100 + s)):
            out[s, b] = (
                DecisionTree("regression", max_depth=max_depth).fit(x[idx], y[idx]).predict(X_GRID[:, None])
            )
    return out


def _compute_bagging(n_trees: int, depth: str) -> dict[str, Any]:
    max_depth = None if depth == "full" else int(depth)
    members = bagging_members(max_depth)
    sizes = np.array(BAG_SIZES)
    # variance over training sets of the B-tree average, averaged over x
    measured = np.array([members[:, :B].mean(axis=1).var(axis=0).mean() for B in sizes])
    sigma2 = members.reshape(-1, len(X_GRID)).var(axis=0).mean()  # one bootstrap tree's variance σ²
    # covariance of two trees grown on the same training set: ρσ² (averaged over x)
    centred = members - members.mean(axis=(0, 1), keepdims=True)
    total = centred.sum(axis=1)
    pair_sum = (total**2 - (centred**2).sum(axis=1)) / (MAX_TREES * (MAX_TREES - 1))
    rho_sigma2 = pair_sum.mean()
    sets = regression_sets()
    return {
        "n_trees": int(n_trees),
        "depth": depth,
        "x": X_GRID,
        "fits": members[:3, : int(n_trees)].mean(axis=1),
        "data": [sets[i] for i in range(3)],
        "sizes": sizes,
        "measured": measured,
        "formula": rho_sigma2 + (sigma2 - rho_sigma2) / sizes,
        "rho": rho_sigma2 / sigma2,
        "sigma2": sigma2,
    }


def _draw_bagging(r: dict[str, Any], fig: Any) -> None:
    from matplotlib import ticker

    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.3, 1])
    if (layout := fig.get_layout_engine()) is not None:
        layout.set(wspace=0.06)  # a gap between the panels in every frame, so that they can be cut apart
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c"]
    # the three training sets as one scatter (in set order, as three scatters drawn under the lines would be)
    ax1.scatter(
        np.concatenate([x[:, 0] for x, _ in r["data"]]),
        np.concatenate([y for _, y in r["data"]]),
        s=6,
        c=np.repeat(colors, [len(y) for _, y in r["data"]]),
        alpha=0.35,
    )
    for fit, c in zip(r["fits"], colors):
        ax1.plot(r["x"], fit, color=c, lw=1.6)
    ax1.plot(r["x"], np.sin(2 * np.pi * r["x"]), color="black", lw=1.5, ls="--", label="true f(x)")
    ax1.set_ylim(-2.2, 2.2)
    ax1.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])
    ax1.set_yticks([-2, -1, 0, 1, 2], ["−2", "−1", "0", "1", "2"])
    ax1.set_xlabel("x")
    ax1.set_ylabel("y")
    trees = "1 tree" if r["n_trees"] == 1 else f"{r['n_trees']} trees"
    ax1.set_title(f"M = {trees} (depth {r['depth']}) on 3 training sets", y=1.0)
    ax1.legend(loc="lower left", fontsize=10)
    ax2.set_xscale("log")  # once (loglog sets both scales, and makes new locators, at every call)
    ax2.set_yscale("log")
    ax2.plot(r["sizes"], r["measured"], "o-", label="measured variance")
    ax2.plot(r["sizes"], r["formula"], "k--", label=f"ρσ² + (1−ρ)σ²/M, ρ = {r['rho']:.2f}")
    ax2.axhline(r["rho"] * r["sigma2"], color="gray", ls=":", label="floor ρσ²")
    ax2.axvline(r["n_trees"], color="red", lw=0.8)
    ax2.set_xlabel("number of bagged trees M")
    ax2.set_ylabel("variance of the ensemble (avg over x)")
    ax2.set_title("the uncorrelated part averages away", y=1.0)
    ax2.legend(fontsize=10, loc="upper right")  # where "best" put it on every frame
    ax2.set_xticks(r["sizes"], labels=[str(v) for v in r["sizes"]])
    ax2.xaxis.set_minor_locator(ticker.NullLocator())
    ax2.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    plain_log_ticks(ax2.yaxis, labels="decimal")


def bagging_variance() -> Explorable:
    """Number of bagged trees M × tree depth → fits on three training sets and variance against M.

    Returns
    -------
    Explorable
        21 frames (7 ensemble sizes × 3 depths).
    """
    return Explorable(
        name="bagging-variance",
        title="Bagging regression trees: variance against the number of trees",
        params={
            "n_trees": Choice(list(BAG_SIZES), default=1, label="bagged trees M"),
            "depth": Choice(["1", "3", "full"], default="full", label="tree depth", ordered=True),
        },
        compute=_compute_bagging,
        draw=_draw_bagging,
        figsize=(8.6, 3.8),
    )


@lru_cache(maxsize=4)
def fit_adaboost(flip: float) -> tuple[np.ndarray, np.ndarray, AdaBoost]:
    """The data set and the AdaBoost model (``max(ROUNDS)`` rounds) of the explorable, cached.

    Parameters
    ----------
    flip : float
        Label-noise fraction passed to :func:`course_pkg.data.two_moons`.

    Returns
    -------
    tuple
        ``(X, y, model)``.
    """
    X, y = two_moons(flip=flip)
    return X, y, AdaBoost(max(ROUNDS)).fit(X, y)


_G1, _G2 = np.meshgrid(np.linspace(-1.6, 2.6, 90), np.linspace(-1.3, 1.8, 70))
_GRID = np.column_stack([_G1.ravel(), _G2.ravel()])
#: Maps over the grid are images with one cell per grid point (``imshow``, cheaper per frame than ``contourf``),
#: the axes cut at the grid's end points as the contour maps were.
_GRID_CELL = (_G1[0, 1] - _G1[0, 0], _G2[1, 0] - _G2[0, 0])
_GRID_EXTENT = (
    _G1.min() - _GRID_CELL[0] / 2,
    _G1.max() + _GRID_CELL[0] / 2,
    _G2.min() - _GRID_CELL[1] / 2,
    _G2.max() + _GRID_CELL[1] / 2,
)


#: Ensemble sizes offered by the bagged-classifier explorable.
BOUNDARY_SIZES = (1, 3, 10, 30, 100)


@lru_cache(maxsize=4)
def bagged_classifier_votes(flip: float) -> dict[str, np.ndarray]:
    """Votes of ``max(BOUNDARY_SIZES)`` fully grown classification trees, each on a bootstrap sample.

    Parameters
    ----------
    flip : float
        Label-noise fraction of the training set (:func:`course_pkg.data.two_moons`, 150 points).

    Returns
    -------
    dict of str to numpy.ndarray
        ``grid_votes`` (trees × grid points) and ``test_votes`` (trees × 2000 clean test points) with each
        tree's predicted label in {0, 1}, plus the training and test data.
    """
    X, y = two_moons(flip=flip, seed=0)
    X_test, y_test = two_moons(n=2000, flip=0.0, seed=1)
    grid_votes, test_votes = [], []
    for idx in bootstrap_indices(len(y), max(BOUNDARY_SIZES), seed=2):
        tree = DecisionTree("classification").fit(X[idx], y[idx])
        grid_votes.append(tree.predict(_GRID))
        test_votes.append(tree.predict(X_test))
    return {
        "X": X,
        "y": y,
        "y_test": y_test,
        "grid_votes": np.array(grid_votes),
        "test_votes": np.array(test_votes),
    }


def _compute_boundary(n_trees: int, flip: float) -> dict[str, Any]:
    v = bagged_classifier_votes(float(flip))
    B = int(n_trees)
    sizes = np.arange(1, max(BOUNDARY_SIZES) + 1)
    # majority vote of the first b trees (ties, only for even b, go to class 0)
    cum = np.cumsum(v["test_votes"], axis=0)
    test_err = np.mean((cum > sizes[:, None] / 2).astype(int) != v["y_test"][None, :], axis=1)
    return {
        "n_trees": B,
        "flip": float(flip),
        "X": v["X"],
        "y": v["y"],
        "vote": v["grid_votes"][:B].mean(axis=0).reshape(_G1.shape),
        "sizes": sizes,
        "test_err": test_err,
    }


#: Vote shares are drawn in 10 bands (the levels of a ``contourf`` with 11 levels), as an image of the grid.
_VOTE_LEVELS = np.linspace(0, 1, 11)


def _straight_runs_merged(line: np.ndarray) -> np.ndarray:
    """``line`` without its interior points that lie on the straight segment through their neighbours (a contour
    on a grid has long straight runs; Agg draws a run of collinear points with joins so ill-conditioned that the
    last-bit noise of constrained layout changes pixels from run to run)."""
    if len(line) < 3:
        return line
    d1, d2 = line[1:-1] - line[:-2], line[2:] - line[1:-1]
    cross = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    scale = np.hypot(*d1.T) * np.hypot(*d2.T)
    onward = np.einsum("ij,ij->i", d1, d2) > 0  # (a point where the line turns back is kept)
    keep = np.concatenate([[True], (np.abs(cross) > 1e-9 * scale) | ~onward, [True]])
    return line[keep]


@lru_cache(maxsize=16)
def _majority_boundary(n_trees: int, flip: float) -> list[np.ndarray]:
    """The majority-vote boundary (vote share 0.5) of the first ``n_trees`` bagged trees, as polylines (cached)."""
    vote = bagged_classifier_votes(flip)["grid_votes"][:n_trees].mean(axis=0).reshape(_G1.shape)
    return [_straight_runs_merged(line) for line in contour_lines(_G1, _G2, vote, [0.5])]


def _draw_boundary(r: dict[str, Any], fig: Any) -> None:
    from matplotlib.collections import LineCollection
    from matplotlib.colors import BoundaryNorm
    from matplotlib.ticker import MaxNLocator

    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.3, 1])
    # the vote shares in 10 bands, one cell per grid point (the trees' regions are axis-aligned boxes anyway)
    im = ax1.imshow(
        r["vote"],
        origin="lower",
        extent=_GRID_EXTENT,
        aspect="auto",
        cmap="RdBu_r",
        norm=BoundaryNorm(_VOTE_LEVELS, 256),
        alpha=0.7,
        interpolation="nearest",
    )
    ax1.add_collection(
        LineCollection(_majority_boundary(r["n_trees"], r["flip"]), colors="k", linewidths=1.2)
    )
    order = np.argsort(r["y"], kind="stable")  # class 1 over class 0, as with one scatter per class
    ax1.scatter(
        r["X"][order, 0],
        r["X"][order, 1],
        s=10,
        c=np.array(["#1f77b4", "#d62728"])[r["y"][order]],
        edgecolor="k",
        linewidth=0.3,
    )
    ax1.set_xlim(_G1.min(), _G1.max())
    ax1.set_ylim(_G2.min(), _G2.max())
    ax1.set_xticks([-1, 0, 1, 2], ["−1", "0", "1", "2"])
    ax1.set_yticks([-1, 0, 1], ["−1", "0", "1"])
    cbar = fig.colorbar(im, ax=ax1, label="share of votes for class 1")
    cbar.set_ticks([0, 0.5, 1], labels=["0", "0.5", "1"])
    ax1.set_xlabel("x₁")
    ax1.set_ylabel("x₂")
    trees = "1 full tree" if r["n_trees"] == 1 else f"{r['n_trees']} bagged full trees"
    ax1.set_title(f"M = {trees} (label noise {r['flip']:.0%})", y=1.0)
    ax2.set_xscale("log")
    ax2.plot(r["sizes"], r["test_err"], color="#2ca02c")
    lo, hi = r["test_err"].min(), r["test_err"].max()
    ylim = (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))  # what autoscaling gives, fixed for the marker
    ax2.plot([r["n_trees"]] * 2, ylim, color="red", lw=0.8)
    ax2.set_xlim(10**-0.1, 10**2.1)
    ax2.set_ylim(ylim)
    ax2.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
    ax2.set_xlabel("number of bagged trees M")
    ax2.set_ylabel("test error (clean points)")
    ax2.set_title("test error of the vote", y=1.0)
    plain_log_ticks(ax2.xaxis, labels="decimal")  # tree counts: 1, 10, 100


def bagging_boundary() -> Explorable:
    """Number of bagged classification trees × label noise → vote map, decision boundary and test error.

    Returns
    -------
    Explorable
        10 frames (5 ensemble sizes × 2 noise levels).
    """
    return Explorable(
        name="bagging-boundary",
        title="Bagging classification trees: the decision boundary smooths out",
        params={
            "n_trees": Choice(list(BOUNDARY_SIZES), default=1, label="bagged trees M"),
            "flip": Choice([0.0, 0.1], default=0.1, label="label noise (fraction flipped)"),
        },
        compute=_compute_boundary,
        draw=_draw_boundary,
        figsize=(8.0, 3.8),
    )


@lru_cache(maxsize=4)
def adaboost_tables(flip: float) -> dict[str, np.ndarray]:
    """Every round's ensemble of the explorable at once (each stump evaluated once), cached per noise level.

    Parameters
    ----------
    flip : float
        Label-noise fraction (see :func:`fit_adaboost`).

    Returns
    -------
    dict of str to numpy.ndarray
        ``region`` (rounds × grid points, bool): the ensemble of the first t rounds predicts class 1 at the grid
        point, in row t − 1; ``errors`` (rounds): its training error; ``own`` (rounds × training points): the
        running sum :math:`\\sum_{s \\le t} \\alpha_s (\\pm 1)` (+1 where stump s is right about the point).
    """
    X, y, model = fit_adaboost(float(flip))
    alphas = model.estimator_weights_[:, None]
    grid_sign = np.array([np.where(h.predict(_GRID) == 1, 1.0, -1.0) for h in model.estimators_])
    pred = np.array([h.predict(X) for h in model.estimators_])
    train_score = np.cumsum(alphas * np.where(pred == 1, 1.0, -1.0), axis=0)
    return {
        "region": np.cumsum(alphas * grid_sign, axis=0) > 0,
        "errors": np.mean((train_score > 0).astype(int) != y[None, :], axis=1),
        "own": np.cumsum(alphas * np.where(pred == y[None, :], 1.0, -1.0), axis=0),
    }


def _compute_adaboost(rounds: int, flip: float) -> dict[str, Any]:
    X, y, model = fit_adaboost(float(flip))
    tables = adaboost_tables(float(flip))
    t = min(int(rounds), len(model.estimators_))
    stump = model.estimators_[t - 1]
    return {
        "rounds": t,
        "X": X,
        "y": y,
        "weights": model.sample_weights_[t - 1],
        "region": tables["region"][t - 1].reshape(_G1.shape),
        "stump": (int(stump.feature_[0]), float(stump.threshold_[0])),
        "errors": tables["errors"],
        "bound": model.training_error_bound(),
        "margins": np.sort(tables["own"][t - 1] / model.estimator_weights_[:t].sum()),
    }


_ADA_COLORS = ("#1f77b4", "#ff7f0e")  # class 0, class 1 (their regions: the same hues, light)


def _draw_adaboost(r: dict[str, Any], fig: Any) -> None:
    from matplotlib.colors import ListedColormap
    from matplotlib.ticker import NullLocator

    ax1, ax2, ax3 = fig.subplots(1, 3, width_ratios=[1.3, 1, 1])
    ax1.imshow(
        r["region"],
        origin="lower",
        extent=_GRID_EXTENT,
        aspect="auto",
        cmap=ListedColormap(["#c6dbef", "#fdd0a2"]),
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    # one scatter for both classes, class 1 drawn over class 0 as with one scatter per class
    order = np.argsort(r["y"], kind="stable")
    ax1.scatter(
        r["X"][order, 0],
        r["X"][order, 1],
        s=4000 * r["weights"][order],
        c=np.array(_ADA_COLORS)[r["y"][order]],
        edgecolor="k",
        linewidth=0.3,
    )
    f, thr = r["stump"]
    (x0, x1), (y0, y1) = (_G1.min(), _G1.max()), (_G2.min(), _G2.max())
    line = ([thr, thr], [y0, y1]) if f == 0 else ([x0, x1], [thr, thr])
    ax1.plot(*line, color="red", lw=1.2, label=f"stump of round {r['rounds']}")
    ax1.set_xlim(x0, x1)
    ax1.set_ylim(y0, y1)
    ax1.set_xticks([-1, 0, 1, 2], ["−1", "0", "1", "2"])
    ax1.set_yticks([-1, 0, 1], ["−1", "0", "1"])
    ax1.set_xlabel("x₁")
    ax1.set_ylabel("x₂")
    ax1.set_title(f"after {r['rounds']} rounds\n(size ∝ weight ωᵢ)", y=1.0)
    ax1.legend(fontsize=10, loc="lower left")

    t = np.arange(1, len(r["errors"]) + 1)
    top = 1.6  # above the bound at round 1 (at most 1)
    ax2.semilogy(t, r["bound"], "k--", label="bound ∏ₜ 2√(εₜ(1−εₜ))")
    ax2.semilogy(
        t, np.where(r["errors"] > 0, r["errors"], np.nan), color="#d62728", label="training error (gaps: 0)"
    )
    ax2.plot([r["rounds"]] * 2, [1e-4, top], color="gray", lw=0.8)
    ax2.set_xlim(-5, len(t) + 6)
    ax2.set_ylim(1e-4, top)  # room for the legend under the curves
    ax2.set_xticks([0, 50, 100], ["0", "50", "100"])
    ax2.set_yticks([10.0**k for k in range(-4, 1)], ["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰"])
    ax2.yaxis.set_minor_locator(NullLocator())
    ax2.set_xlabel("round t")
    ax2.set_ylabel("training error")
    ax2.set_title("error under its bound", y=1.0)
    ax2.legend(fontsize=10, loc="lower left")

    m = r["margins"]
    ax3.plot(m, np.arange(1, len(m) + 1) / len(m), color="#2ca02c")
    ax3.plot([0, 0], [-0.05, 1.05], color="gray", lw=0.8)
    ax3.set_xlim(-1, 1)
    ax3.set_ylim(-0.05, 1.05)
    ax3.set_xticks([-1, -0.5, 0, 0.5, 1], ["−1", "−0.5", "0", "0.5", "1"])
    ax3.set_yticks([0, 0.5, 1], ["0", "0.5", "1"])
    ax3.set_xlabel("margin y·F(x)/Σα")
    ax3.set_ylabel("fraction of training points ≤ margin")
    ax3.set_title("margin distribution", y=1.0)


def adaboost_rounds() -> Explorable:
    """Boosting round t × label noise → weights and regions, error vs bound, margin distribution.

    Returns
    -------
    Explorable
        24 frames (12 rounds × 2 noise levels).
    """
    return Explorable(
        name="adaboost-rounds",
        title="AdaBoost round by round",
        params={
            "rounds": Choice(list(ROUNDS), default=5, label="boosting round t"),
            "flip": Choice([0.0, 0.1], default=0.0, label="label noise (fraction flipped)"),
        },
        compute=_compute_adaboost,
        draw=_draw_adaboost,
        figsize=(8.1, 3.7),
    )


EXPLORABLES = [bagging_variance, bagging_boundary, adaboost_rounds]
