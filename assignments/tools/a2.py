"""Assignment a2-bias-variance-ensembles: Monte-Carlo bias-variance, bootstrap, Bagging, AdaBoost."""

from __future__ import annotations

from nbcells import chapter_url, feature_tests, locked_code, md, notebook, solution, tests

NAME = "a2-bias-variance-ensembles"

INTRO = f"""
# Assignment 2 — Bias, variance and ensembles

You write, in numpy (with scikit-learn decision trees as the base learners), the tools that explain and exploit
the variance of a learning algorithm, and check them against closed forms and scikit-learn:

1. a Monte-Carlo estimate of the bias–variance decomposition of the expected squared error;
2. the bootstrap: resampling indices and the bootstrap standard error of a statistic;
3. `Bagging`: bootstrap aggregation of classifiers (compared with `sklearn.ensemble.BaggingClassifier`);
4. `AdaBoost` with decision stumps (compared with `sklearn.ensemble.AdaBoostClassifier`, SAMME).

Background: the book chapters [Bias and variance]({chapter_url("learning/bias_variance")}) and
[Ensembles]({chapter_url("learning/ensembles")}).

**How this notebook is graded.** Write your code only where it says `YOUR CODE HERE` (replace the
`raise NotImplementedError()`). Every cell that starts with `# Tests:` is worth the points shown in its first line
and earns them when it runs without an error; hidden checks of the same feature run when your notebook is graded.
Run the visible tests with *Run → Run All Cells* (or *Validate*). Do not use `BaggingClassifier`,
`AdaBoostClassifier` or `scipy.stats.bootstrap` in your code: they are the references.

**Notation** (as in the book). A training set $D = (x_i, y_i)_{{i=1}}^n$ drawn at random; the learned predictor
$\\hat f_D$; the true regression function $f$; noise variance $\\sigma^2$; $\\mathbb E_D$ is the expectation over
training sets.
"""

SETUP = """
%xmode Minimal
import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import AdaBoostClassifier, BaggingClassifier
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

threadpool_limits(1)  # tiny problems: one BLAS thread is fastest (and fair on a shared grading machine)
np.random.seed(0)


def classification_data(n=200, seed=0):
    \"\"\"A noisy binary problem with continuous features and labels in {-1, +1}.\"\"\"
    X, y = make_classification(n_samples=n, n_features=4, n_informative=3, n_redundant=0, flip_y=0.1,
                               random_state=seed)
    return X, np.where(y == 1, 1, -1)


def check_close(name, got, expected, rtol=1e-9, atol=1e-12):
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    assert got.shape == expected.shape, f"{name}: shape {got.shape}, expected {expected.shape}"
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        i = tuple(int(j) for j in np.unravel_index(np.argmax(np.abs(got - expected)), got.shape))
        raise AssertionError(f"{name}: at index {i} got {got[i]!r}, expected {expected[i]!r} "
                             f"(max |Δ| = {np.max(np.abs(got - expected)):.3e})")
"""

BV_SPEC = r"""
## 1. Monte-Carlo bias–variance decomposition (3 points)

For squared error, at a test input $x$, the expected error of the learned predictor over training sets splits
into

$$
\mathbb E_D\big[(\hat f_D(x) - f(x))^2\big] = \underbrace{\big(\bar f(x) - f(x)\big)^2}_{\text{bias}^2}
+ \underbrace{\mathbb E_D\big[(\hat f_D(x) - \bar f(x))^2\big]}_{\text{variance}},
\qquad \bar f(x) = \mathbb E_D[\hat f_D(x)]
$$

(the noise $\sigma^2$ adds to both sides when the error is measured against noisy labels). Estimate it by Monte
Carlo: `bias_variance(fit_predict, sample_train, f, x_test, n_datasets, seed)`

* creates `rng = np.random.default_rng(seed)` and, `n_datasets` times, draws a training set
  `X, y = sample_train(rng)` and computes the predictions `fit_predict(X, y, x_test)` (an array, one value per test
  input);
* replaces $\mathbb E_D$ by the average over the `n_datasets` prediction vectors (the variance with divisor
  `n_datasets`, i.e. `ddof=0`) and averages bias², variance and the error over the test inputs;
* returns a dict with float entries `"bias2"`, `"variance"` and `"mse"` $=\frac1m\sum_j \overline{(\hat f_D(x_j) - f(x_j))^2}$,
  so that `mse == bias2 + variance` up to rounding.
"""

