"""Fit time of course_pkg.learning's trees and ensembles against scikit-learn's compiled estimators.

Our learners are readable NumPy (one vectorized split search per node and feature); scikit-learn's are Cython.
The table shows the median fit time of each over a few repeats, measured in the same run, and the ratio ours/sklearn,
which says what readability costs. The target is practical, not parity: every fit used by the book's chapters
and explorables must stay well under a second (column "ours" ≤ TARGET_S).
Run with ``python -m benchmarks ensembles``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
from sklearn.ensemble import AdaBoostClassifier, BaggingRegressor, GradientBoostingRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from course_pkg.learning import AdaBoost, Bagging, DecisionTree, GradientBoosting

REPEATS = 5
TARGET_S = 1.0


def _data(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.3 * rng.normal(size=n)
    return X, y, (y > np.median(y)).astype(int)


def _median_time(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print the fit-time table (ours, scikit-learn, ratio)."""
    X, y, c = _data(300, 4)
    x1 = X[:60, :1]
    y1 = y[:60]
    cases = [
        (
            "full regression tree, n=300, d=4",
            lambda: DecisionTree("regression").fit(X, y),
            lambda: DecisionTreeRegressor(random_state=0).fit(X, y),
        ),
        (
            "AdaBoost, 100 stumps, n=300",
            lambda: AdaBoost(100).fit(X, c),
            lambda: AdaBoostClassifier(DecisionTreeClassifier(max_depth=1), n_estimators=100).fit(X, c),
        ),
        (
            "gradient boosting, 100 depth-3 trees",
            lambda: GradientBoosting(100, 0.1, 3).fit(X, y),
            lambda: GradientBoostingRegressor(n_estimators=100, max_depth=3).fit(X, y),
        ),
        (
            "bagging, 50 full trees, n=60, d=1",
            lambda: Bagging(lambda: DecisionTree("regression"), 50, seed=0).fit(x1, y1),
            lambda: BaggingRegressor(DecisionTreeRegressor(), n_estimators=50, random_state=0).fit(x1, y1),
        ),
    ]
    print(f"{'case':40s}{'ours (s)':>10s}{'sklearn (s)':>13s}{'ratio':>8s}{'ours ≤ target':>15s}")
    for name, ours, ref in cases:
        t_ours, t_ref = _median_time(ours), _median_time(ref)
        ok = "yes" if t_ours <= TARGET_S else "NO"
        print(f"{name:40s}{t_ours:10.4f}{t_ref:13.4f}{t_ours / t_ref:8.1f}{ok:>15s}")


if __name__ == "__main__":
    main()
