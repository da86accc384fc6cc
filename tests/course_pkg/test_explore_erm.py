"""The ERM chapter's explorable: compute against independent fits (numpy.polyfit), properties, draw smoke test."""

import numpy as np

from course_pkg.explore.chapters import erm


def test_fit_and_curves_match_numpy_polyfit():
    x, y, xt, yt = erm.training_pool()
    r = erm._compute(degree=3, n=40)
    np.testing.assert_array_equal(r["x"], x[:40])
    coef = np.polyfit(x[:40], y[:40], 3)
    np.testing.assert_allclose(r["fit_plot"], np.polyval(coef, r["x_plot"]), atol=1e-9)
    i = erm.DEGREES.index(3)
    np.testing.assert_allclose(r["train"][i], np.mean((np.polyval(coef, x[:40]) - y[:40]) ** 2), rtol=1e-9)
    np.testing.assert_allclose(r["test"][i], np.mean((np.polyval(coef, xt) - yt) ** 2), rtol=1e-9)
    # the learning-curve entry for n = 40 is the same number
    np.testing.assert_allclose(r["test_by_n"][erm.SIZES.index(40)], r["test"][i], rtol=1e-12)


def test_capacity_and_data_properties():
    for n in erm.SIZES:
        r = erm._compute(degree=9, n=n)
        # nested models: training error never increases with the degree
        assert np.all(np.diff(r["train"]) <= 1e-10)
        # test error is at least the noise floor (up to sampling error of the 2000-point test set)
        assert r["test"].min() > 0.9 * r["noise_var"]
    # with few points a high degree overfits badly; with many points it is near the noise floor
    small, large = erm._compute(degree=9, n=10), erm._compute(degree=9, n=160)
    i = erm.DEGREES.index(9)
    assert small["test"][i] > 10 * small["noise_var"]
    assert large["test"][i] < 1.3 * large["noise_var"]
    # the generalization gap of degree 9 shrinks with n
    gaps = large["test_by_n"] - large["train_by_n"]
    assert gaps[0] > gaps[-1] and abs(gaps[-1]) < 0.05


def test_draw_smoke():
    e = erm.degree_sample_size()
    assert e.n_frames == len(erm.DEGREES) * len(erm.SIZES) <= 120
    fig = e.figure(degree=12, n=10)
    axes = fig.get_axes()
    assert len(axes) == 3
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    assert erm.EXPLORABLES == [erm.degree_sample_size]


def test_error_panels_label_every_power_of_ten_in_view_as_a_log_locator_would():
    from matplotlib.ticker import LogLocator

    e = erm.degree_sample_size()
    for params in ({"degree": 12, "n": 10}, {"degree": 3, "n": 160}):
        fig = e.figure(**params)
        for ax in fig.axes[1:]:
            lo, hi = ax.get_ylim()
            expected = [
                v for v in LogLocator(base=10, subs=(1.0,), numticks=20).tick_values(lo, hi) if lo <= v <= hi
            ]
            np.testing.assert_allclose(ax.get_yticks(), expected)
            assert [t.get_text() for t in ax.get_yticklabels()] == [
                "10" + str(int(round(np.log10(v)))).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
                for v in expected
            ]
            assert len(ax.yaxis.get_minorticklocs()) == 0
