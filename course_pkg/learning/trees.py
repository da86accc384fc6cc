"""Decision trees and decision stumps: the weak and strong learners of the ensembles chapter.

A tree splits the input space with axis-aligned cuts ``x[j] <= threshold`` chosen greedily, node by node,
to maximise the decrease of an impurity: the weighted variance of the targets for regression, the Gini
index ``1 - sum_k p_k**2`` for classification. The split search mirrors scikit-learn's ``BestSplitter``
(thresholds at midpoints between consecutive distinct feature values, a strict ``>`` so that the first best
split found wins, sample weights entering every count), so that trees grown on the same data with no tied
candidate splits partition the training set identically. Deliberate differences from scikit-learn:

* features are examined in their natural order ``0, 1, ..., d-1``, whereas scikit-learn visits them in a
  random permutation drawn from ``random_state``; the two can differ only when two *different* features give
  exactly the same impurity decrease (a tie);
* inputs stay in float64 (scikit-learn casts ``X`` to float32), so thresholds can differ in the last digits
  of a float32 number; training predictions are unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["DecisionTree", "DecisionStump"]

# scikit-learn treats feature values closer than this as equal and never splits between them.
FEATURE_THRESHOLD = 1e-7
_EPS = np.finfo(np.float64).eps
_TASKS = ("regression", "classification")


def _check_xy(X: np.ndarray, y: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (n, d), got an array with {X.ndim} dimension(s)")
    if X.shape[0] == 0:
        raise ValueError("X is empty: at least one sample is required")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values")
    if y is None:
        return X, None
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array, got an array with {y.ndim} dimension(s)")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y have mismatched lengths: X has {X.shape[0]} rows, y has {y.shape[0]}")
    return X, y


def _check_sample_weight(sample_weight: np.ndarray | None, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), got {w.shape}")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("sample_weight must be finite and non-negative")
    if w.sum() <= 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs a positive weight")
    return w


@dataclass
class _Split:
    proxy: float = -np.inf
    feature: int = -1
    threshold: float = np.nan


@dataclass
class _Nodes:
    feature: list[int] = field(default_factory=list)
    threshold: list[float] = field(default_factory=list)
    left: list[int] = field(default_factory=list)
    right: list[int] = field(default_factory=list)
    value: list[np.ndarray] = field(default_factory=list)
    n_samples: list[int] = field(default_factory=list)

    def add(self, value: np.ndarray, n_samples: int) -> int:
        self.feature.append(-1)
        self.threshold.append(np.nan)
        self.left.append(-1)
        self.right.append(-1)
        self.value.append(value)
        self.n_samples.append(n_samples)
        return len(self.feature) - 1


class DecisionTree:
    """A CART decision tree for regression (squared error) or classification (Gini index).

    Each internal node holds a test ``x[feature] <= threshold``; a point goes left when the test holds. A leaf
    predicts the weighted mean target (regression) or the class with the largest weight (classification).

    Parameters
    ----------
    task : {"regression", "classification"}
        Which impurity and which leaf prediction to use.
    max_depth : int or None, default=None
        Maximum depth (a stump has depth 1). ``None`` grows until every leaf is pure or cannot be split.
    min_samples_leaf : int, default=1
        Minimum number of training samples in each leaf.

    Attributes
    ----------
    classes_ : numpy.ndarray
        Sorted class labels (classification only).
    feature_, threshold_, left_, right_ : numpy.ndarray
        The fitted tree as flat arrays; leaves have ``feature_ == -1``.
    value_ : numpy.ndarray
        Per node: the weighted mean target (regression, shape ``(n_nodes,)``) or the weighted class
        distribution (classification, shape ``(n_nodes, n_classes)``, rows sum to one).

    Notes
    -----
    For a node with total weight ``w`` split into ``(w_l, w_r)``, the split maximises the same proxy as
    scikit-learn: ``s_l**2 / w_l + s_r**2 / w_r`` for regression (``s`` the weighted target sums), which
    ranks splits like the decrease in weighted squared error, and ``-(w_l G_l + w_r G_r)`` for
    classification with ``G`` the Gini index. See the module docstring for the deliberate differences from
    scikit-learn's ``DecisionTreeRegressor``/``DecisionTreeClassifier``.
    """

    def __init__(self, task: str = "regression", max_depth: int | None = None, min_samples_leaf: int = 1):
        if task not in _TASKS:
            raise ValueError(f"task must be one of {_TASKS}, got {task!r}")
        if max_depth is not None and (int(max_depth) != max_depth or max_depth < 1):
            raise ValueError(f"max_depth must be a positive integer or None, got {max_depth!r}")
        if int(min_samples_leaf) != min_samples_leaf or min_samples_leaf < 1:
            raise ValueError(f"min_samples_leaf must be a positive integer, got {min_samples_leaf!r}")
        self.task = task
        self.max_depth = max_depth
        self.min_samples_leaf = int(min_samples_leaf)

    # ------------------------------------------------------------------ fitting
    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> DecisionTree:
        """Grow the tree on ``(X, y)``.

        Parameters
        ----------
        X : numpy.ndarray of shape (n, d)
            Inputs.
        y : numpy.ndarray of shape (n,)
            Real targets (regression) or class labels (classification).
        sample_weight : numpy.ndarray of shape (n,), optional
            Non-negative weights; samples with zero weight are ignored, as in scikit-learn.

        Returns
        -------
        DecisionTree
            ``self``, fitted.
        """
        X, y = _check_xy(X, y)
        w = _check_sample_weight(sample_weight, X.shape[0])
        keep = w > 0
        X, y, w = X[keep], y[keep], w[keep]
        if self.task == "classification":
            self.classes_, codes = np.unique(y, return_inverse=True)
            targets = np.eye(len(self.classes_))[codes]  # one-hot, shape (n, K)
        else:
            targets = y.astype(np.float64)
        self.n_features_in_ = X.shape[1]
        nodes = _Nodes()
        root = nodes.add(self._leaf_value(targets, w), len(y))
        stack = [(root, np.arange(len(y)), 0)]
        while stack:
            node, idx, depth = stack.pop()
            if not self._can_split(idx, targets, w, depth):
                continue
            split = self._best_split(X[idx], targets[idx], w[idx])
            if split.feature < 0:
                continue
            go_left = X[idx, split.feature] <= split.threshold
            li, ri = idx[go_left], idx[~go_left]
            nodes.feature[node] = split.feature
            nodes.threshold[node] = split.threshold
            nodes.left[node] = nodes.add(self._leaf_value(targets[li], w[li]), len(li))
            nodes.right[node] = nodes.add(self._leaf_value(targets[ri], w[ri]), len(ri))
            stack.append((nodes.right[node], ri, depth + 1))
            stack.append((nodes.left[node], li, depth + 1))
        self.feature_ = np.asarray(nodes.feature, dtype=np.intp)
        self.threshold_ = np.asarray(nodes.threshold, dtype=np.float64)
        self.left_ = np.asarray(nodes.left, dtype=np.intp)
        self.right_ = np.asarray(nodes.right, dtype=np.intp)
        self.value_ = np.asarray(nodes.value, dtype=np.float64)
        self.n_node_samples_ = np.asarray(nodes.n_samples, dtype=np.intp)
        return self

    @staticmethod
    def _leaf_value(targets: np.ndarray, w: np.ndarray) -> np.ndarray:
        return (w @ targets) / w.sum()

    def _impurity(self, targets: np.ndarray, w: np.ndarray) -> float:
        mean = self._leaf_value(targets, w)
        if self.task == "classification":
            return float(1.0 - np.sum(mean**2))
        return float(w @ (targets - mean) ** 2 / w.sum())

    def _can_split(self, idx: np.ndarray, targets: np.ndarray, w: np.ndarray, depth: int) -> bool:
        if self.max_depth is not None and depth >= self.max_depth:
            return False
        if len(idx) < max(2, 2 * self.min_samples_leaf):
            return False
        return self._impurity(targets[idx], w[idx]) > _EPS

    def _best_split(self, X: np.ndarray, targets: np.ndarray, w: np.ndarray) -> _Split:
        n = len(w)
        best = _Split()
        m = self.min_samples_leaf
        for j in range(X.shape[1]):
            order = np.argsort(X[:, j], kind="stable")
            xs = X[order, j]
            if xs[-1] <= xs[0] + FEATURE_THRESHOLD:
                continue  # constant feature
            ws = w[order]
            # split position p puts the sorted samples [0, p) left and [p, n) right, for p = 1 .. n-1
            p = np.arange(1, n)
            valid = (xs[1:] > xs[:-1] + FEATURE_THRESHOLD) & (p >= m) & (n - p >= m)
            if not np.any(valid):
                continue
            w_left = np.cumsum(ws)[:-1]
            w_right = ws.sum() - w_left
            if self.task == "classification":
                t = targets[order] * ws[:, None]
                c_left = np.cumsum(t, axis=0)[:-1]
                c_right = t.sum(axis=0) - c_left
                gini_left = 1.0 - np.sum(c_left**2, axis=1) / w_left**2
                gini_right = 1.0 - np.sum(c_right**2, axis=1) / w_right**2
                proxy = -w_left * gini_left - w_right * gini_right
            else:
                s = targets[order] * ws
                s_left = np.cumsum(s)[:-1]
                s_right = s.sum() - s_left
                proxy = s_left**2 / w_left + s_right**2 / w_right
            proxy = np.where(valid, proxy, -np.inf)
            k = int(np.argmax(proxy))  # first maximum, like scikit-learn's left-to-right scan
            if proxy[k] > best.proxy:
                threshold = xs[k] / 2.0 + xs[k + 1] / 2.0
                if threshold == xs[k + 1]:
                    threshold = xs[k]
                best = _Split(proxy=float(proxy[k]), feature=j, threshold=float(threshold))
        return best

    # --------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "feature_"):
            raise ValueError("this DecisionTree is not fitted yet: call fit(X, y) first")

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Index of the leaf that each row of ``X`` falls into.

        Parameters
        ----------
        X : numpy.ndarray of shape (m, d)
            Inputs.

        Returns
        -------
        numpy.ndarray of shape (m,)
            Leaf (node) indices.
        """
        self._check_fitted()
        X, _ = _check_xy(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but the tree was fitted with {self.n_features_in_}"
            )
        node = np.zeros(X.shape[0], dtype=np.intp)
        while True:
            inner = self.feature_[node] >= 0
            if not np.any(inner):
                return node
            f = self.feature_[node[inner]]
            x = X[np.flatnonzero(inner), f]
            left = x <= self.threshold_[node[inner]]
            node[inner] = np.where(left, self.left_[node[inner]], self.right_[node[inner]])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted targets (regression) or class labels (classification).

        Parameters
        ----------
        X : numpy.ndarray of shape (m, d)
            Inputs.

        Returns
        -------
        numpy.ndarray of shape (m,)
            Predictions; ties between classes go to the smallest label.
        """
        leaves = self.apply(X)
        if self.task == "classification":
            return self.classes_[np.argmax(self.value_[leaves], axis=1)]
        return self.value_[leaves]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Weighted class distribution of the leaf each row falls into (classification only).

        Parameters
        ----------
        X : numpy.ndarray of shape (m, d)
            Inputs.

        Returns
        -------
        numpy.ndarray of shape (m, n_classes)
            Class probabilities, columns ordered as ``classes_``.
        """
        if self.task != "classification":
            raise ValueError("predict_proba is only defined for task='classification'")
        return self.value_[self.apply(X)]

    @property
    def depth(self) -> int:
        """Depth of the fitted tree (0 for a single leaf)."""
        self._check_fitted()
        depth = np.zeros(len(self.feature_), dtype=np.intp)
        for node in range(len(self.feature_)):  # children always have larger indices than their parent
            if self.feature_[node] >= 0:
                depth[self.left_[node]] = depth[self.right_[node]] = depth[node] + 1
        return int(depth.max())

    @property
    def n_leaves(self) -> int:
        """Number of leaves of the fitted tree."""
        self._check_fitted()
        return int(np.sum(self.feature_ < 0))


class DecisionStump(DecisionTree):
    """A depth-one tree: one threshold on one feature, the classic weak learner of AdaBoost.

    Parameters
    ----------
    task : {"regression", "classification"}, default="classification"
        Which impurity and leaf prediction to use (see :class:`DecisionTree`).
    """

    def __init__(self, task: str = "classification"):
        super().__init__(task=task, max_depth=1)
