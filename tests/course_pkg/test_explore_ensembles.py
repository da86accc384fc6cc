"""Tests of the ensembles chapter's explorables: bagging variance bookkeeping and AdaBoost frames."""

import numpy as np
import pytest

from course_pkg.explore.chapters import ensembles as ens


def test_bagging_variance_formula_uses_the_pairwise_covariance_of_members():
    out = ens._compute_bagging(n_trees=5, depth="1")
    members = ens.bagging_members(1)
    S, B, M = members.shape
    centred = members - members.mean(axis=(0, 1), keepdims=True)
    # brute force: average over sets, pairs b ≠ b' and grid points of the product of centred predictions
    prod = np.einsum("sbm,scm->sbcm", centred, centred)
    off_diag = (prod.sum(axis=(1, 2)) - np.einsum("sbbm->sm", prod)) / (B * (B - 1))
    rho_sigma2 = off_diag.mean()
    assert out["rho"] * out["sigma2"] == pytest.approx(rho_sigma2, rel=1e-10)
    # formula at B = 1 is σ²; at B → ∞ it tends to ρσ²
    assert out["formula"][0] == pytest.approx(out["sigma2"], rel=1e-12)
    np.testing.assert_allclose(out["formula"], rho_sigma2 + (out["sigma2"] - rho_sigma2) / out["sizes"])
    # measured variance of the 50-tree average is an average over sets of a direct computation
    direct = members.mean(axis=1).var(axis=0).mean()
    assert out["measured"][-1] == pytest.approx(direct)
    assert out["fits"].shape == (3, len(ens.X_GRID))


def test_bagging_members_are_bootstrap_trees():
    members = ens.bagging_members(1)
    assert members.shape == (ens.N_SETS, ens.MAX_TREES, len(ens.X_GRID))
    # a stump predicts at most two distinct values
    assert all(len(np.unique(m)) <= 2 for m in members[0])


def test_adaboost_frame_is_consistent():
    out = ens._compute_adaboost(rounds=8, flip=0.0)
    assert out["rounds"] == 8
    assert out["weights"].sum() == pytest.approx(1.0)
    assert np.all(out["errors"] <= out["bound"] + 1e-12)
    m = out["margins"]
    assert np.all(np.diff(m) >= 0) and m.min() >= -1 - 1e-12 and m.max() <= 1 + 1e-12
    # fraction of negative margins equals the training error after 8 rounds
    assert np.mean(m <= 0) == pytest.approx(out["errors"][7], abs=1 / len(m) + 1e-12)
    fig = ens.adaboost_rounds().figure(rounds=8, flip=0.1)
    assert len(fig.axes) == 3


def test_bagged_classifier_is_a_majority_vote_and_helps_under_label_noise():
    votes = ens.bagged_classifier_votes(0.1)
    out = ens._compute_boundary(n_trees=10, flip=0.1)
    np.testing.assert_allclose(out["vote"].ravel(), votes["grid_votes"][:10].mean(axis=0))
    # test error of the b-tree majority vote, recomputed directly for b = 1 and b = 99 (odd: no ties)
    for b in (1, 99):
        direct = np.mean((votes["test_votes"][:b].mean(axis=0) > 0.5).astype(int) != votes["y_test"])
        assert out["test_err"][b - 1] == pytest.approx(direct)
    assert out["test_err"][-1] < out["test_err"][0]
    assert len(ens.bagging_boundary().figure(n_trees=3, flip=0.0).axes) == 3  # two panels and a colour bar


def test_adaboost_tables_match_the_models_staged_predictions():
    X, y, model = ens.fit_adaboost(0.1)
    tables = ens.adaboost_tables(0.1)
    staged_grid = list(model.staged_predict(ens._GRID))
    staged_train = list(model.staged_predict(X))
    assert len(staged_grid) == len(tables["region"]) == max(ens.ROUNDS)
    for t in (1, 2, 7, 50, max(ens.ROUNDS)):
        np.testing.assert_array_equal(tables["region"][t - 1], staged_grid[t - 1] == 1)
        assert tables["errors"][t - 1] == pytest.approx(np.mean(staged_train[t - 1] != y))
        # margins y·F(x): +α_s where stump s is right, −α_s where it is wrong
        votes = np.array([h.predict(X) for h in model.estimators_[:t]])
        direct = (model.estimator_weights_[:t, None] * np.where(votes == y, 1.0, -1.0)).sum(axis=0)
        np.testing.assert_allclose(tables["own"][t - 1], direct, rtol=1e-12, atol=1e-12)
    frame = ens._compute_adaboost(rounds=7, flip=0.1)
    np.testing.assert_array_equal(frame["region"].ravel(), staged_grid[6] == 1)


def test_majority_boundary_is_the_half_vote_contour_with_straight_runs_merged():
    from matplotlib.figure import Figure

    for n_trees, flip in ((1, 0.1), (10, 0.0), (100, 0.1)):
        vote = ens.bagged_classifier_votes(flip)["grid_votes"][:n_trees].mean(axis=0).reshape(ens._G1.shape)
        # reference: matplotlib's own contour of the vote map at 0.5
        ref = Figure().subplots().contour(ens._G1, ens._G2, vote, levels=[0.5])
        raw = ref.allsegs[0]
        merged = ens._majority_boundary(n_trees, flip)
        assert len(merged) == len(raw)
        assert sum(len(line) for line in merged) < sum(len(line) for line in raw)  # runs were merged
        raw_points = np.concatenate(raw)
        # the kept points are points of the contour ...
        for q in np.concatenate(merged):
            assert np.min(np.hypot(*(raw_points - q).T)) < 1e-9
        # ... and every point of the contour lies on the merged polylines
        a = np.concatenate([line[:-1] for line in merged])
        b = np.concatenate([line[1:] for line in merged])
        a, b = a[np.any(a != b, axis=1)], b[np.any(a != b, axis=1)]
        for q in raw_points:
            t = np.clip(np.einsum("ij,ij->i", q - a, b - a) / np.einsum("ij,ij->i", b - a, b - a), 0, 1)
            assert np.min(np.hypot(*(a + t[:, None] * (b - a) - q).T)) < 1e-9
