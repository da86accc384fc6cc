"""Assignment a1-erm-losses-cv: empirical risk, surrogate losses, GD on the logistic loss, k-fold CV."""

from __future__ import annotations

from nbcells import chapter_url, feature_tests, locked_code, manual, md, notebook, solution, tests

NAME = "a1-erm-losses-cv"

INTRO = f"""
# Assignment 1 — Empirical risk, surrogate losses and cross-validation

You write, in numpy, the basic tools of supervised learning with a linear classifier and check them against
scikit-learn and closed forms:

1. three surrogate losses of the margin and their derivatives (hinge, logistic, squared);
2. the empirical risk and the 0–1 risk of a linear classifier;
3. gradient descent on the L2-regularised logistic risk (which is what `LogisticRegression` minimises);
4. `kfold_indices` and choosing the regularisation strength λ by k-fold cross-validation;
5. a short written answer: why the test set is used only once.

Background: the book chapters [Empirical risk minimisation]({chapter_url("learning/erm")}),
[Losses]({chapter_url("learning/losses")}) and [Cross-validation]({chapter_url("learning/cross_validation")}).

**How this notebook is graded.** Write your code only where it says `YOUR CODE HERE` (replace the
`raise NotImplementedError()`). Every cell that starts with `# Tests:` is worth the points shown in its first line
and earns them when it runs without an error; hidden checks of the same feature run when your notebook is graded.
Run the visible tests with *Run → Run All Cells* (or *Validate*). The tests run your code under
`np.errstate(over="raise", divide="raise", invalid="raise")`: an overflow, a division by zero or an invalid
operation in your code is an error. Use numpy only (no
scikit-learn in your own code: it is the reference).

**Notation** (as in the book). Data $(x_i, y_i)_{{i=1}}^n$ with $x_i \\in \\mathbb{{R}}^d$ (rows of `X`) and labels
$y_i \\in \\{{-1, +1\\}}$; a linear score $f(x) = x^\\top w + b$; the margin $z = y\\,f(x)$; a loss $\\ell(z)$; the
empirical risk $\\hat R(w, b) = \\frac1n \\sum_i \\ell(y_i f(x_i))$; the true risk $R$ is its expectation over new data.
"""

SETUP = """
%xmode Minimal
import math

import numpy as np

np.random.seed(0)


def make_data(n=200, d=3, seed=0):
    \"\"\"A standardised binary problem with labels in {-1, +1} (overlapping classes, so the risk is not 0).\"\"\"
    rng = np.random.default_rng(seed)
    w_true = rng.normal(size=d)
    X = rng.normal(size=(n, d))
    y = np.where(X @ w_true + 0.8 * rng.normal(size=n) >= 0, 1.0, -1.0)
    return X, y


def check_close(name, got, expected, rtol=1e-9, atol=1e-12):
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    assert got.shape == expected.shape, f"{name}: shape {got.shape}, expected {expected.shape}"
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        i = tuple(int(j) for j in np.unravel_index(np.argmax(np.abs(got - expected)), got.shape))
        raise AssertionError(f"{name}: at index {i} got {got[i]!r}, expected {expected[i]!r} "
                             f"(max |Δ| = {np.max(np.abs(got - expected)):.3e})")
"""

LOSS_SPEC = r"""
## 1. Surrogate losses (4 points)

The 0–1 loss $\mathbb 1[z \le 0]$ is not differentiable; training minimises a convex *surrogate* of the margin
$z = y f(x)$ instead:

| loss | $\ell(z)$ | $\ell'(z)$ |
| --- | --- | --- |
| hinge | $\max(0, 1 - z)$ | $-1$ if $z < 1$, else $0$ (at $z = 1$ take $0$) |
| logistic | $\log(1 + e^{-z})$ | $-1 / (1 + e^{z})$ |
| squared | $(1 - z)^2$ | $-2(1 - z)$ |

Write the six element-wise functions below; each takes a numpy array `z` (any shape) and returns an array of the
same shape. The logistic ones must be **numerically stable**: finite, without overflow warnings, for
$|z|$ up to $10^4$ (hint: `np.logaddexp`, and $1/(1+e^{z}) = e^{-z}/(1+e^{-z})$ for $z>0$).
Tests: the mean losses against `sklearn.metrics` (`hinge_loss`, `log_loss`, `mean_squared_error`), the
derivatives against the closed forms and central finite differences.
"""