BV_SOLUTION = """
def bias_variance(fit_predict, sample_train, f, x_test, n_datasets, seed=0):
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    preds = np.stack([fit_predict(*sample_train(rng), x_test) for _ in range(n_datasets)])
    truth = f(x_test)
    mean_pred = preds.mean(axis=0)
    return {
        "bias2": float(np.mean((mean_pred - truth) ** 2)),
        "variance": float(np.mean(preds.var(axis=0))),
        "mse": float(np.mean((preds - truth) ** 2)),
    }
    ### END SOLUTION
"""

BV_TESTS = [
    feature_tests(
        "test_bias_variance",
        3,
        "Monte-Carlo bias-variance decomposition",
        """
        def f_true(x):
            return np.sin(3 * x)

        def sampler(rng, n=30, sigma=0.3):
            X = rng.uniform(-1, 1, size=n)
            return X, f_true(X) + sigma * rng.normal(size=n)

        def ols(X, y, x_test):  # straight-line least squares
            slope, intercept = np.polyfit(X, y, 1)
            return slope * x_test + intercept

        x_test = np.linspace(-1, 1, 25)
        const = bias_variance(lambda X, y, xt: np.full(len(xt), 0.5), sampler, f_true, x_test, 20)
        check_close("bias2 of the constant predictor 0.5", const["bias2"], np.mean((0.5 - f_true(x_test)) ** 2))
        check_close("variance of the constant predictor", const["variance"], 0.0)
        res = bias_variance(ols, sampler, f_true, x_test, 200, seed=1)
        check_close("mse = bias2 + variance", res["mse"], res["bias2"] + res["variance"])
        assert res["variance"] > 0 and res["bias2"] > 0, f"a straight line fitted to sin(3x) has bias and variance: {res}"
        """,
        """
        # Closed form: least squares on a FIXED design, linear truth, noise σ: bias 0 and
        # variance σ² mean_j φ(x_j)ᵀ (ΦᵀΦ)⁻¹ φ(x_j) with φ(x) = (1, x).
        design = np.linspace(-1, 1, 20)
        Phi = np.stack([np.ones_like(design), design], axis=1)
        sigma = 0.5

        def fixed_design(rng):
            return design, 2 * design - 1 + sigma * rng.normal(size=design.size)

        x_test = np.linspace(-1.5, 1.5, 7)
        Phi_test = np.stack([np.ones_like(x_test), x_test], axis=1)
        variance = sigma**2 * np.mean(np.einsum("ij,jk,ik->i", Phi_test, np.linalg.inv(Phi.T @ Phi), Phi_test))
        res = bias_variance(ols, fixed_design, lambda x: 2 * x - 1, x_test, 4000, seed=2)
        check_close("OLS variance vs σ² φᵀ(ΦᵀΦ)⁻¹φ", res["variance"], variance, rtol=0.08)
        assert res["bias2"] < 0.02 * variance, f"OLS on a linear truth is unbiased, got bias2 = {res['bias2']}"
        check_close("mse = bias2 + variance", res["mse"], res["bias2"] + res["variance"])
        calls = []
        bias_variance(lambda X, y, xt: xt * 0, lambda rng: calls.append(rng) or (design, design), f_true, x_test, 7, seed=3)
        assert len(calls) == 7, f"sample_train must be called n_datasets = 7 times, got {len(calls)}"
        assert all(isinstance(c, np.random.Generator) for c in calls), "sample_train gets a np.random.Generator"
        a = bias_variance(ols, sampler, f_true, x_test, 50, seed=4)
        b = bias_variance(ols, sampler, f_true, x_test, 50, seed=4)
        assert a == b, "the same seed must give the same result"
        """,
        "bias_variance OK",
    ),
]

BOOT_SPEC = r"""
## 2. The bootstrap (2 points)

A bootstrap sample draws $n$ indices uniformly **with replacement** from $\{0, \dots, n-1\}$.
`bootstrap_indices(n, n_boot, rng)` returns an integer array of shape `(n_boot, n)` of such draws (one sample per
row; use `rng.integers`). `bootstrap_se(statistic, data, n_boot, seed)` estimates the standard error of
`statistic(data)` (a function of a 1-D array returning a float) as the standard deviation (`ddof=1`) of
`statistic(data[idx])` over the `n_boot` rows `idx` of `bootstrap_indices(len(data), n_boot,
np.random.default_rng(seed))`.
The tests check the shape, range and coverage of the indices (each sample contains on average a fraction
$1 - (1 - 1/n)^n \approx 63.2\,\%$ of distinct points), and the standard error against the closed form for the
mean and against `scipy.stats.bootstrap`.
"""

