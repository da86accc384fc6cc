"""The FTRL chapter: sparse logistic stream, FTRL-Proximal transcription, OGD baselines, explorable."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

import course_pkg.optim as co
from course_pkg.experiments import ftrl as F
from course_pkg.explore.chapters import ftrl as E


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: one intra-op thread is fastest and immune to a busy machine's oversubscription."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def stream() -> dict[str, np.ndarray]:
    return F.sparse_logistic_stream(n=600, d=120, active=6, informative=10, seed=3)


def test_stream_structure(stream) -> None:
    X, idx, y, theta_star = stream["X"], stream["idx"], stream["y"], stream["theta_star"]
    assert X.shape == (600, 120) and idx.shape == (600, 7)
    np.testing.assert_array_equal(X.sum(axis=1), 7.0)  # bias + 6 distinct active features
    assert np.all(X[:, 0] == 1.0)
    np.testing.assert_array_equal(np.take_along_axis(X, idx, axis=1), 1.0)
    assert np.count_nonzero(theta_star) == 11  # 10 informative + bias
    freq = X[:, 1:].mean(axis=0)
    assert freq[:10].mean() > 3 * freq[-10:].mean()  # frequent → rare
    assert set(np.unique(y)) == {0.0, 1.0}
    with pytest.raises(ValueError):
        F.sparse_logistic_stream(d=10, active=9)


def test_transcription_matches_course_ftrl_optimizer(stream) -> None:
    """Our per-coordinate transcription and course_pkg.optim.FTRL (dense, in torch) give the same weights."""
    for l1, l2 in [(0.0, 0.0), (1.5, 0.3)]:
        ref = F.ftrl_proximal({k: v[:300] for k, v in stream.items()}, alpha=0.2, beta=0.5, l1=l1, l2=l2)
        theta = torch.zeros(120, dtype=torch.float64, requires_grad=True)
        opt = co.FTRL([theta], alpha=0.2, beta=0.5, l1=l1, l2=l2)
        Xt, yt = torch.as_tensor(stream["X"]), torch.as_tensor(stream["y"])
        for t in range(300):
            opt.zero_grad()
            nn.functional.binary_cross_entropy_with_logits(Xt[t] @ theta, yt[t]).backward()
            opt.step()
        np.testing.assert_allclose(theta.detach().numpy(), ref["theta"], rtol=1e-10, atol=1e-13)


def test_progressive_losses_use_previous_weights(stream) -> None:
    r = F.ftrl_proximal(stream, alpha=0.3)
    assert r["losses"][0] == pytest.approx(np.log(2))  # θ_0 = 0 predicts 1/2
    # the first update on example 0 (g = p - y on its active features) moves exactly those weights
    one = F.ftrl_proximal({k: v[:1] for k, v in stream.items()}, alpha=0.3)
    assert set(np.flatnonzero(one["theta"])) == set(stream["idx"][0])


def test_large_l1_gives_exact_zeros_and_path_matches(stream) -> None:
    l1s = np.array([0.0, 1.0, 4.0, 1e6])
    path = F.ftrl_proximal_path(stream, l1s, alpha=0.3, beta=1.0, l2=0.2, record_every=100)
    for i, l1 in enumerate(l1s):
        single = F.ftrl_proximal(stream, alpha=0.3, beta=1.0, l1=l1, l2=0.2, record_every=100)
        np.testing.assert_allclose(path["losses"][i], single["losses"], rtol=1e-12)
        np.testing.assert_allclose(path["theta"][i], single["theta"], rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(path["nnz"][i], single["nnz"])
    nnz = np.count_nonzero(path["theta"], axis=1)
    assert nnz[0] == 120 and np.all(np.diff(nnz) <= 0) and nnz[-1] == 0
    assert np.all(path["losses"][-1] == pytest.approx(np.log(2)))  # all-zero model predicts 1/2 forever


def test_ogd_baselines(stream) -> None:
    plain = F.online_gradient_descent(stream, alpha=0.3, l1=0.0)
    sub = F.online_gradient_descent(stream, alpha=0.3, l1=0.0, mode="subgradient")
    np.testing.assert_allclose(plain["losses"], sub["losses"])  # no L1: the two modes coincide
    fobos = F.online_gradient_descent(stream, alpha=0.3, l1=0.2)
    assert np.count_nonzero(fobos["theta"]) < np.count_nonzero(plain["theta"])
    # without L1 and with beta = 0 both OGD and FTRL are Adagrad from 0: identical predictions
    ftrl = F.ftrl_proximal(stream, alpha=0.3, beta=0.0)
    ogd = F.online_gradient_descent(stream, alpha=0.3, beta=0.0, l1=0.0)
    np.testing.assert_allclose(ftrl["losses"], ogd["losses"], rtol=1e-9)
    with pytest.raises(ValueError, match="mode"):
        F.online_gradient_descent(stream, mode="rda")


def test_regret_is_sublinear(stream) -> None:
    run = F.ftrl_proximal(stream, alpha=0.3)
    avg = [(run["losses"][:T].sum() - F.best_fixed_loss(stream, T)) / T for T in (150, 600)]
    assert avg[1] < avg[0]
    assert F.best_fixed_loss(stream, 600) < run["losses"].sum()


def test_explorable(stream) -> None:
    ex = E.ftrl_sparsity()
    assert ex.n_frames <= 120 and E.EXPLORABLES == [E.ftrl_sparsity]
    r = E._compute_sparsity(3.0, 0.3, 0.0)
    assert r["final_nnz"][0] == r["theta"].size and r["final_nnz"][-1] < r["final_nnz"][0]
    assert np.count_nonzero(r["theta"]) == r["final_nnz"][E.L1_GRID.index(3.0)]
    fig = Figure()
    E._draw_sparsity(r, fig)
    assert fig.axes[0].get_xlabel() == "example t"


def test_grid_paths_match_ftrl_proximal_path() -> None:
    """The one-pass (α, λ₂, λ₁) grid of the explorable equals the chapter's path function at each (α, λ₂)."""
    stream = F.sparse_logistic_stream(n=E.STREAM_LENGTH, seed=0)
    for alpha, l2 in [(0.05, 0.0), (1.0, 1.0)]:
        ref = F.ftrl_proximal_path(stream, np.array(E.L1_GRID), alpha=alpha, beta=1.0, l2=l2, record_every=50)
        got = E._path(alpha, l2)
        np.testing.assert_allclose(got["losses"], ref["losses"], rtol=1e-12)
        np.testing.assert_allclose(got["theta"], ref["theta"], rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(got["nnz"], ref["nnz"])
        np.testing.assert_array_equal(got["nnz_t"], ref["nnz_t"])