LOSS_SOLUTION = """
def hinge_loss(z):
    ### BEGIN SOLUTION
    return np.maximum(0.0, 1.0 - np.asarray(z, dtype=float))
    ### END SOLUTION


def hinge_grad(z):
    ### BEGIN SOLUTION
    return np.where(np.asarray(z, dtype=float) < 1.0, -1.0, 0.0)
    ### END SOLUTION


def logistic_loss(z):
    ### BEGIN SOLUTION
    return np.logaddexp(0.0, -np.asarray(z, dtype=float))
    ### END SOLUTION


def logistic_grad(z):
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, -e / (1.0 + e), -1.0 / (1.0 + e))
    ### END SOLUTION


def squared_loss(z):
    ### BEGIN SOLUTION
    return (1.0 - np.asarray(z, dtype=float)) ** 2
    ### END SOLUTION


def squared_grad(z):
    ### BEGIN SOLUTION
    return -2.0 * (1.0 - np.asarray(z, dtype=float))
    ### END SOLUTION
"""

REFERENCES = """
# References used by the tests (scikit-learn and closed forms), and the strict floating-point mode of the tests.
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error
from sklearn.metrics import hinge_loss as sk_hinge_loss
from sklearn.model_selection import KFold, cross_val_score
from threadpoolctl import threadpool_limits

threadpool_limits(1)  # tiny problems: one BLAS thread is fastest (and fair on a shared grading machine)

STRICT = dict(over="raise", divide="raise", invalid="raise")  # np.errstate(**STRICT): overflow is an error


def finite_difference(fn, z, h=1e-6):
    return (fn(z + h) - fn(z - h)) / (2 * h)


def margins(seed, n=50):
    X, y = make_data(n=n, seed=seed)
    f = X @ np.array([1.0, -2.0, 0.5]) + 0.1
    return y, f


def sklearn_logistic(X, y, lam, tol=1e-12):
    \"\"\"argmin of the mean logistic risk + λ/2 ||w||² (intercept not penalised), by scikit-learn.\"\"\"
    model = LogisticRegression(C=1.0 / (len(X) * lam), tol=tol, max_iter=10_000).fit(X, y)
    return model.coef_.ravel(), float(model.intercept_[0])


def reference_cv(X, y, lambdas, k):
    \"\"\"Cross-validated logistic risk per λ by scikit-learn (n divisible by k: equal training-set sizes).\"\"\"
    n_train = len(y) * (k - 1) // k
    return np.array([
        -cross_val_score(LogisticRegression(C=1.0 / (n_train * lam), tol=1e-6, max_iter=10_000), X, y,
                         cv=KFold(k), scoring="neg_log_loss").mean()
        for lam in lambdas
    ])


def sklearn_fit(X, y, lam):
    \"\"\"The fitter the cross-validation tests pass to your code (same solver settings as reference_cv).\"\"\"
    return sklearn_logistic(X, y, lam, tol=1e-6)
"""

