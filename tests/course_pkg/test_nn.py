"""course_pkg.nn against torch: initializers draw the same tensors as torch.nn.init from the same generator;
batch and layer normalization (forward, hand-written backward, running statistics) match torch.nn.BatchNorm1d /
BatchNorm2d / LayerNorm and autograd in float64."""

from __future__ import annotations

import pytest
import torch

from course_pkg import nn as cnn

SHAPES = [(7, 5), (64, 128), (16, 3, 3, 3), (8, 4, 5), (2, 3, 2, 2, 2)]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("gain", [1.0, 5.0 / 3, 0.5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_glorot_equals_torch_xavier(shape, gain, dtype) -> None:
    for ours, theirs in [
        (cnn.glorot_uniform, torch.nn.init.xavier_uniform_),
        (cnn.glorot_normal, torch.nn.init.xavier_normal_),
    ]:
        got = ours(shape, gain=gain, generator=_gen(3), dtype=dtype)
        want = theirs(torch.empty(shape, dtype=dtype), gain=gain, generator=_gen(3))
        assert got.dtype == dtype and got.shape == torch.Size(shape)
        assert torch.equal(got, want)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"mode": "fan_out"},
        {"nonlinearity": "relu"},
        {"a": 0.2, "nonlinearity": "leaky_relu", "mode": "fan_out"},
        {"nonlinearity": "tanh"},
        {"nonlinearity": "linear"},
        {"nonlinearity": "selu"},
    ],
)
def test_he_equals_torch_kaiming(shape, kwargs) -> None:
    for ours, theirs in [
        (cnn.he_uniform, torch.nn.init.kaiming_uniform_),
        (cnn.he_normal, torch.nn.init.kaiming_normal_),
    ]:
        got = ours(shape, generator=_gen(11), **kwargs)
        want = theirs(torch.empty(shape), generator=_gen(11), **kwargs)
        assert torch.equal(got, want)