BOOT_SOLUTION = """
def bootstrap_indices(n, n_boot, rng):
    ### BEGIN SOLUTION
    return rng.integers(0, n, size=(n_boot, n))
    ### END SOLUTION


def bootstrap_se(statistic, data, n_boot=2000, seed=0):
    ### BEGIN SOLUTION
    idx = bootstrap_indices(len(data), n_boot, np.random.default_rng(seed))
    return float(np.std([statistic(data[i]) for i in idx], ddof=1))
    ### END SOLUTION
"""

BOOT_TESTS = [
    feature_tests(
        "test_bootstrap",
        2,
        "bootstrap indices and standard errors",
        """
        from scipy.stats import bootstrap as scipy_bootstrap

        idx = bootstrap_indices(50, 2000, np.random.default_rng(0))
        assert idx.shape == (2000, 50), f"shape {idx.shape}, expected (2000, 50)"
        assert np.issubdtype(idx.dtype, np.integer) and idx.min() >= 0 and idx.max() <= 49, "indices must be integers in [0, n)"
        distinct = np.mean([len(np.unique(row)) / 50 for row in idx])
        check_close("mean fraction of distinct points", distinct, 1 - (1 - 1 / 50) ** 50, rtol=0.01)
        data = np.random.default_rng(1).exponential(size=80)
        se = bootstrap_se(np.mean, data, n_boot=4000, seed=2)
        check_close("bootstrap SE of the mean vs std(data)/sqrt(n)", se, data.std() / np.sqrt(len(data)), rtol=0.05)
        """,
        """
        counts = np.bincount(bootstrap_indices(20, 5000, np.random.default_rng(3)).ravel(), minlength=20)
        check_close("every index equally likely", counts / counts.sum(), np.full(20, 1 / 20), rtol=0.05)
        data = np.random.default_rng(4).normal(size=60) ** 2
        reference = scipy_bootstrap((data,), np.median, n_resamples=4000, method="percentile", rng=np.random.default_rng(5)).standard_error
        check_close("bootstrap SE of the median vs scipy.stats.bootstrap", bootstrap_se(np.median, data, 4000, seed=6), reference, rtol=0.1)
        assert bootstrap_se(np.mean, data, 100, seed=7) == bootstrap_se(np.mean, data, 100, seed=7), "same seed, same result"
        """,
        "bootstrap OK",
    ),
]

BAG_SPEC = r"""
## 3. Bagging (3 points)

Bagging trains $B$ copies of a base classifier on $B$ bootstrap samples and averages their predicted class
probabilities (*soft voting*, as scikit-learn does): $\hat p(c \mid x) = \frac1B \sum_b \hat p_b(c \mid x)$ and the
prediction is the class with the largest $\hat p$.

`Bagging(make_estimator, n_estimators=10, seed=0)`, where `make_estimator()` returns a fresh unfitted scikit-learn
classifier:

* `fit(X, y, indices=None)`: if `indices` is None, draw them with `bootstrap_indices(n, n_estimators,
  np.random.default_rng(seed))`; for each row `idx`, in order, call `make_estimator()` and fit the new estimator
  on `X[idx], y[idx]` (the tests hand out scikit-learn's tie-breaking seeds through `make_estimator`); store them in
  `self.estimators_` and the classes (`np.unique(y)`) in `self.classes_`; return `self`;
* `predict_proba(X)`: the average of the estimators' `predict_proba(X)` (columns in the order of `classes_`);
* `predict(X)`: the class of largest average probability.

The tests give your class the bootstrap samples that `BaggingClassifier` drew (its `estimators_samples_`) and
compare the probabilities and predictions.
"""

