"""course_pkg.learning.losses: gradients against torch.autograd, NLLs against torch.distributions, MLE minimizers
against closed forms, calibration against numerical minimization, the linear classifier against scikit-learn."""

import numpy as np
import pytest
import torch
from scipy.optimize import minimize, minimize_scalar

from course_pkg.data import make_blobs_2d
from course_pkg.learning import losses

TORCH_MARGIN = {
    "zero_one": lambda z: (z <= 0).to(z.dtype),
    "hinge": lambda z: torch.clamp(1 - z, min=0),
    "squared_hinge": lambda z: torch.clamp(1 - z, min=0) ** 2,
    "logistic": lambda z: torch.nn.functional.softplus(-z),
    "exponential": lambda z: torch.exp(-z),
}


@pytest.fixture
def margins():
    z = np.random.default_rng(0).uniform(-4, 4, 500)
    # stay away from the kinks (z = 0 for 0-1, z = 1 for the hinge), where torch and we may pick other subgradients
    return z[(np.abs(z) > 1e-6) & (np.abs(z - 1) > 1e-6)]


@pytest.mark.parametrize("name", sorted(losses.MARGIN_LOSSES))
def test_margin_losses_and_gradients_match_torch_autograd(name, margins):
    loss = losses.MARGIN_LOSSES[name]
    zt = torch.tensor(margins, dtype=torch.float64, requires_grad=True)
    value = TORCH_MARGIN[name](zt)
    if value.requires_grad:
        value.sum().backward()
        ref_grad = zt.grad.numpy()
    else:  # the 0-1 loss is piecewise constant: autograd sees no dependence at all
        ref_grad = np.zeros_like(margins)
    np.testing.assert_allclose(loss(margins), value.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(loss.grad(margins), ref_grad, rtol=1e-12, atol=1e-14)


def test_logistic_is_stable_for_large_margins():
    z = np.array([-800.0, 800.0])
    np.testing.assert_allclose(losses.logistic(z), [800.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(losses.logistic_grad(z), [-1.0, 0.0])


def test_convex_surrogates_upper_bound_the_zero_one_loss(margins):
    z = margins
    zo = losses.zero_one(z)
    for name in ("hinge", "squared_hinge", "exponential"):
        assert np.all(losses.MARGIN_LOSSES[name](z) >= zo)
    assert np.all(losses.logistic(z) / np.log(2) >= zo)
    assert not np.all(losses.logistic(z) >= zo)  # the natural-log version does not bound it near z = 0


@pytest.mark.parametrize("name", ["logistic", "exponential", "squared_hinge", "hinge"])
@pytest.mark.parametrize("q", [0.1, 0.3, 0.45, 0.6, 0.9])
def test_bayes_margin_minimizes_conditional_risk_and_is_calibrated(name, q):
    res = minimize_scalar(
        lambda s: float(losses.conditional_risk(name, s, q)),
        bounds=(-5, 5),
        method="bounded",
        options={"xatol": 1e-10},
    )
    z_star = float(losses.bayes_margin(name, q))
    assert float(losses.conditional_risk(name, z_star, q)) <= res.fun + 1e-9
    if (
        name != "hinge"
    ):  # the hinge's conditional risk is flat on [-1, 1] at q = 0.5 only; elsewhere unique too
        assert z_star == pytest.approx(res.x, abs=1e-6)
    assert np.sign(z_star) == np.sign(2 * q - 1)


@pytest.mark.parametrize(
    "pred_name, torch_fn",
    [("squared", lambda p, t: (p - t) ** 2), ("absolute", lambda p, t: torch.abs(p - t))],
)
def test_regression_losses_and_gradients_match_torch(pred_name, torch_fn):
    rng = np.random.default_rng(1)
    p, t = rng.normal(size=100), rng.normal(size=100)
    value = getattr(losses, f"{pred_name}_loss")
    grad = getattr(losses, f"{pred_name}_loss_grad")
    pt = torch.tensor(p, requires_grad=True)
    out = torch_fn(pt, torch.tensor(t))
    out.sum().backward()
    np.testing.assert_allclose(value(p, t), out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(grad(p, t), pt.grad.numpy(), rtol=1e-12)


def test_nlls_match_torch_distributions():
    rng = np.random.default_rng(2)
    y, mu, s = rng.normal(size=50), rng.normal(size=50), rng.uniform(0.2, 3, 50)
    T = torch.tensor
    np.testing.assert_allclose(
        losses.gaussian_nll(y, mu, s),
        -torch.distributions.Normal(T(mu), T(s)).log_prob(T(y)).numpy(),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        losses.laplace_nll(y, mu, s),
        -torch.distributions.Laplace(T(mu), T(s)).log_prob(T(y)).numpy(),
        rtol=1e-12,
    )
    y01 = (rng.random(50) < 0.5).astype(float)
    logits = 4 * rng.normal(size=50)
    ref = -torch.distributions.Bernoulli(logits=T(logits)).log_prob(T(y01)).numpy()
    # torch uses max(s, 0) - y s + log1p(exp(-|s|)), another rounding path: agree to ~1e-12 relative
    np.testing.assert_allclose(losses.bernoulli_nll(y01, logits), ref, rtol=1e-10)
    # Bernoulli NLL with labels in {0,1} = logistic loss of the margin with labels in {-1,+1}
    np.testing.assert_allclose(
        losses.bernoulli_nll(y01, logits), losses.logistic((2 * y01 - 1) * logits), rtol=1e-12
    )
    with pytest.raises(ValueError, match="std"):
        losses.gaussian_nll(y, mu, 0.0)
    with pytest.raises(ValueError, match="0 and 1"):
        losses.bernoulli_nll(np.array([2.0]), np.array([0.0]))


def test_gaussian_mle_is_least_squares_and_laplace_mle_is_the_median():
    rng = np.random.default_rng(3)
    X = np.c_[np.ones(41), rng.normal(size=(41, 2))]
    y = X @ np.array([1.0, 2.0, -1.0]) + rng.standard_t(3, size=41)
    # Gaussian NLL with a linear mean, fixed sigma: minimizer = least squares (numpy lstsq)
    nll = lambda th: losses.gaussian_nll(y, X @ th, 1.7).sum()  # noqa: E731
    th = minimize(nll, np.zeros(3), method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(th, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-6)
    # ... and the MLE of sigma is the root mean squared residual
    resid = y - X @ th
    s = minimize_scalar(
        lambda s: losses.gaussian_nll(resid, 0.0, s).sum(),
        bounds=(0.01, 10),
        method="bounded",
        options={"xatol": 1e-10},
    ).x
    assert s == pytest.approx(np.sqrt(np.mean(resid**2)), rel=1e-6)
    # Laplace NLL of a constant location: minimizer = the median (odd n: unique)
    loc = minimize_scalar(
        lambda m: losses.laplace_nll(y, m, 0.5).sum(),
        bounds=(-10, 10),
        method="bounded",
        options={"xatol": 1e-12},
    ).x
    assert loc == pytest.approx(np.median(y), abs=1e-8)
    # ... and its scale MLE the mean absolute deviation from it
    b = minimize_scalar(
        lambda b: losses.laplace_nll(y, np.median(y), b).sum(),
        bounds=(0.01, 10),
        method="bounded",
        options={"xatol": 1e-10},
    ).x
    assert b == pytest.approx(np.mean(np.abs(y - np.median(y))), rel=1e-6)


def test_error_rate():
    assert losses.error_rate(np.array([1.0, -2.0, 0.0, 3.0]), np.array([1.0, 1.0, 1.0, -1.0])) == 0.75
    with pytest.raises(ValueError, match="equal length"):
        losses.error_rate(np.zeros(3), np.zeros(2))


def test_regularized_objective_gradient_matches_torch():
    X, y = make_blobs_2d(40, seed=0)
    theta = np.array([0.3, -0.2, 0.1])
    for name in ("hinge", "squared_hinge", "logistic", "exponential"):
        th = torch.tensor(theta, requires_grad=True)
        z = torch.tensor(y) * (torch.tensor(X) @ th[:2] + th[2])
        J = TORCH_MARGIN[name](z).mean() + 0.5 * 0.1 * (th[:2] ** 2).sum()
        J.backward()
        val, grad = losses.regularized_objective(theta, X, y, name, 0.1)
        assert val == pytest.approx(J.item(), rel=1e-12)
        np.testing.assert_allclose(grad, th.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_linear_classifier_matches_sklearn_logistic_regression_and_svc():
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    X, y = make_blobs_2d(200, separation=1.5, seed=0)
    lam = 1e-2
    C = 1 / (len(y) * lam)  # sklearn: 1/2 ||w||^2 + C sum(loss) = (n/lam) * ours
    th = losses.fit_linear_classifier(X, y, "logistic", lam)
    lr = LogisticRegression(C=C, tol=1e-12, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(th, np.r_[lr.coef_[0], lr.intercept_], rtol=1e-5, atol=1e-6)
    th_h = losses.fit_linear_classifier(X, y, "hinge", lam)
    svc = SVC(kernel="linear", C=C, tol=1e-10).fit(X, y)
    ref_val = losses.regularized_objective(np.r_[svc.coef_[0], svc.intercept_], X, y, "hinge", lam)[0]
    assert losses.regularized_objective(th_h, X, y, "hinge", lam)[0] <= ref_val + 1e-5
    np.testing.assert_allclose(th_h[:2], svc.coef_[0], atol=1e-2)


def test_linear_classifier_rejects_zero_one_and_bad_labels():
    X, y = make_blobs_2d(10, seed=0)
    with pytest.raises(ValueError, match="cannot be minimized"):
        losses.fit_linear_classifier(X, y, "zero_one")
    with pytest.raises(ValueError, match="labels in"):
        losses.fit_linear_classifier(X, (y + 1) / 2)
    with pytest.raises(ValueError, match="unknown margin loss"):
        losses.fit_linear_classifier(X, y, "huber")
    with pytest.raises(ValueError, match="shape"):
        losses.fit_linear_classifier(X, y[:5])


# ------------------------------------------------------------------------------------------------ many classes
@pytest.fixture
def logits_labels():
    rng = np.random.default_rng(7)
    f = rng.normal(scale=4.0, size=(300, 5))
    f[0] = [900.0, -900.0, 0.0, 1.0, 2.0]  # overflows a naive exp
    return f, rng.integers(0, 5, size=300)


def test_softmax_matches_torch_and_is_shift_invariant(logits_labels):
    f, _ = logits_labels
    ref = torch.softmax(torch.tensor(f), dim=1).numpy()
    np.testing.assert_allclose(losses.softmax(f), ref, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(losses.softmax(f + 123.0), ref, rtol=1e-10, atol=1e-300)


def test_softmax_cross_entropy_and_gradient_match_torch(logits_labels):
    f, y = logits_labels
    ft = torch.tensor(f, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(ft, torch.tensor(y), reduction="none")
    ref.sum().backward()
    np.testing.assert_allclose(
        losses.softmax_cross_entropy(f, y), ref.detach().numpy(), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        losses.softmax_cross_entropy_grad(f, y), ft.grad.numpy(), rtol=1e-12, atol=1e-14
    )


def test_two_class_cross_entropy_is_the_logistic_loss_of_the_logit_difference():
    rng = np.random.default_rng(1)
    f = rng.normal(scale=3.0, size=(200, 2))
    y = rng.integers(0, 2, size=200)
    margin = f[np.arange(200), y] - f[np.arange(200), 1 - y]
    np.testing.assert_allclose(losses.softmax_cross_entropy(f, y), losses.logistic(margin), rtol=1e-12)


def test_entropy_and_kl_match_torch_and_decompose_the_cross_entropy():
    rng = np.random.default_rng(2)
    q = rng.dirichlet(np.ones(4), size=50)
    q[0] = [0.5, 0.5, 0.0, 0.0]  # 0 log 0 = 0
    p = rng.dirichlet(np.ones(4), size=50)
    np.testing.assert_allclose(
        losses.entropy(q),
        torch.distributions.Categorical(probs=torch.tensor(q)).entropy().numpy(),
        rtol=1e-12,
    )
    ref_kl = torch.nn.functional.kl_div(torch.log(torch.tensor(p)), torch.tensor(q), reduction="none").sum(1)
    np.testing.assert_allclose(losses.kl_divergence(q, p), ref_kl.numpy(), rtol=1e-12, atol=1e-15)
    cross = -(q * np.log(p)).sum(1)  # H(q, p)
    np.testing.assert_allclose(losses.entropy(q) + losses.kl_divergence(q, p), cross, rtol=1e-12)
    assert np.all(losses.kl_divergence(q, p) > 0)
    np.testing.assert_allclose(losses.kl_divergence(q, q), 0.0, atol=1e-15)
    assert np.isinf(losses.kl_divergence([0.5, 0.5], [1.0, 0.0]))


def test_many_class_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="shape"):
        losses.softmax_cross_entropy(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match="class indices"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="class indices"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="sum to 1"):
        losses.kl_divergence([0.5, 0.6], [0.5, 0.5])
    with pytest.raises(ValueError, match="last axis"):
        losses.softmax(np.float64(1.0))