LOSS_TESTS = [
    feature_tests(
        "test_hinge",
        1,
        "hinge loss and its derivative",
        """
        y, f = margins(seed=1)
        with np.errstate(**STRICT):
            check_close("mean hinge_loss(y f) vs sklearn.metrics.hinge_loss", hinge_loss(y * f).mean(), sk_hinge_loss(y, f))
            z = np.array([-2.0, 0.0, 0.5, 1.0, 3.0])
            check_close("hinge_grad", hinge_grad(z), [-1.0, -1.0, -1.0, 0.0, 0.0])
        """,
        """
        for seed in (2, 3):
            y, f = margins(seed=seed, n=80)
            with np.errstate(**STRICT):
                check_close("mean hinge_loss(y f)", hinge_loss(y * f).mean(), sk_hinge_loss(y, f))
        z = np.linspace(-3, 3, 13).reshape(13, 1) + 0.05  # away from the kink at 1
        with np.errstate(**STRICT):
            check_close("hinge_grad vs finite differences", hinge_grad(z), finite_difference(hinge_loss, z), atol=1e-6)
            assert hinge_loss(z).shape == z.shape, "hinge_loss must keep the shape of z"
        """,
        "hinge loss OK",
    ),
    feature_tests(
        "test_logistic",
        2,
        "logistic loss and its derivative, numerically stable",
        """
        y, f = margins(seed=1)
        reference = log_loss(y, expit(f))
        with np.errstate(**STRICT):
            check_close("mean logistic_loss(y f) vs sklearn.metrics.log_loss", logistic_loss(y * f).mean(), reference, rtol=1e-7)
            z = np.array([-3.0, 0.0, 2.0])
            check_close("logistic_grad", logistic_grad(z), -1.0 / (1.0 + np.exp(z)))
            check_close("logistic_loss at z = ±1e4", logistic_loss(np.array([-1e4, 1e4])), [1e4, 0.0])
        """,
        """
        y, f = margins(seed=4, n=80)
        reference = log_loss(y, expit(f))
        with np.errstate(**STRICT):
            check_close("mean logistic_loss(y f)", logistic_loss(y * f).mean(), reference, rtol=1e-7)
            z = np.linspace(-5, 5, 21).reshape(3, 7)
            check_close("logistic_grad vs finite differences", logistic_grad(z), finite_difference(logistic_loss, z), atol=1e-7)
            check_close("logistic_grad at z = ±1e4", logistic_grad(np.array([-1e4, 1e4])), [-1.0, 0.0])
            check_close("logistic_loss(40)", logistic_loss(np.array(40.0)), math.log1p(math.exp(-40.0)), rtol=1e-9, atol=0)
        """,
        "logistic loss OK",
    ),
    feature_tests(
        "test_squared",
        1,
        "squared loss and its derivative",
        """
        y, f = margins(seed=1)  # (1 - y f)^2 = (y - f)^2 because y^2 = 1
        with np.errstate(**STRICT):
            check_close("mean squared_loss(y f) vs mean_squared_error(y, f)", squared_loss(y * f).mean(), mean_squared_error(y, f))
            check_close("squared_grad", squared_grad(np.array([-1.0, 1.0, 2.0])), [-4.0, 0.0, 2.0])
        """,
        """
        z = np.linspace(-3, 3, 12).reshape(2, 6)
        y, f = margins(seed=5, n=70)
        with np.errstate(**STRICT):
            check_close("squared_grad vs finite differences", squared_grad(z), finite_difference(squared_loss, z), atol=1e-6)
            check_close("mean squared_loss(y f)", squared_loss(y * f).mean(), mean_squared_error(y, f))
        """,
        "squared loss OK",
    ),
]

RISK_SPEC = r"""
## 2. Empirical risk (1 point)

`empirical_risk(loss, w, b, X, y)` returns $\hat R(w, b) = \frac1n\sum_i \ell(y_i(x_i^\top w + b))$ for a loss
function `loss` (one of the above); `zero_one_risk(w, b, X, y)` returns the fraction of misclassified points,
predicting $+1$ when $f(x) \ge 0$ and $-1$ otherwise. Both return Python floats.
"""

RISK_SOLUTION = """
def empirical_risk(loss, w, b, X, y):
    ### BEGIN SOLUTION
    return float(np.mean(loss(y * (X @ w + b))))
    ### END SOLUTION


def zero_one_risk(w, b, X, y):
    ### BEGIN SOLUTION
    pred = np.where(X @ w + b >= 0, 1.0, -1.0)
    return float(np.mean(pred != y))
    ### END SOLUTION
"""