def test_initializer_variances_match_the_formulas() -> None:
    # Independent of torch's code: the empirical variance of many draws against the closed forms.
    w = cnn.he_normal((512, 256), nonlinearity="relu", generator=_gen(0), dtype=torch.float64)
    assert w.var().item() == pytest.approx(2.0 / 256, rel=0.02)
    w = cnn.glorot_uniform((512, 256), generator=_gen(0), dtype=torch.float64)
    assert w.var().item() == pytest.approx(2.0 / (256 + 512), rel=0.02)
    assert w.abs().max().item() <= (6.0 / (256 + 512)) ** 0.5
    assert cnn.fans((64, 32, 3, 3)) == (32 * 9, 64 * 9)
    for name, param in [
        ("relu", None),
        ("tanh", None),
        ("leaky_relu", 0.3),
        ("sigmoid", None),
        ("conv2d", None),
    ]:
        assert cnn.gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: cnn.glorot_uniform((5,)), "at least 2 dimensions"),
        (lambda: cnn.he_normal((5,)), "at least 2 dimensions"),
        (lambda: cnn.he_uniform((3, 4), mode="fan_avg"), "Mode fan_avg not supported"),
        (lambda: cnn.he_normal((3, 4), nonlinearity="gelu"), "Unsupported nonlinearity gelu"),
        (lambda: cnn.glorot_normal((3, -1)), "non-negative ints"),
        (lambda: cnn.glorot_uniform((0, 0)), "fan_in \\+ fan_out > 0"),
        (lambda: cnn.gain("leaky_relu", "x"), "not a valid number"),
    ],
)
def test_initializers_reject_bad_input(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def _bn_reference(shape, momentum, seed):
    torch.manual_seed(seed)
    c = shape[1]
    layer = (torch.nn.BatchNorm1d if len(shape) <= 3 else torch.nn.BatchNorm2d)(
        c, momentum=momentum, dtype=torch.float64
    )
    with torch.no_grad():
        layer.weight.copy_(torch.randn(c, dtype=torch.float64))
        layer.bias.copy_(torch.randn(c, dtype=torch.float64))
        layer.running_mean.copy_(torch.randn(c, dtype=torch.float64))
        layer.running_var.copy_(torch.rand(c, dtype=torch.float64) + 0.5)
    x = (3 * torch.randn(shape, dtype=torch.float64) + 1).requires_grad_()
    dy = torch.randn(shape, dtype=torch.float64)
    return layer, x, dy


@pytest.mark.parametrize("shape", [(8, 5), (2, 3), (4, 3, 7), (3, 2, 4, 5)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_matches_torch_and_autograd(shape, training, momentum) -> None:
    layer, x, dy = _bn_reference(shape, momentum, seed=len(shape) + int(training))
    rm, rv = layer.running_mean.clone(), layer.running_var.clone()
    gamma, beta = layer.weight.detach().clone(), layer.bias.detach().clone()
    layer.train(training)
    y_ref = layer(x)
    y_ref.backward(dy)
    y, cache, new_rm, new_rv = cnn.batch_norm_forward(
        x.detach(), gamma, beta, rm, rv, training=training, momentum=momentum, eps=layer.eps
    )
    dx, dgamma, dbeta = cnn.batch_norm_backward(dy, cache)
    torch.testing.assert_close(y, y_ref.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(dx, x.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(dgamma, layer.weight.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(dbeta, layer.bias.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(new_rm, layer.running_mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(new_rv, layer.running_var, rtol=1e-12, atol=1e-12)
    if not training:
        assert torch.equal(new_rm, rm) and torch.equal(new_rv, rv)


def test_batch_norm_running_var_is_unbiased_closed_form() -> None:
    x = torch.tensor([[1.0], [2.0], [6.0]], dtype=torch.float64)  # mean 3, biased var 14/3, unbiased 7
    one, zero = torch.ones(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    y, _, rm, rv = cnn.batch_norm_forward(x, one, zero, zero, one, training=True, momentum=0.25, eps=0.0)
    assert rm.item() == pytest.approx(0.25 * 3.0)
    assert rv.item() == pytest.approx(0.75 * 1.0 + 0.25 * 7.0)
    assert y.mean().item() == pytest.approx(0.0, abs=1e-15) and y.var(unbiased=False).item() == pytest.approx(
        1.0
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (((5,), 5), "shape \\(B, C\\)"),
        (((1, 3), 3), "more than 1 value per channel"),
        (((4, 3), 2), "gamma must have shape \\(3,\\)"),
    ],
)
def test_batch_norm_rejects_bad_input(args, message) -> None:
    shape, c = args
    p = torch.ones(c, dtype=torch.float64)
    with pytest.raises(ValueError, match=message):
        cnn.batch_norm_forward(torch.zeros(shape, dtype=torch.float64), p, p, p, p, training=True)
    with pytest.raises(ValueError, match="momentum"):
        q = torch.ones(3, dtype=torch.float64)
        cnn.batch_norm_forward(torch.zeros(4, 3, dtype=torch.float64), q, q, q, q, training=True, momentum=2)
    y, cache, *_ = cnn.batch_norm_forward(
        torch.randn(4, 3, dtype=torch.float64), *(torch.ones(3, dtype=torch.float64),) * 4, training=True
    )
    with pytest.raises(ValueError, match="dy must have the shape"):
        cnn.batch_norm_backward(torch.zeros(3, 4, dtype=torch.float64), cache)


@pytest.mark.parametrize(
    "shape, normalized", [((6, 10), (10,)), ((2, 5, 8), (8,)), ((3, 4, 5), (4, 5)), ((7,), 7)]
)
def test_layer_norm_matches_torch_and_autograd(shape, normalized) -> None:
    torch.manual_seed(5)
    layer = torch.nn.LayerNorm(normalized, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.randn_like(layer.weight))
        layer.bias.copy_(torch.randn_like(layer.bias))
    x = (2 * torch.randn(shape, dtype=torch.float64) - 1).requires_grad_()
    dy = torch.randn(shape, dtype=torch.float64)
    y_ref = layer(x)
    y_ref.backward(dy)
    y, cache = cnn.layer_norm_forward(
        x.detach(), normalized, layer.weight.detach(), layer.bias.detach(), eps=layer.eps
    )
    dx, dgamma, dbeta = cnn.layer_norm_backward(dy, cache)
    torch.testing.assert_close(y, y_ref.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(dx, x.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(dgamma, layer.weight.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(dbeta, layer.bias.grad, rtol=1e-10, atol=1e-10)


def test_layer_norm_does_not_depend_on_the_batch() -> None:
    x = torch.randn(8, 6, dtype=torch.float64)
    g, b = torch.ones(6, dtype=torch.float64), torch.zeros(6, dtype=torch.float64)
    full, _ = cnn.layer_norm_forward(x, 6, g, b)
    first, _ = cnn.layer_norm_forward(x[:1], 6, g, b)
    torch.testing.assert_close(full[:1], first, rtol=0, atol=0)


def test_layer_norm_rejects_bad_input() -> None:
    x = torch.zeros(3, 4, dtype=torch.float64)
    p = torch.ones(4, dtype=torch.float64)
    with pytest.raises(ValueError, match="trailing dimensions"):
        cnn.layer_norm_forward(x, (3,), torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match="gamma must have shape"):
        cnn.layer_norm_forward(x, 4, torch.ones(3, dtype=torch.float64), p)
    with pytest.raises(ValueError, match="eps"):
        cnn.layer_norm_forward(x, 4, p, p, eps=-1.0)


def test_batch_norm_running_statistics_over_many_steps_then_eval() -> None:
    torch.manual_seed(7)
    layer = torch.nn.BatchNorm1d(3, momentum=0.3, dtype=torch.float64)
    gamma, beta = torch.randn(3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
    rm, rv = layer.running_mean.clone(), layer.running_var.clone()
    for step in range(6):
        x = 2 * torch.randn(5 + step, 3, dtype=torch.float64) + step
        layer.train()
        layer(x)
        _, _, rm, rv = cnn.batch_norm_forward(x, gamma, beta, rm, rv, training=True, momentum=0.3)
    torch.testing.assert_close(rm, layer.running_mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(rv, layer.running_var, rtol=1e-12, atol=1e-12)
    x = torch.randn(4, 3, dtype=torch.float64)
    layer.eval()
    y, *_ = cnn.batch_norm_forward(x, gamma, beta, rm, rv, training=False)
    torch.testing.assert_close(y, layer(x).detach(), rtol=1e-12, atol=1e-12)
    # eval mode is a fixed affine map: the output of one example does not depend on the rest of the batch
    y1, *_ = cnn.batch_norm_forward(x[:1], gamma, beta, rm, rv, training=False)
    torch.testing.assert_close(y1, y[:1], rtol=0, atol=0)
