"""DecisionTree / DecisionStump against scikit-learn's trees and against brute-force split search."""

import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from course_pkg.learning.trees import DecisionStump, DecisionTree


def _regression_data(seed: int, n: int = 150, d: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.3 * rng.normal(size=n)
    return X, y


def _classification_data(seed: int, n: int = 150, d: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + X[:, 1] ** 2 + 0.5 * rng.normal(size=n) > 0.8).astype(int) + (X[:, 2] > 1)
    w = rng.uniform(0.1, 1.0, size=n)  # continuous weights: no tied candidate splits
    return X, y, w


@pytest.mark.parametrize("max_depth", [1, 2, 4, None])
def test_regression_tree_matches_sklearn_on_training_points(max_depth):
    X, y = _regression_data(0)
    ours = DecisionTree("regression", max_depth=max_depth).fit(X, y)
    ref = DecisionTreeRegressor(max_depth=max_depth, random_state=0).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=0, atol=1e-12)
    assert ours.n_leaves == ref.get_n_leaves()


@pytest.mark.parametrize("max_depth", [1, 2, 4, None])
def test_weighted_classification_tree_matches_sklearn(max_depth):
    X, y, w = _classification_data(1)
    ours = DecisionTree("classification", max_depth=max_depth).fit(X, y, sample_weight=w)
    ref = DecisionTreeClassifier(max_depth=max_depth, random_state=0).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-12)


def test_stump_matches_sklearn_everywhere_including_new_points():
    X, y, w = _classification_data(2)
    ours = DecisionStump().fit(X, y, sample_weight=w)
    ref = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y, sample_weight=w)
    assert ours.feature_[0] == ref.tree_.feature[0]
    assert ours.threshold_[0] == pytest.approx(
        ref.tree_.threshold[0], abs=1e-6
    )  # sklearn thresholds are float32
    X_new = np.random.default_rng(3).normal(size=(400, 3))
    np.testing.assert_array_equal(ours.predict(X_new), ref.predict(X_new))


def test_regression_stump_is_the_brute_force_least_squares_split():
    rng = np.random.default_rng(4)
    x = rng.uniform(size=40)
    y = np.where(x > 0.6, 2.0, -1.0) + 0.5 * rng.normal(size=40)
    stump = DecisionStump("regression").fit(x[:, None], y)
    xs = np.sort(x)
    best = min(
        ((np.sum((y[x <= t] - y[x <= t].mean()) ** 2) + np.sum((y[x > t] - y[x > t].mean()) ** 2)), t)
        for t in (xs[:-1] + xs[1:]) / 2
    )
    assert stump.threshold_[0] == pytest.approx(best[1], rel=1e-12)
    left = x <= best[1]
    np.testing.assert_allclose(stump.predict(x[:, None]), np.where(left, y[left].mean(), y[~left].mean()))


def test_full_tree_interpolates_distinct_points_and_weights_act_like_repeats():
    X, y = _regression_data(5, n=60)
    tree = DecisionTree("regression").fit(X, y)
    np.testing.assert_allclose(tree.predict(X), y, atol=1e-12)
    # integer weights are the same as repeated rows
    counts = np.random.default_rng(6).integers(0, 3, size=60)
    counts[0] = 1
    weighted = DecisionTree("regression", max_depth=3).fit(X, y, sample_weight=counts)
    repeated = DecisionTree("regression", max_depth=3).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), atol=1e-12)


def test_min_samples_leaf_and_depth_are_respected():
    X, y = _regression_data(7, n=100)
    tree = DecisionTree("regression", max_depth=5, min_samples_leaf=7).fit(X, y)
    assert tree.depth <= 5
    leaves = tree.feature_ < 0
    assert tree.n_node_samples_[leaves].min() >= 7


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="task"):
        DecisionTree("ranking")
    with pytest.raises(ValueError, match="max_depth"):
        DecisionTree(max_depth=0)
    with pytest.raises(ValueError, match="min_samples_leaf"):
        DecisionTree(min_samples_leaf=0)
    tree = DecisionTree()
    with pytest.raises(ValueError, match="not fitted"):
        tree.predict(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="2-D"):
        tree.fit(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="empty"):
        tree.fit(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match="mismatched"):
        tree.fit(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="sample_weight"):
        tree.fit(np.zeros((3, 1)), np.zeros(3), sample_weight=[1.0, -1.0, 1.0])
    tree.fit(np.arange(6.0)[:, None], np.arange(6.0))
    with pytest.raises(ValueError, match="features"):
        tree.predict(np.zeros((2, 3)))