RISK_TESTS = [
    feature_tests(
        "test_empirical_risk",
        1,
        "empirical risk and 0-1 risk",
        """
        X, y = make_data(n=60, seed=6)
        w, b = np.array([0.5, -1.0, 2.0]), -0.2
        with np.errstate(**STRICT):
            risk = empirical_risk(hinge_loss, w, b, X, y)
            assert isinstance(risk, float), f"empirical_risk must return a float, got {type(risk).__name__}"
            check_close("empirical_risk(hinge_loss, ...)", risk, sk_hinge_loss(y, X @ w + b))
            check_close("zero_one_risk", zero_one_risk(w, b, X, y), 1 - accuracy_score(y, np.where(X @ w + b >= 0, 1, -1)))
        """,
        """
        X, y = make_data(n=90, seed=7)
        w, b = np.array([-0.3, 0.2, 1.0]), 0.4
        reference = log_loss(y, expit(X @ w + b))
        with np.errstate(**STRICT):
            check_close("empirical_risk(logistic_loss, ...)", empirical_risk(logistic_loss, w, b, X, y), reference, rtol=1e-7)
            check_close("empirical_risk(squared_loss, ...)", empirical_risk(squared_loss, w, b, X, y), mean_squared_error(y, X @ w + b))
            X0 = np.zeros((4, 3))
            check_close("zero_one_risk with f = 0 (predict +1)", zero_one_risk(w, 0.0, X0, np.array([1.0, 1.0, -1.0, -1.0])), 0.5)
        """,
        "empirical risks OK",
    ),
]
GD_SPEC = r"""
## 3. Gradient descent on the regularised logistic risk (2 points)

Minimise $J(w, b) = \hat R_{\text{logistic}}(w, b) + \frac{\lambda}{2}\|w\|^2$ (the intercept $b$ is not
penalised) by gradient descent from $w_0 = 0$, $b_0 = 0$ with a constant step $\eta$:

$$
\nabla_w J = \frac1n \sum_i \ell'(z_i)\, y_i\, x_i + \lambda w,\qquad
\nabla_b J = \frac1n \sum_i \ell'(z_i)\, y_i,\qquad z_i = y_i(x_i^\top w + b),
$$

$$w_t = w_{t-1} - \eta \nabla_w J(w_{t-1}, b_{t-1}),\qquad b_t = b_{t-1} - \eta\nabla_b J(w_{t-1}, b_{t-1}),
\qquad t = 1, \dots, \texttt{steps}.$$

`fit_logistic(X, y, lam, eta=1.0, steps=500)` returns `(w, b)` (an array and a float) after `steps` steps. This
is the problem scikit-learn's `LogisticRegression(C=1/(n λ))` solves, so with enough steps both agree; the tests
check that, and the first step against its closed form.
"""

GD_SOLUTION = """
def fit_logistic(X, y, lam, eta=1.0, steps=500):
    ### BEGIN SOLUTION
    n, d = X.shape
    w, b = np.zeros(d), 0.0
    for _ in range(steps):
        z = y * (X @ w + b)
        coef = logistic_grad(z) * y / n
        grad_w = X.T @ coef + lam * w
        grad_b = coef.sum()
        w, b = w - eta * grad_w, b - eta * grad_b
    return w, float(b)
    ### END SOLUTION
"""

