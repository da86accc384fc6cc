"""The CV chapter's explorable: the CV curve against scikit-learn's cross_val_score, fold layout, spread, draw."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures

from course_pkg.experiments import cross_validation as cv_experiments
from course_pkg.explore.chapters import cross_validation as cvx


@pytest.mark.parametrize("k, seed", [(2, 0), (5, 3), (10, 1)])
def test_cv_curve_matches_sklearn(k, seed):
    x, y, _, _ = cv_experiments.regression_data()
    r = cvx._compute(k=k, seed=seed)
    for degree in (0, 3, 6):
        model = make_pipeline(PolynomialFeatures(degree), LinearRegression(fit_intercept=False))
        ref = -cross_val_score(
            model,
            x[:, None],
            y,
            cv=KFold(k, shuffle=True, random_state=seed),
            scoring="neg_mean_squared_error",
        )
        assert r["cv_mean"][degree] == pytest.approx(ref.mean(), rel=1e-8)
        assert r["cv_se"][degree] == pytest.approx(ref.std(ddof=1) / np.sqrt(k), rel=1e-6)


def test_fold_assignment_partitions_the_samples():
    for k in cv_experiments.FOLDS:
        a = cvx._compute(k=k, seed=2)["assignment"]
        assert a.shape == (k, cv_experiments.N)
        np.testing.assert_array_equal(a.sum(axis=0), np.ones(cv_experiments.N))
        sizes = a.sum(axis=1)
        assert sizes.max() - sizes.min() <= 1


def test_spread_over_seeds():
    spread = cv_experiments.spread_over_seeds()
    assert spread.shape == (len(cv_experiments.FOLDS), 20)
    # leave-one-out does not depend on the shuffle
    assert np.ptp(spread[-1]) < 1e-12
    # on this dataset the shuffle-to-shuffle spread shrinks as k grows
    stds = spread.std(axis=1)
    k = list(cv_experiments.FOLDS)
    assert stds[k.index(2)] > stds[k.index(5)] > stds[k.index(10)] > stds[k.index(20)] > stds[-1]
    # the CV estimate of degree 3 is within 20% of its held-out error
    r = cvx._compute(k=10, seed=0)
    assert abs(spread[cv_experiments.FOLDS.index(10)].mean() - r["test"][3]) < 0.2 * r["test"][3]


def test_draw_smoke():
    e = cvx.folds_and_curve()
    assert e.n_frames == 30
    fig = e.figure(k=cv_experiments.N, seed=4)
    axes = fig.get_axes()
    assert len(axes) == 3 and all(ax.get_xlabel() for ax in axes)


@pytest.mark.parametrize("k, seed", [(3, 4), (20, 0), (cv_experiments.N, 0)])
def test_cv_curve_equals_the_library_cross_val_curve(k, seed):
    """The explorable's fast CV curve (features built once) is course_pkg.learning's cross_val_curve."""
    from course_pkg.learning.cv import cross_val_curve

    x, y, _, _ = cv_experiments.regression_data()
    ref = cross_val_curve(
        cv_experiments.polynomial_learner,
        cv_experiments.DEGREES,
        cv_experiments.mse_score,
        x,
        y,
        k=k,
        shuffle=True,
        seed=seed,
    )
    mean, se = cv_experiments.cv_curve(k, seed)
    np.testing.assert_allclose(mean, ref.mean, rtol=1e-9)
    np.testing.assert_allclose(se, ref.std / np.sqrt(k), rtol=1e-7)
