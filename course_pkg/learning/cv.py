r"""Hold-out and k-fold cross-validation, model selection by CV, and nested CV.

:func:`kfold_indices` reproduces :class:`sklearn.model_selection.KFold` exactly (same folds, same order, same
shuffling), and :func:`holdout_indices` reproduces one split of :class:`sklearn.model_selection.ShuffleSplit`;
the tests compare them index by index. The rest is written for reading: a model is anything returned by a
``fit(X_train, y_train)`` callable, and a ``score(model, X_val, y_val) -> float`` callable evaluates it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CVCurve",
    "NestedCV",
    "cross_val_curve",
    "cross_val_score",
    "holdout_indices",
    "kfold_indices",
    "nested_cross_val_score",
]

FitFn = Callable[[np.ndarray, np.ndarray], Any]
ScoreFn = Callable[[Any, np.ndarray, np.ndarray], float]
SeedLike = int | np.random.RandomState | None


def _random_state(seed: SeedLike) -> np.random.RandomState:
    # The rule of sklearn.utils.check_random_state: None -> numpy's global RandomState, int -> a new one.
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.RandomState(int(seed))
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(f"seed must be None, an int or a numpy RandomState, got {seed!r}")


def _check_n_k(n: int, k: int) -> tuple[int, int]:
    if not isinstance(k, numbers.Integral) or isinstance(k, bool):
        raise ValueError(f"k (the number of folds) must be an integer, got {k!r}")
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise ValueError(f"n (the number of samples) must be an integer, got {n!r}")
    if n < 1:
        raise ValueError(f"cannot split an empty dataset: n={n}")
    if k < 2:
        raise ValueError(f"k-fold cross-validation needs at least 2 folds, got k={k}")
    if k > n:
        raise ValueError(f"cannot have more folds than samples: k={k} > n={n}")
    return int(n), int(k)


def kfold_indices(
    n: int, k: int, shuffle: bool = False, seed: SeedLike = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split ``range(n)`` into ``k`` folds, exactly like ``sklearn.model_selection.KFold``.

    The indices ``0..n-1`` are (optionally) shuffled once, with ``RandomState(seed).shuffle``, then cut into
    ``k`` consecutive blocks: the first ``n % k`` blocks have ``n // k + 1`` elements and the others ``n // k``.
    Block ``j`` is the validation set of fold ``j``; its training set is every other index. Both are returned
    sorted (as sklearn does through boolean masks).

    Parameters
    ----------
    n : int
        Number of samples, ``n >= 1``.
    k : int
        Number of folds, ``2 <= k <= n``.
    shuffle : bool, default=False
        Shuffle the indices before cutting them into blocks.
    seed : int, numpy.random.RandomState or None
        Seed of the shuffle (as sklearn's ``random_state``). ``None`` uses numpy's global random state. Must be
        ``None`` when ``shuffle`` is False (it would have no effect).

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        ``k`` pairs ``(train_idx, val_idx)`` of int64 index arrays.
    """
    n, k = _check_n_k(n, k)
    if not isinstance(shuffle, bool):
        raise ValueError(f"shuffle must be True or False, got {shuffle!r}")
    if not shuffle and seed is not None:
        raise ValueError("a seed has no effect when shuffle is False: leave seed=None or set shuffle=True")
    indices = np.arange(n)
    if shuffle:
        _random_state(seed).shuffle(indices)
    fold_sizes = np.full(k, n // k, dtype=np.int64)
    fold_sizes[: n % k] += 1
    folds = []
    start = 0
    for size in fold_sizes:
        is_val = np.zeros(n, dtype=bool)
        is_val[indices[start : start + size]] = True
        folds.append((np.flatnonzero(~is_val), np.flatnonzero(is_val)))
        start += size
    return folds


def holdout_indices(
    n: int, val_fraction: float = 0.2, seed: SeedLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """One random train/validation split, identical to ``ShuffleSplit(1, test_size=val_fraction)``.

    A permutation of ``range(n)`` is drawn with ``RandomState(seed).permutation``; the first
    ``ceil(val_fraction * n)`` indices form the validation set, the rest the training set.

    Parameters
    ----------
    n : int
        Number of samples, ``n >= 2``.
    val_fraction : float, default=0.2
        Fraction of samples held out, in ``(0, 1)``.
    seed : int, numpy.random.RandomState or None
        Seed of the permutation.

    Returns
    -------
    train_idx, val_idx : numpy.ndarray
        Index arrays.
    """
    if not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    if not 0.0 < float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    n_val = math.ceil(val_fraction * n)
    if n_val >= n:
        raise ValueError(f"val_fraction={val_fraction} leaves no training sample out of n={n}")
    perm = _random_state(seed).permutation(n)
    return perm[n_val:], perm[:n_val]


def _check_xy(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or X.shape[0] == 0:
        raise ValueError("X is empty")
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and y have mismatched numbers of samples: {X.shape[0]} and {y.shape[0] if y.ndim else 0}"
        )
    return X, y


def cross_val_score(
    fit: FitFn,
    score: ScoreFn,
    X: np.ndarray,
    y: np.ndarray,
    k: int = 5,
    shuffle: bool = False,
    seed: SeedLike = None,
) -> np.ndarray:
    """k-fold cross-validation scores of a learning procedure.

    For each fold ``(train_idx, val_idx)`` of :func:`kfold_indices`: ``model = fit(X[train_idx],
    y[train_idx])``, then ``score(model, X[val_idx], y[val_idx])``.

    Parameters
    ----------
    fit : callable
        ``fit(X_train, y_train) -> model``; must not modify its inputs.
    score : callable
        ``score(model, X_val, y_val) -> float``.
    X : numpy.ndarray of shape (n, ...)
        Features.
    y : numpy.ndarray of shape (n, ...)
        Targets.
    k : int, default=5
        Number of folds.
    shuffle : bool, default=False
        Shuffle before splitting.
    seed : int, numpy.random.RandomState or None
        Seed of the shuffle.

    Returns
    -------
    numpy.ndarray of shape (k,)
        One score per fold. Their mean is the CV estimate.
    """
    X, y = _check_xy(X, y)
    folds = kfold_indices(X.shape[0], k, shuffle=shuffle, seed=seed)
    return np.array([float(score(fit(X[tr], y[tr]), X[va], y[va])) for tr, va in folds])


@dataclass(frozen=True)
class CVCurve:
    """CV scores of a family of models indexed by a hyperparameter.

    Attributes
    ----------
    params : list
        Hyperparameter values.
    scores : numpy.ndarray of shape (len(params), k)
        Per-fold scores.
    best_index : int
        Index of the selected hyperparameter (lowest or highest mean score).
    """

    params: list
    scores: np.ndarray
    best_index: int

    @property
    def mean(self) -> np.ndarray:
        """Mean score per hyperparameter: the CV estimate."""
        return self.scores.mean(axis=1)

    @property
    def std(self) -> np.ndarray:
        """Standard deviation of the fold scores per hyperparameter."""
        return self.scores.std(axis=1, ddof=1)

    @property
    def best_param(self) -> Any:
        """The selected hyperparameter."""
        return self.params[self.best_index]


def cross_val_curve(
    make_fit: Callable[[Any], FitFn],
    params: Sequence[Any],
    score: ScoreFn,
    X: np.ndarray,
    y: np.ndarray,
    k: int = 5,
    shuffle: bool = False,
    seed: SeedLike = None,
    lower_is_better: bool = True,
) -> CVCurve:
    """Model selection by k-fold CV: score every hyperparameter on the same folds and pick the best.

    Parameters
    ----------
    make_fit : callable
        ``make_fit(param) -> fit``, a learning procedure for that hyperparameter value.
    params : sequence
        Hyperparameter values (non-empty).
    score : callable
        ``score(model, X_val, y_val) -> float``.
    X, y : numpy.ndarray
        Data.
    k : int, default=5
        Number of folds.
    shuffle : bool, default=False
        Shuffle before splitting (once: every hyperparameter sees the same folds).
    seed : int, numpy.random.RandomState or None
        Seed of the shuffle.
    lower_is_better : bool, default=True
        Select the lowest mean score (errors) or the highest (accuracies).

    Returns
    -------
    CVCurve
        Scores and the selected hyperparameter (the first one among ties).
    """
    params = list(params)
    if not params:
        raise ValueError("params is empty")
    X, y = _check_xy(X, y)
    folds = kfold_indices(X.shape[0], k, shuffle=shuffle, seed=seed)
    scores = np.array(
        [[float(score(make_fit(p)(X[tr], y[tr]), X[va], y[va])) for tr, va in folds] for p in params]
    )
    mean = scores.mean(axis=1)
    best = int(np.argmin(mean) if lower_is_better else np.argmax(mean))
    return CVCurve(params, scores, best)


@dataclass(frozen=True)
class NestedCV:
    """Result of :func:`nested_cross_val_score`.

    Attributes
    ----------
    scores : numpy.ndarray of shape (k_outer,)
        Score on each outer validation fold of the model refit with the hyperparameter chosen by inner CV.
    chosen : list
        Hyperparameter chosen in each outer fold.
    """

    scores: np.ndarray
    chosen: list


def nested_cross_val_score(
    make_fit: Callable[[Any], FitFn],
    params: Sequence[Any],
    score: ScoreFn,
    X: np.ndarray,
    y: np.ndarray,
    k_outer: int = 5,
    k_inner: int = 5,
    seed: int | None = None,
    lower_is_better: bool = True,
) -> NestedCV:
    """Nested cross-validation: an unbiased estimate of the error of "select by CV, then refit".

    The outer loop splits the data into ``k_outer`` folds. In each, the hyperparameter is chosen by
    :func:`cross_val_curve` with ``k_inner`` folds on the outer training part only, the model is refit on that
    whole part and scored on the outer validation fold, which played no role in the choice.

    Parameters
    ----------
    make_fit : callable
        ``make_fit(param) -> fit``.
    params : sequence
        Hyperparameter values.
    score : callable
        ``score(model, X_val, y_val) -> float``.
    X, y : numpy.ndarray
        Data.
    k_outer, k_inner : int, default=5
        Numbers of outer and inner folds.
    seed : int or None
        Seed of the shuffles (outer folds use ``seed``; inner folds of outer fold ``j`` use ``seed + 1 + j``);
        ``None`` means no shuffling.
    lower_is_better : bool, default=True
        Direction of the score.

    Returns
    -------
    NestedCV
        Outer scores and the hyperparameters chosen.
    """
    X, y = _check_xy(X, y)
    shuffle = seed is not None
    outer = kfold_indices(X.shape[0], k_outer, shuffle=shuffle, seed=seed)
    scores, chosen = [], []
    for j, (tr, va) in enumerate(outer):
        curve = cross_val_curve(
            make_fit,
            params,
            score,
            X[tr],
            y[tr],
            k=k_inner,
            shuffle=shuffle,
            seed=None if seed is None else seed + 1 + j,
            lower_is_better=lower_is_better,
        )
        model = make_fit(curve.best_param)(X[tr], y[tr])
        scores.append(float(score(model, X[va], y[va])))
        chosen.append(curve.best_param)
    return NestedCV(np.array(scores), chosen)