GD_TESTS = [
    feature_tests(
        "test_fit_logistic",
        2,
        "gradient descent on the regularised logistic risk",
        """
        X, y = make_data(n=200, seed=8)
        w_ref, b_ref = sklearn_logistic(X, y, 0.1)
        with np.errstate(**STRICT):
            w1, b1 = fit_logistic(X, y, lam=0.1, eta=0.5, steps=1)  # first step from 0, where ℓ'(0) = -1/2
            check_close("w after one step", w1, 0.5 * (X.T @ y) / (2 * len(y)))
            check_close("b after one step", b1, 0.5 * y.mean() / 2)
            w, b = fit_logistic(X, y, lam=0.1)
        check_close("w vs LogisticRegression(C=1/(n λ)).coef_", w, w_ref, rtol=1e-5, atol=1e-6)
        check_close("b vs LogisticRegression(C=1/(n λ)).intercept_", b, b_ref, rtol=1e-5, atol=1e-6)
        """,
        """
        X, y = make_data(n=150, d=3, seed=9)
        w_ref, b_ref = sklearn_logistic(X, y, 0.5)
        with np.errstate(**STRICT):
            w, b = fit_logistic(X, y, lam=0.5, eta=1.0, steps=400)
            w0, b0 = fit_logistic(X, y, lam=0.5, steps=0)
        check_close("w (λ = 0.5)", w, w_ref, rtol=1e-5, atol=1e-6)
        check_close("b (λ = 0.5)", b, b_ref, rtol=1e-5, atol=1e-6)
        check_close("zero steps", np.append(w0, b0), np.zeros(4))
        """,
        "fit_logistic matches LogisticRegression",
    ),
]
CV_SPEC = r"""
## 4. k-fold cross-validation (4 points)

`kfold_indices(n, k)` splits the indices $0, \dots, n-1$ **in order** (no shuffling) into $k$ consecutive folds;
the first $n \bmod k$ folds have $\lfloor n/k \rfloor + 1$ elements, the others $\lfloor n/k \rfloor$ (as
`sklearn.model_selection.KFold(n_splits=k)` does). It returns a list of $k$ pairs `(train_idx, val_idx)` of
integer arrays, fold $j$ being the validation set of pair $j$ and the rest (in increasing order) its training set.
Raise `ValueError` naming the problem when $k < 2$ or $k > n$.

`cross_validate(X, y, lambdas, k, fit=fit_logistic)` returns a numpy array with, for each λ in `lambdas`, the
validation logistic risk $\hat R_{\text{logistic}}$ averaged over the $k$ folds, where each fold's model is
`w, b = fit(X[train], y[train], lam)`. `choose_lambda(X, y, lambdas, k, fit=fit_logistic)` returns the λ with the
smallest cross-validated risk (the first one in case of ties).
"""

CV_SOLUTION = """
def kfold_indices(n, k):
    ### BEGIN SOLUTION
    if k < 2:
        raise ValueError(f"k-fold cross-validation needs k >= 2 folds, got k={k}")
    if k > n:
        raise ValueError(f"cannot split n={n} samples into k={k} folds (k > n)")
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    folds, start, idx = [], 0, np.arange(n)
    for size in sizes:
        val = idx[start : start + size]
        train = np.concatenate([idx[:start], idx[start + size :]])
        folds.append((train, val))
        start += size
    return folds
    ### END SOLUTION


def cross_validate(X, y, lambdas, k, fit=fit_logistic):
    ### BEGIN SOLUTION
    scores = []
    for lam in lambdas:
        risks = []
        for train, val in kfold_indices(len(y), k):
            w, b = fit(X[train], y[train], lam)
            risks.append(empirical_risk(logistic_loss, w, b, X[val], y[val]))
        scores.append(np.mean(risks))
    return np.array(scores)
    ### END SOLUTION


def choose_lambda(X, y, lambdas, k, fit=fit_logistic):
    ### BEGIN SOLUTION
    return lambdas[int(np.argmin(cross_validate(X, y, lambdas, k, fit)))]
    ### END SOLUTION
"""

CV_TESTS = [
    feature_tests(
        "test_kfold",
        2,
        "kfold_indices vs sklearn.model_selection.KFold",
        """
        def check_kfold(n, k):
            got = kfold_indices(n, k)
            ref = list(KFold(n_splits=k).split(np.zeros(n)))
            assert len(got) == k, f"kfold_indices({n}, {k}) returned {len(got)} folds"
            for j, ((train, val), (train_ref, val_ref)) in enumerate(zip(got, ref)):
                assert np.array_equal(val, val_ref), f"kfold_indices({n}, {k}): fold {j} validates on {list(val)}, KFold on {list(val_ref)}"
                assert np.array_equal(train, train_ref), f"kfold_indices({n}, {k}): fold {j} trains on {list(train)}, KFold on {list(train_ref)}"


        check_kfold(10, 3)
        check_kfold(12, 4)
        """,
        """
        check_kfold(7, 7)  # leave-one-out
        check_kfold(101, 5)
        check_kfold(5, 2)
        for n, k in [(10, 1), (3, 4)]:
            try:
                kfold_indices(n, k)
            except ValueError:
                pass
            else:
                raise AssertionError(f"kfold_indices({n}, {k}) should raise ValueError")
        """,
        "kfold_indices matches KFold",
    ),
    feature_tests(
        "test_cross_validation",
        2,
        "cross-validated risk and the choice of λ",
        """
        # The folds are fitted by scikit-learn here, so that this cell tests your CV logic on its own.
        X, y = make_data(n=100, seed=10)
        lambdas = [0.001, 0.1, 3.0]
        cv = cross_validate(X, y, lambdas, 5, fit=sklearn_fit)
        check_close("cross_validate", cv, reference_cv(X, y, lambdas, 5), rtol=1e-6)
        """,
        """
        X, y = make_data(n=120, d=3, seed=11)
        lambdas = [0.003, 0.03, 0.3, 3.0]
        cv = reference_cv(X, y, lambdas, 4)
        check_close("cross_validate (k = 4)", cross_validate(X, y, lambdas, 4, fit=sklearn_fit), cv, rtol=1e-6)
        best = choose_lambda(X, y, lambdas, 4, fit=sklearn_fit)
        assert best == lambdas[int(np.argmin(cv))], f"choose_lambda returned {best}, the CV risks {cv} favour {lambdas[int(np.argmin(cv))]}"
        """,
        "cross-validation matches scikit-learn",
    ),
]

