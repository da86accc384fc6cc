"""course_pkg.learning.cv against scikit-learn: KFold and ShuffleSplit index by index, cross_val_score value by
value, and properties of model selection and nested CV."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, ShuffleSplit
from sklearn.model_selection import cross_val_score as sk_cross_val_score

from course_pkg.learning import cv


def _assert_same_folds(ours, theirs):
    theirs = list(theirs)
    assert len(ours) == len(theirs)
    for (tr, va), (tr2, va2) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(tr, tr2)
        np.testing.assert_array_equal(va, va2)


@pytest.mark.parametrize("n", [2, 3, 7, 10, 11, 50, 101])
@pytest.mark.parametrize("k", [2, 3, 5, 7, 10])
@pytest.mark.parametrize("shuffle, seed", [(False, None), (True, 0), (True, 1), (True, 12345)])
def test_kfold_identical_to_sklearn(n, k, shuffle, seed):
    if k > n:
        with pytest.raises(ValueError, match="more folds than samples"):
            cv.kfold_indices(n, k, shuffle=shuffle, seed=seed)
        return
    X = np.zeros((n, 1))
    _assert_same_folds(
        cv.kfold_indices(n, k, shuffle=shuffle, seed=seed),
        KFold(k, shuffle=shuffle, random_state=seed).split(X),
    )


def test_kfold_leave_one_out_and_random_state_object():
    n = 9
    _assert_same_folds(cv.kfold_indices(n, n), KFold(n).split(np.zeros((n, 1))))
    ours = cv.kfold_indices(30, 4, shuffle=True, seed=np.random.RandomState(5))
    _assert_same_folds(
        ours, KFold(4, shuffle=True, random_state=np.random.RandomState(5)).split(np.zeros((30, 1)))
    )


def test_kfold_with_global_seed_matches_sklearn():
    np.random.seed(7)
    ours = cv.kfold_indices(23, 4, shuffle=True)
    np.random.seed(7)
    theirs = KFold(4, shuffle=True).split(np.zeros((23, 1)))
    _assert_same_folds(ours, theirs)


def test_kfold_folds_partition_the_indices():
    folds = cv.kfold_indices(103, 6, shuffle=True, seed=3)
    all_val = np.concatenate([va for _, va in folds])
    np.testing.assert_array_equal(np.sort(all_val), np.arange(103))
    for tr, va in folds:
        assert np.intersect1d(tr, va).size == 0 and tr.size + va.size == 103
    assert [va.size for _, va in folds] == [18] + [17] * 5


@pytest.mark.parametrize(
    "n, k, kwargs, match",
    [
        (10, 1, {}, "at least 2 folds"),
        (10, 0, {}, "at least 2 folds"),
        (3, 4, {}, "more folds than samples"),
        (0, 2, {}, "empty dataset"),
        (10, 2.0, {}, "must be an integer"),
        (10, 3, {"seed": 0}, "no effect when shuffle is False"),
        (10, 3, {"shuffle": 1}, "shuffle must be True or False"),
        (10, 3, {"shuffle": True, "seed": "a"}, "seed must be"),
    ],
)
def test_kfold_rejects_bad_arguments(n, k, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cv.kfold_indices(n, k, **kwargs)


@pytest.mark.parametrize(
    "n, frac, seed", [(10, 0.2, 0), (10, 0.3, 2), (37, 0.25, 3), (100, 0.33, 42), (5, 0.5, 1)]
)
def test_holdout_identical_to_shufflesplit(n, frac, seed):
    tr, va = cv.holdout_indices(n, frac, seed=seed)
    tr2, va2 = next(ShuffleSplit(1, test_size=frac, random_state=seed).split(np.zeros((n, 1))))
    np.testing.assert_array_equal(tr, tr2)
    np.testing.assert_array_equal(va, va2)


def test_holdout_rejects_bad_fraction():
    with pytest.raises(ValueError, match="val_fraction"):
        cv.holdout_indices(10, 1.0)
    with pytest.raises(ValueError, match="no training sample"):
        cv.holdout_indices(2, 0.9)


def _ridge_fit(alpha):
    return lambda X, y: Ridge(alpha=alpha).fit(X, y)


def _neg_mse(model, X, y):
    return -float(np.mean((model.predict(X) - y) ** 2))


@pytest.mark.parametrize("k, shuffle, seed", [(3, False, None), (5, True, 0), (10, True, 9)])
def test_cross_val_score_matches_sklearn(k, shuffle, seed):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(83, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3 * rng.normal(size=83)
    ours = cv.cross_val_score(_ridge_fit(1.0), _neg_mse, X, y, k=k, shuffle=shuffle, seed=seed)
    theirs = sk_cross_val_score(
        Ridge(alpha=1.0),
        X,
        y,
        cv=KFold(k, shuffle=shuffle, random_state=seed),
        scoring="neg_mean_squared_error",
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_cross_val_score_rejects_mismatched_or_empty_data():
    with pytest.raises(ValueError, match="mismatched"):
        cv.cross_val_score(_ridge_fit(1.0), _neg_mse, np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="empty"):
        cv.cross_val_score(_ridge_fit(1.0), _neg_mse, np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match="more folds than samples"):
        cv.cross_val_score(_ridge_fit(1.0), _neg_mse, np.zeros((3, 2)), np.zeros(3), k=5)


def test_cross_val_curve_selects_like_gridsearchcv():
    from sklearn.model_selection import GridSearchCV

    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 10))
    y = X[:, 0] + 0.8 * rng.normal(size=60)
    alphas = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]
    curve = cv.cross_val_curve(
        _ridge_fit, alphas, _neg_mse, X, y, k=5, shuffle=True, seed=0, lower_is_better=False
    )
    gs = GridSearchCV(
        Ridge(),
        {"alpha": alphas},
        cv=KFold(5, shuffle=True, random_state=0),
        scoring="neg_mean_squared_error",
    ).fit(X, y)
    np.testing.assert_allclose(curve.mean, gs.cv_results_["mean_test_score"], rtol=1e-12)
    assert curve.best_param == gs.best_params_["alpha"]
    assert curve.scores.shape == (6, 5) and curve.std.shape == (6,)
    # the same choice from errors (lower is better) as from negated errors (higher is better)
    mse = lambda m, X_, y_: -_neg_mse(m, X_, y_)  # noqa: E731
    by_error = cv.cross_val_curve(_ridge_fit, alphas, mse, X, y, k=5, shuffle=True, seed=0)
    np.testing.assert_allclose(by_error.mean, -curve.mean, rtol=1e-12)
    assert by_error.best_param == curve.best_param


def test_nested_cv_outer_scores_are_refits_on_outer_training_parts():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 5))
    y = X[:, 1] + 0.5 * rng.normal(size=50)
    alphas = [0.1, 10.0, 1000.0]
    res = cv.nested_cross_val_score(
        _ridge_fit, alphas, _neg_mse, X, y, k_outer=5, k_inner=4, seed=0, lower_is_better=False
    )
    outer = cv.kfold_indices(50, 5, shuffle=True, seed=0)
    for j, (tr, va) in enumerate(outer):
        inner = cv.cross_val_curve(
            _ridge_fit, alphas, _neg_mse, X[tr], y[tr], k=4, shuffle=True, seed=1 + j, lower_is_better=False
        )
        assert res.chosen[j] == inner.best_param
        expected = _neg_mse(Ridge(alpha=inner.best_param).fit(X[tr], y[tr]), X[va], y[va])
        assert res.scores[j] == pytest.approx(expected, rel=1e-12)
    # the signal is strong: the huge penalty is never chosen
    assert 1000.0 not in res.chosen