BAG_SOLUTION = """
class Bagging:
    def __init__(self, make_estimator, n_estimators=10, seed=0):
        self.make_estimator = make_estimator
        self.n_estimators = n_estimators
        self.seed = seed

    def fit(self, X, y, indices=None):
        ### BEGIN SOLUTION
        if indices is None:
            indices = bootstrap_indices(len(X), self.n_estimators, np.random.default_rng(self.seed))
        self.classes_ = np.unique(y)
        self.estimators_ = [self.make_estimator().fit(X[idx], y[idx]) for idx in indices]
        return self
        ### END SOLUTION

    def predict_proba(self, X):
        ### BEGIN SOLUTION
        return np.mean([est.predict_proba(X) for est in self.estimators_], axis=0)
        ### END SOLUTION

    def predict(self, X):
        ### BEGIN SOLUTION
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        ### END SOLUTION
"""

BAG_TESTS = [
    feature_tests(
        "test_bagging",
        3,
        "Bagging vs sklearn.ensemble.BaggingClassifier on the same bootstrap samples",
        """
        def check_bagging(depth, n_estimators, seed):
            X, y = classification_data(seed=seed)
            X_new, _ = classification_data(n=100, seed=seed + 100)
            ref = BaggingClassifier(DecisionTreeClassifier(max_depth=depth), n_estimators=n_estimators, random_state=seed).fit(X, y)
            states = iter([est.random_state for est in ref.estimators_])  # the trees' tie-breaking seeds
            make = lambda: DecisionTreeClassifier(max_depth=depth, random_state=next(states))  # noqa: E731
            mine = Bagging(make, n_estimators).fit(X, y, indices=ref.estimators_samples_)
            assert len(mine.estimators_) == n_estimators, f"{len(mine.estimators_)} estimators, expected {n_estimators}"
            check_close(f"predict_proba (max_depth={depth}, {n_estimators} trees)", mine.predict_proba(X_new), ref.predict_proba(X_new))
            assert np.array_equal(mine.predict(X_new), ref.predict(X_new)), "predict differs from BaggingClassifier"

        check_bagging(depth=3, n_estimators=9, seed=0)
        """,
        """
        check_bagging(depth=2, n_estimators=4, seed=1)  # an even number of trees: soft votes, no ties to break
        check_bagging(depth=5, n_estimators=15, seed=2)
        X, y = classification_data(seed=3)
        bag = Bagging(lambda: DecisionTreeClassifier(max_depth=3, random_state=0), n_estimators=6, seed=4).fit(X, y)
        assert len(bag.estimators_) == 6 and set(bag.predict(X)) <= {-1, 1}
        again = Bagging(lambda: DecisionTreeClassifier(max_depth=3, random_state=0), n_estimators=6, seed=4).fit(X, y)
        check_close("same seed, same bagged probabilities", bag.predict_proba(X), again.predict_proba(X))
        """,
        "Bagging matches BaggingClassifier",
    ),
]

ADA_SPEC = r"""
## 4. AdaBoost with decision stumps (3 points)

Discrete AdaBoost (SAMME with two classes $y \in \{-1, +1\}$) fits $M$ stumps $h_m$ (decision trees of depth 1)
one after the other on re-weighted data. With weights $w_i = 1/n$ at the start, for $m = 1, \dots, M$:

$$
h_m = \text{stump fitted with sample weights } w, \qquad
\text{err}_m = \frac{\sum_i w_i\, \mathbb 1[h_m(x_i) \ne y_i]}{\sum_i w_i}, \qquad
\alpha_m = \log\frac{1 - \text{err}_m}{\text{err}_m},
$$

$$w_i \leftarrow w_i\, e^{\alpha_m \mathbb 1[h_m(x_i) \ne y_i]} \text{ then normalise } w \text{ to sum to } 1.$$

The ensemble scores $F(x) = \sum_m \alpha_m h_m(x) \,/\, \sum_m \alpha_m$ and predicts $\operatorname{sign} F(x)$
($+1$ when $F(x) \ge 0$). Note that there is no factor ½ in $\alpha_m$ (SAMME, as in scikit-learn).

`AdaBoost(n_estimators=50)` with `fit(X, y)` (store the stumps in `self.stumps_`, made with
`DecisionTreeClassifier(max_depth=1, random_state=0)` and fitted with `sample_weight=w`, and
$\alpha_m$, $\text{err}_m$ in the arrays `self.alphas_`, `self.errors_`; return `self`),
`decision_function(X)` ($F$) and `predict(X)`. If a stump has $\text{err}_m = 0$, keep it with
$\alpha_m = 1$ and stop (the data are then separable by that stump). The tests compare with
`AdaBoostClassifier(DecisionTreeClassifier(max_depth=1), n_estimators=M)`: `estimator_weights_`,
`estimator_errors_`, `predict`, and `decision_function` $= 2F$.
"""

