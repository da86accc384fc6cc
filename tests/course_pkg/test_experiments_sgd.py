"""Tests of the small-vs-large batch experiment helpers (digits MLP)."""

import numpy as np
import pytest
import torch

from course_pkg.experiments import sgd

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors (conftest.py)


@pytest.fixture(scope="module")
def data():
    return sgd.load_digits_split(seed=0)


def test_split_is_standardised_and_stratified(data):
    assert data.X_train.shape == (1347, 64) and data.X_test.shape == (450, 64)
    assert float(data.X_train.mean(dim=0).abs().max()) < 1e-5
    counts = torch.bincount(data.y_test, minlength=10)
    assert int(counts.min()) >= 43 and int(counts.max()) <= 47


def test_one_full_batch_epoch_is_one_gradient_step(data):
    lr = 0.3
    res = sgd.train_mlp(data, batch_size=data.X_train.shape[0], lr=lr, epochs=1, seed=3)
    ref = sgd.make_mlp(seed=3).double()
    X, y = data.X_train.double(), data.y_train
    loss = torch.nn.functional.cross_entropy(ref(X), y)
    grads = torch.autograd.grad(loss, list(ref.parameters()))
    with torch.no_grad():
        for p, g in zip(ref.parameters(), grads):
            p -= lr * g
    assert res.steps == 1
    assert res.train_loss[0] == pytest.approx(float(loss.detach()), rel=1e-5)
    assert res.train_loss[1] == pytest.approx(sgd.full_loss(ref, X, y), rel=1e-5)


def test_training_is_seeded_and_learns(data):
    a = sgd.train_mlp(data, batch_size=32, lr=0.1, epochs=3, seed=1)
    b = sgd.train_mlp(data, batch_size=32, lr=0.1, epochs=3, seed=1)
    assert a.train_loss == b.train_loss
    assert a.train_loss[-1] < 0.3 * a.train_loss[0]
    assert a.test_accuracy > 0.85
    assert a.steps == 3 * int(np.ceil(1347 / 32))


def test_huge_learning_rate_is_flagged_as_diverged(data):
    res = sgd.train_mlp(data, batch_size=8, lr=50.0, epochs=2, seed=0)
    assert res.diverged and res.test_accuracy == 0.0


def test_bad_batch_size_raises(data):
    with pytest.raises(ValueError, match="batch_size"):
        sgd.train_mlp(data, batch_size=0, lr=0.1, epochs=1)


def test_epsilon_sharpness_matches_first_order_bound_for_small_boxes(data):
    model = sgd.train_mlp(data, batch_size=64, lr=0.1, epochs=2, seed=0).model
    X, y = data.X_train, data.y_train
    before = [p.detach().clone() for p in model.parameters()]
    eps = 1e-5
    phi = sgd.epsilon_sharpness(model, X, y, eps=eps, steps=10)
    # first order: max over the box of gᵀΔ is Σ ε(|θ|+1)|g|, reached at Δ = box·sign(g)
    m64 = sgd.make_mlp(seed=0).double()
    with torch.no_grad():
        for p, q in zip(m64.parameters(), model.parameters()):
            p.copy_(q)
    loss = torch.nn.functional.cross_entropy(m64(X.double()), y)
    grads = torch.autograd.grad(loss, list(m64.parameters()))
    with torch.no_grad():
        lin = sum(float((eps * (p.abs() + 1) * g.abs()).sum()) for p, g in zip(m64.parameters(), grads))
    expected = 100 * lin / (1 + float(loss.detach()))
    assert phi == pytest.approx(expected, rel=0.1)
    for p, q in zip(model.parameters(), before):
        assert torch.equal(p, q)


def test_random_directions_and_interpolation_endpoints(data):
    a = sgd.train_mlp(data, batch_size=64, lr=0.1, epochs=1, seed=0).model
    b = sgd.train_mlp(data, batch_size=256, lr=0.1, epochs=1, seed=1).model
    X, y = data.X_train, data.y_train
    curves = sgd.random_direction_losses(a, X, y, alphas=[0.0, 0.5, 1.0], n_directions=3, seed=0)
    assert curves.shape == (3, 3)
    np.testing.assert_allclose(curves[:, 0], sgd.full_loss(a, X, y), rtol=1e-6)
    assert np.all(
        curves[:, 2] > curves[:, 0]
    )  # a step of the weights' own size off a trained point costs loss
    line = sgd.interpolation_losses(a, b, X, y, alphas=[0.0, 1.0])
    assert line[0] == pytest.approx(sgd.full_loss(a, X, y), rel=1e-6)
    assert line[1] == pytest.approx(sgd.full_loss(b, X, y), rel=1e-6)


def test_stability_grid_marks_divergence(data):
    grid = sgd.stability_grid(data, lrs=[0.05, 50.0], batch_sizes=[64, 512], epochs=1)
    assert grid["train_loss"].shape == (2, 2)
    assert np.all(np.isfinite(grid["train_loss"][0]))
    assert np.all(np.isinf(grid["train_loss"][1]))


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (12, 4), (5, 8)])
@pytest.mark.parametrize("seed", [0, 7])
def test_shuffled_minibatches_are_torchs_shuffled_batches(n, batch_size, seed):
    """An epoch's batches are those of torch's BatchSampler over a RandomSampler (DataLoader's shuffle=True)."""
    from torch.utils.data import BatchSampler, RandomSampler

    gen = torch.Generator().manual_seed(seed)
    sampler = BatchSampler(
        RandomSampler(range(n), generator=torch.Generator().manual_seed(seed)), batch_size, False
    )
    first = [b.tolist() for b in sgd.shuffled_minibatches(n, batch_size, gen)]
    assert first == list(sampler)
    second = [b.tolist() for b in sgd.shuffled_minibatches(n, batch_size, gen)]  # the next epoch: reshuffled
    assert second != first and sorted(sum(second, [])) == list(range(n))
