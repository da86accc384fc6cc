"""The losses chapter's explorable: fits against scikit-learn, the outlier effect it demonstrates, draw smoke."""

import numpy as np
from sklearn.linear_model import LogisticRegression

from course_pkg.explore.chapters import losses


def test_logistic_fit_matches_sklearn_and_errors_are_0_1_rates():
    for outliers in (False, True):
        X, y, Xt, yt = losses.classification_data(outliers)
        r = losses._compute(loss="logistic", lam=1e-2, outliers=outliers)
        ref = LogisticRegression(C=1 / (len(y) * 1e-2), tol=1e-12, max_iter=10000).fit(X, y)
        np.testing.assert_allclose(
            r["thetas"]["logistic"], np.r_[ref.coef_[0], ref.intercept_], rtol=1e-5, atol=1e-6
        )
        train_err, test_err = r["errors"]["logistic"]
        assert train_err == np.mean(ref.predict(X) != y)
        assert test_err == np.mean(ref.predict(Xt) != yt)


def test_curves_and_outliers():
    r = losses._compute(loss="hinge", lam=1e-2, outliers=False)
    np.testing.assert_array_equal(r["curves"]["zero_one"], (r["z"] <= 0).astype(float))
    assert set(r["thetas"]) == set(losses.SURROGATES)
    clean = r["errors"]
    dirty = losses._compute(loss="hinge", lam=1e-2, outliers=True)["errors"]
    # without outliers every surrogate reaches nearly the same test error (the blobs overlap: ~14%)
    tests = [clean[n][1] for n in losses.SURROGATES]
    assert max(tests) - min(tests) < 0.01 and 0.1 < min(tests) < 0.2
    # the exponential loss, which grows fastest for negative margins, is hurt most by the mislabelled points
    assert dirty["exponential"][1] - clean["exponential"][1] > 0.03
    assert dirty["exponential"][1] > max(dirty[n][1] for n in ("hinge", "logistic", "squared_hinge"))


def test_draw_smoke():
    e = losses.surrogate_boundaries()
    assert e.n_frames == 32
    fig = e.figure(loss="exponential", outliers=True)
    axes = fig.get_axes()
    assert len(axes) == 3 and all(ax.get_ylabel() for ax in axes)


def test_fast_fits_match_the_chapter_fitter():
    """The Newton / inlined-subgradient fits of the explorable reach the minimizers of fit_linear_classifier."""
    from course_pkg.learning.losses import fit_linear_classifier, regularized_objective

    for outliers in (False, True):
        X, y, _, _ = losses.classification_data(outliers)
        for lam in (1e-3, 1.0):
            thetas = losses.fit_all(outliers, lam)
            for name in losses.SURROGATES:
                ref = fit_linear_classifier(X, y, name, lam=lam, n_iter=1500)
                np.testing.assert_allclose(thetas[name], ref, rtol=1e-6, atol=1e-6)
                assert regularized_objective(thetas[name], X, y, name, lam)[0] <= (
                    regularized_objective(ref, X, y, name, lam)[0] + 1e-12
                )


def test_frames_do_not_depend_on_the_last_bits_of_the_axes_positions():
    """Constrained layout places the axes with run-to-run noise in the last bits; the same frame must come out the
    same (it did not when each boundary was 50 collinear points: Agg's joins amplified the noise to ~100 pixels)."""
    from course_pkg.explore.frames import FrameRenderer, default_positions

    e = losses.surrogate_boundaries()
    positions = default_positions(e, 80)
    bumped = [tuple(np.nextafter(np.nextafter(v, 2.0), 2.0) for v in p[:4]) + tuple(p[4:]) for p in positions]
    a, b = FrameRenderer(e, 80, positions), FrameRenderer(e, 80, bumped)
    for params in (
        {"loss": "hinge", "lam": 1e-3, "outliers": False},
        {"loss": "logistic", "lam": 1e-2, "outliers": True},
        {"loss": "exponential", "lam": 1.0, "outliers": False},
    ):
        np.testing.assert_array_equal(a.rgb(params), b.rgb(params))