ADA_SOLUTION = """
class AdaBoost:
    def __init__(self, n_estimators=50):
        self.n_estimators = n_estimators

    def fit(self, X, y):
        ### BEGIN SOLUTION
        n = len(y)
        w = np.full(n, 1.0 / n)
        self.stumps_, alphas, errors = [], [], []
        for _ in range(self.n_estimators):
            stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y, sample_weight=w)
            incorrect = stump.predict(X) != y
            err = np.average(incorrect, weights=w)
            self.stumps_.append(stump)
            if err <= 0:
                alphas.append(1.0)
                errors.append(0.0)
                break
            alpha = np.log((1 - err) / err)
            alphas.append(alpha)
            errors.append(err)
            w = w * np.exp(alpha * incorrect)
            w /= w.sum()
        self.alphas_, self.errors_ = np.array(alphas), np.array(errors)
        return self
        ### END SOLUTION

    def decision_function(self, X):
        ### BEGIN SOLUTION
        votes = sum(a * stump.predict(X) for a, stump in zip(self.alphas_, self.stumps_))
        return votes / self.alphas_.sum()
        ### END SOLUTION

    def predict(self, X):
        ### BEGIN SOLUTION
        return np.where(self.decision_function(X) >= 0, 1, -1)
        ### END SOLUTION
"""

ADA_TESTS = [
    feature_tests(
        "test_adaboost",
        3,
        "AdaBoost vs sklearn.ensemble.AdaBoostClassifier (SAMME)",
        """
        def check_adaboost(n_estimators, seed):
            X, y = classification_data(seed=seed)
            X_new, _ = classification_data(n=100, seed=seed + 100)
            ref = AdaBoostClassifier(DecisionTreeClassifier(max_depth=1), n_estimators=n_estimators, random_state=0).fit(X, y)
            mine = AdaBoost(n_estimators).fit(X, y)
            m = len(ref.estimators_)
            assert len(mine.stumps_) == m, f"{len(mine.stumps_)} stumps, AdaBoostClassifier fitted {m}"
            check_close("alphas_ vs estimator_weights_", mine.alphas_, ref.estimator_weights_[:m])
            check_close("errors_ vs estimator_errors_", mine.errors_, ref.estimator_errors_[:m])
            check_close("2 F(x) vs decision_function", 2 * mine.decision_function(X_new), ref.decision_function(X_new))
            assert np.array_equal(mine.predict(X_new), ref.predict(X_new)), "predict differs from AdaBoostClassifier"

        check_adaboost(n_estimators=10, seed=0)
        """,
        """
        check_adaboost(n_estimators=1, seed=1)
        check_adaboost(n_estimators=40, seed=2)
        X = np.array([[0.0], [1.0], [2.0], [3.0]])
        y = np.array([-1, -1, 1, 1])
        sep = AdaBoost(5).fit(X, y)  # separable by one stump: stop after it
        assert len(sep.stumps_) == 1 and sep.alphas_[0] == 1.0, f"{len(sep.stumps_)} stumps, alphas {sep.alphas_}"
        assert np.array_equal(sep.predict(X), y)
        """,
        "AdaBoost matches AdaBoostClassifier",
    ),
]


def cells() -> list:
    """All cells of the a2 notebook, in order."""
    out = [md(INTRO), locked_code("setup", SETUP)]
    for spec, gid, code, cell_tests in [
        (BV_SPEC, "bias_variance", BV_SOLUTION, BV_TESTS),
        (BOOT_SPEC, "bootstrap", BOOT_SOLUTION, BOOT_TESTS),
        (BAG_SPEC, "bagging", BAG_SOLUTION, BAG_TESTS),
        (ADA_SPEC, "adaboost", ADA_SOLUTION, ADA_TESTS),
    ]:
        out += [md(spec), solution(gid, code)]
        out += [tests(test_id, pts, src) for test_id, pts, src in cell_tests]
    return out


def build():
    """The a2 notebook."""
    return notebook(cells())
