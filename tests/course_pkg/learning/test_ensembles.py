"""Bootstrap, Bagging, AdaBoost (SAMME) and GradientBoosting against scikit-learn and closed forms."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_moons
from sklearn.ensemble import AdaBoostClassifier, BaggingRegressor, GradientBoostingRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from course_pkg.learning.ensembles import (
    AdaBoost,
    Bagging,
    GradientBoosting,
    bootstrap_estimate,
    bootstrap_indices,
)
from course_pkg.learning.trees import DecisionTree


def test_bootstrap_indices_shape_range_and_out_of_bag_fraction():
    idx = bootstrap_indices(200, 500, seed=0)
    assert idx.shape == (500, 200) and idx.min() >= 0 and idx.max() < 200
    oob = np.mean([200 - len(np.unique(row)) for row in idx]) / 200
    assert oob == pytest.approx((1 - 1 / 200) ** 200, abs=0.01)  # ≈ 1/e
    np.testing.assert_array_equal(idx, bootstrap_indices(200, 500, seed=0))


def test_bootstrap_standard_error_of_the_mean_matches_closed_form():
    data = np.random.default_rng(1).exponential(size=80)
    est = bootstrap_estimate(np.mean, data, n_bootstrap=4000, seed=2)
    # the ideal bootstrap variance of the mean is the plug-in variance / n
    ideal = np.sqrt(data.var(ddof=0) / len(data))
    assert est.std_error == pytest.approx(ideal, rel=0.05)
    assert est.ci[0] < data.mean() < est.ci[1]
    assert est.estimate == pytest.approx(data.mean())


def test_bagging_matches_sklearn_given_the_same_bootstrap_samples():
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(80, 1))
    y = np.sin(6 * x[:, 0]) + 0.3 * rng.normal(size=80)
    ref = BaggingRegressor(DecisionTreeRegressor(), n_estimators=15, random_state=0).fit(x, y)
    ours = Bagging(lambda: DecisionTree("regression"), 15).fit(x, y, sample_indices=ref.estimators_samples_)
    grid = np.linspace(0, 1, 400)[:, None]
    np.testing.assert_allclose(ours.predict(x), ref.predict(x), atol=1e-12)
    np.testing.assert_allclose(ours.predict(grid), ref.predict(grid), atol=1e-12)
    staged = list(ours.staged_predict(grid))
    np.testing.assert_allclose(staged[-1], ours.predict(grid))
    members = np.stack([e.predict(grid) for e in ref.estimators_])
    for b in (1, 5, 15):
        np.testing.assert_allclose(staged[b - 1], members[:b].mean(axis=0), atol=1e-12)


def test_bagging_reduces_variance_of_deep_trees():
    rng = np.random.default_rng(4)
    grid = np.linspace(0, 1, 50)[:, None]
    single, bagged = [], []
    for r in range(20):
        x = rng.uniform(size=(60, 1))
        y = np.sin(6 * x[:, 0]) + 0.5 * rng.normal(size=60)
        single.append(DecisionTree("regression").fit(x, y).predict(grid))
        bagged.append(Bagging(lambda: DecisionTree("regression"), 12, seed=r).fit(x, y).predict(grid))
    assert np.var(bagged, axis=0).mean() < 0.6 * np.var(single, axis=0).mean()


def test_bagging_classification_is_a_majority_vote():
    X, y = make_moons(100, noise=0.3, random_state=0)
    bag = Bagging(lambda: DecisionTree("classification", max_depth=2), 7, task="classification", seed=0).fit(
        X, y
    )
    votes = np.stack([e.predict(X) for e in bag.estimators_])
    np.testing.assert_array_equal(bag.predict(X), (votes.sum(axis=0) >= 4).astype(int))


@pytest.mark.parametrize("learning_rate", [1.0, 0.5])
def test_adaboost_samme_matches_sklearn_binary(learning_rate):
    X, y = make_moons(200, noise=0.3, random_state=0)
    ours = AdaBoost(40, learning_rate=learning_rate).fit(X, y)
    ref = AdaBoostClassifier(
        DecisionTreeClassifier(max_depth=1), n_estimators=40, learning_rate=learning_rate, random_state=0
    ).fit(X, y)
    n = len(ours.estimators_)
    assert n == len(ref.estimators_)
    np.testing.assert_allclose(ours.estimator_errors_, ref.estimator_errors_[:n], rtol=1e-10)
    np.testing.assert_allclose(ours.estimator_weights_, ref.estimator_weights_[:n], rtol=1e-10)
    X_new = np.random.default_rng(5).normal(size=(300, 2))
    for data in (X, X_new):
        for p, q in zip(ours.staged_predict(data), ref.staged_predict(data), strict=True):
            np.testing.assert_array_equal(p, q)


def test_adaboost_samme_matches_sklearn_three_classes():
    X, y = make_classification(240, n_features=4, n_informative=3, n_redundant=0, n_classes=3, random_state=1)
    ours = AdaBoost(30).fit(X, y)
    ref = AdaBoostClassifier(DecisionTreeClassifier(max_depth=1), n_estimators=30, random_state=0).fit(X, y)
    errors = [np.mean(p != y) for p in ours.staged_predict(X)]
    ref_errors = [np.mean(p != y) for p in ref.staged_predict(X)]
    np.testing.assert_allclose(errors, ref_errors, atol=0)
    np.testing.assert_allclose(
        ours.estimator_weights_, ref.estimator_weights_[: len(ours.estimator_weights_)]
    )


def test_adaboost_training_error_stays_under_the_bound_and_weights_match_closed_form():
    X, y = make_moons(150, noise=0.25, random_state=2)
    ada = AdaBoost(60).fit(X, y)
    errors = np.array([np.mean(p != y) for p in ada.staged_predict(X)])
    bound = ada.training_error_bound()
    assert np.all(errors <= bound + 1e-12)
    assert errors[-1] < errors[0]
    # after round t the misclassified points carry exactly half of the weight (the defining property)
    for t in range(len(ada.estimators_) - 1):
        wrong = ada.estimators_[t].predict(X) != y
        assert ada.sample_weights_[t + 1][wrong].sum() == pytest.approx(0.5, abs=1e-12)
    margins = ada.margins(X, y)
    np.testing.assert_array_equal(margins > 0, ada.predict(X) == y)
    assert margins.min() >= -1 - 1e-12 and margins.max() <= 1 + 1e-12


@pytest.mark.parametrize(("learning_rate", "max_depth"), [(0.1, 3), (0.5, 2)])
def test_gradient_boosting_matches_sklearn_staged(learning_rate, max_depth):
    rng = np.random.default_rng(6)
    X = rng.uniform(-3, 3, size=(150, 2))
    y = np.sin(X[:, 0]) * X[:, 1] + 0.2 * rng.normal(size=150)
    ours = GradientBoosting(50, learning_rate, max_depth).fit(X, y)
    ref = GradientBoostingRegressor(
        n_estimators=50, learning_rate=learning_rate, max_depth=max_depth, random_state=0
    ).fit(X, y)
    for p, q in zip(ours.staged_predict(X), ref.staged_predict(X), strict=True):
        np.testing.assert_allclose(p, q, atol=1e-10)
    np.testing.assert_allclose(ours.train_loss_, ref.train_score_, rtol=1e-8)


def test_gradient_boosting_first_round_is_a_shrunk_tree_on_centred_targets():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(50, 2))
    y = X[:, 0] + rng.normal(size=50)
    gb = GradientBoosting(1, learning_rate=0.3, max_depth=2).fit(X, y)
    tree = DecisionTree("regression", max_depth=2).fit(X, y - y.mean())
    np.testing.assert_allclose(gb.predict(X), y.mean() + 0.3 * tree.predict(X), atol=1e-12)


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="n must be a positive integer"):
        bootstrap_indices(0, 3)
    with pytest.raises(ValueError, match="n_bootstrap"):
        bootstrap_indices(5, 0)
    with pytest.raises(ValueError, match="empty"):
        bootstrap_estimate(np.mean, np.array([]))
    with pytest.raises(ValueError, match="level"):
        bootstrap_estimate(np.mean, np.ones(3), level=1.5)
    with pytest.raises(ValueError, match="n_estimators"):
        Bagging(lambda: DecisionTree(), 0)
    with pytest.raises(ValueError, match="callable"):
        Bagging(DecisionTree(), 3)
    with pytest.raises(ValueError, match="sample_indices"):
        Bagging(lambda: DecisionTree(), 2).fit(np.zeros((4, 1)), np.zeros(4), sample_indices=[[0, 9], [1, 2]])
    with pytest.raises(ValueError, match="not fitted"):
        Bagging(lambda: DecisionTree()).predict(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="learning_rate"):
        AdaBoost(learning_rate=0.0)
    with pytest.raises(ValueError, match="single class"):
        AdaBoost().fit(np.arange(4.0)[:, None], np.zeros(4))
    with pytest.raises(ValueError, match="mismatched"):
        GradientBoosting().fit(np.zeros((4, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="max_depth"):
        GradientBoosting(max_depth=0)