DEMO = """
# Model selection, then ONE look at the test set (not graded; runs your code).
X, y = make_data(n=300, seed=12)
X_dev, y_dev, X_test, y_test = X[:200], y[:200], X[200:], y[200:]
lambdas = [1e-3, 1e-2, 1e-1, 1.0]
cv_risk = cross_validate(X_dev, y_dev, lambdas, 5)
lam = lambdas[int(np.argmin(cv_risk))]
w, b = fit_logistic(X_dev, y_dev, lam)
print("CV logistic risk per λ:", {lam: round(float(r), 4) for lam, r in zip(lambdas, cv_risk)})
print(f"chosen λ = {lam}; test logistic risk {empirical_risk(logistic_loss, w, b, X_test, y_test):.4f}, "
      f"test 0-1 risk {zero_one_risk(w, b, X_test, y_test):.3f}")
"""

QUESTION = """
## 5. Written answer (2 points, graded by hand)

The cell above chose λ by cross-validation on the development set and evaluated the final model on the test set
**once**. In a few sentences: why must the test set be used only once, at the very end? What goes wrong if you
also use the test risk to pick λ (or to decide when to stop tuning), and what would you report instead?
"""

ANSWER = """
The test risk is meant to be an unbiased estimate of the true risk R of the *final* model: that holds only if
the test data played no part in building it. Every decision taken by looking at the test set (choosing λ,
features, architecture, when to stop) selects the model that happens to do well on those particular n_test
points, so the reported test risk becomes optimistically biased — the minimum of several noisy estimates is
smaller than the risk it estimates — and the test set turns into a second validation set. Model selection must
therefore use only training data (here k-fold cross-validation on the development set), and the test set is
evaluated once, at the end, for the chosen model. If the test set has already been used for tuning, report the
cross-validated estimate or collect a fresh test set (or use nested cross-validation).
"""


def cells() -> list:
    """All cells of the a1 notebook, in order."""
    out = [md(INTRO), locked_code("setup", SETUP), locked_code("references", REFERENCES)]
    out += [md(LOSS_SPEC), solution("losses", LOSS_SOLUTION)]
    out += [tests(gid, pts, code) for gid, pts, code in LOSS_TESTS]
    out += [md(RISK_SPEC), solution("risk", RISK_SOLUTION)]
    out += [tests(gid, pts, code) for gid, pts, code in RISK_TESTS]
    out += [md(GD_SPEC), solution("fit_logistic", GD_SOLUTION)]
    out += [tests(gid, pts, code) for gid, pts, code in GD_TESTS]
    out += [md(CV_SPEC), solution("cross_validation", CV_SOLUTION)]
    out += [tests(gid, pts, code) for gid, pts, code in CV_TESTS]
    out += [locked_code("model_selection_demo", DEMO), md(QUESTION), manual("test_set_once", 2, ANSWER)]
    return out


def build():
    """The a1 notebook."""
    return notebook(cells())
