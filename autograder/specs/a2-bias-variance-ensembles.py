"""Hidden grading spec of ``a2-bias-variance-ensembles`` (Monte-Carlo bias–variance, bootstrap, Bagging, AdaBoost).

The sandbox runs the student's functions and classes on the notebook tests' inputs and returns their raw outputs
(numbers, index arrays, probabilities); every judgement — closed forms, statistical tolerances, equality with
scikit-learn's ``BaggingClassifier``/``AdaBoostClassifier`` and ``scipy.stats.bootstrap`` — happens in the trusted
grader. A grade cell earns its points only when all its checks pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.sandbox import Limits
from autograder.spec import Check, Spec, Tolerance, compare_outputs, instructor_notebook, notebook_cells

ASSIGNMENT = "a2-bias-variance-ensembles"
SOURCE = instructor_notebook(ASSIGNMENT)  # --course's source/, else the checkout's
LOCKED = notebook_cells(SOURCE, ["setup"])
EXACT = Tolerance(rtol=1e-9, atol=1e-12)
CHECKS: list[Check] = []


def trusted() -> dict[str, Any]:
    """A fresh namespace with the notebook's locked setup (classification_data, sklearn estimators)."""
    ns: dict[str, Any] = {"__name__": "a2_trusted"}
    exec(LOCKED["setup"], ns)
    return ns


def add(
    name: str, gid: str, needs: tuple[str, ...], run: Any, ref: Any, compare: Any = None, desc: str = ""
) -> None:
    """Register a check whose sandbox side is ``run(ns, helpers)`` and trusted side ``ref(helpers)``."""
    CHECKS.append(
        Check(
            name,
            gid,
            lambda ns, dev, dt: run(ns, trusted()),
            lambda dev, dt: ref(trusted()),
            desc,
            compare=compare,
            tolerance=EXACT,
            needs=needs,
        )
    )


def _close(
    problems: list[str], label: str, got: Any, expected: Any, rtol: float = 1e-9, atol: float = 1e-12
) -> None:
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    if got.shape != expected.shape:
        problems.append(f"{label}: shape {got.shape}, expected {expected.shape}")
    elif not np.all(np.isfinite(got)) or not np.allclose(got, expected, rtol=rtol, atol=atol):
        problems.append(
            f"{label}: got {np.round(got, 6).tolist()}, expected {np.round(expected, 6).tolist()}"
        )


# --- bias–variance ---------------------------------------------------------------------------------------------
def f_true(x: np.ndarray) -> np.ndarray:
    return np.sin(3 * x)


def sampler(rng: np.random.Generator, n: int = 30, sigma: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1, 1, size=n)
    return X, f_true(X) + sigma * rng.normal(size=n)


def ols(X: np.ndarray, y: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    slope, intercept = np.polyfit(X, y, 1)
    return slope * x_test + intercept


DESIGN = np.linspace(-1, 1, 20)
SIGMA = 0.5
X_TEST = np.linspace(-1, 1, 25)
X_TEST2 = np.linspace(-1.5, 1.5, 7)


def _fixed_design(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return DESIGN, 2 * DESIGN - 1 + SIGMA * rng.normal(size=DESIGN.size)


def _bv(res: Any) -> list[float]:
    return [float(res["mse"]), float(res["bias2"]), float(res["variance"])]


def run_bv(ns: dict[str, Any], h: dict[str, Any]) -> dict[str, Any]:
    bv = ns["bias_variance"]
    const = bv(lambda X, y, xt: np.full(len(xt), 0.5), sampler, f_true, X_TEST, 20)
    calls: list[Any] = []
    bv(lambda X, y, xt: xt * 0, lambda rng: calls.append(rng) or (DESIGN, DESIGN), f_true, X_TEST2, 7, seed=3)
    return {
        "const": [float(const["bias2"]), float(const["variance"])],
        "ols": _bv(bv(ols, sampler, f_true, X_TEST, 200, seed=1)),
        "fixed": _bv(bv(ols, _fixed_design, lambda x: 2 * x - 1, X_TEST2, 4000, seed=2)),
        "n_calls": len(calls),
        "generators": all(type(c) is np.random.Generator for c in calls),
        "same_seed_a": _bv(bv(ols, sampler, f_true, X_TEST, 50, seed=4)),
        "same_seed_b": _bv(bv(ols, sampler, f_true, X_TEST, 50, seed=4)),
    }


def ref_bv(h: dict[str, Any]) -> dict[str, Any]:
    phi = np.stack([np.ones_like(DESIGN), DESIGN], axis=1)
    phi_test = np.stack([np.ones_like(X_TEST2), X_TEST2], axis=1)
    variance = SIGMA**2 * np.mean(np.einsum("ij,jk,ik->i", phi_test, np.linalg.inv(phi.T @ phi), phi_test))
    return {"const": [float(np.mean((0.5 - f_true(X_TEST)) ** 2)), 0.0], "fixed_variance": float(variance)}


def compare_bv(s: dict[str, Any], r: dict[str, Any], tol: tuple[float, float]) -> list[str]:
    p: list[str] = []
    _close(p, "constant predictor 0.5: (bias2, variance)", s["const"], r["const"])
    for key in ("ols", "fixed", "same_seed_a"):
        mse, bias2, var = np.asarray(s[key], dtype=float)
        _close(p, f"{key}: mse = bias2 + variance", mse, bias2 + var)
    if not (s["ols"][1] > 0 and s["ols"][2] > 0):
        p.append(
            f"a straight line fitted to sin(3x) has bias and variance, got (mse, bias2, variance) = {s['ols']}"
        )
    _close(p, "OLS variance vs σ² φᵀ(ΦᵀΦ)⁻¹φ", s["fixed"][2], r["fixed_variance"], rtol=0.08)
    if not s["fixed"][1] < 0.02 * r["fixed_variance"]:
        p.append(f"OLS on a linear truth is unbiased, got bias2 = {s['fixed'][1]}")
    if s["n_calls"] != 7 or s["generators"] is not True:
        p.append(
            f"sample_train must be called n_datasets = 7 times with a np.random.Generator ({s['n_calls']} calls)"
        )
    if not np.array_equal(np.asarray(s["same_seed_a"]), np.asarray(s["same_seed_b"])):
        p.append("the same seed must give the same result")
    return p


add(
    "bias-variance",
    "test_bias_variance",
    ("bias_variance",),
    run_bv,
    ref_bv,
    compare_bv,
    "Monte-Carlo bias-variance",
)


# --- bootstrap -------------------------------------------------------------------------------------------------
def run_boot(ns: dict[str, Any], h: dict[str, Any]) -> dict[str, Any]:
    bi, se = ns["bootstrap_indices"], ns["bootstrap_se"]
    idx = np.asarray(bi(50, 2000, np.random.default_rng(0)))
    data = np.random.default_rng(1).exponential(size=80)
    data2 = np.random.default_rng(4).normal(size=60) ** 2
    return {
        "idx.kind": idx.dtype.kind,
        "idx": idx.astype(np.int64) if idx.dtype.kind in "iu" else np.zeros(0),
        "idx20": np.asarray(bi(20, 5000, np.random.default_rng(3))).astype(np.int64),
        "se_mean": float(se(np.mean, data, n_boot=4000, seed=2)),
        "se_median": float(se(np.median, data2, 4000, seed=6)),
        "repeat": [float(se(np.mean, data2, 100, seed=7)), float(se(np.mean, data2, 100, seed=7))],
    }


def ref_boot(h: dict[str, Any]) -> dict[str, Any]:
    from scipy.stats import bootstrap

    data = np.random.default_rng(1).exponential(size=80)
    data2 = np.random.default_rng(4).normal(size=60) ** 2
    median_se = bootstrap(
        (data2,), np.median, n_resamples=4000, method="percentile", rng=np.random.default_rng(5)
    ).standard_error
    return {"se_mean": float(data.std() / np.sqrt(len(data))), "se_median": float(median_se)}


def compare_boot(s: dict[str, Any], r: dict[str, Any], tol: tuple[float, float]) -> list[str]:
    p: list[str] = []
    idx = s["idx"]
    if s["idx.kind"] not in ("i", "u") or idx.shape != (2000, 50) or idx.min() < 0 or idx.max() > 49:
        p.append(
            f"bootstrap_indices(50, 2000, rng): expected integers in [0, 50) of shape (2000, 50), got {idx.shape}"
        )
    else:
        distinct = np.mean([len(np.unique(row)) / 50 for row in idx])
        _close(p, "mean fraction of distinct points", distinct, 1 - (1 - 1 / 50) ** 50, rtol=0.01)
    idx20 = s["idx20"]
    if idx20.size and idx20.min() >= 0 and idx20.max() < 20:
        counts = np.bincount(idx20.ravel(), minlength=20)
        _close(p, "every index equally likely", counts / counts.sum(), np.full(20, 1 / 20), rtol=0.05)
    else:
        p.append("bootstrap_indices(20, 5000, rng): indices outside [0, 20)")
    _close(p, "bootstrap SE of the mean vs std(data)/sqrt(n)", s["se_mean"], r["se_mean"], rtol=0.05)
    _close(p, "bootstrap SE of the median vs scipy.stats.bootstrap", s["se_median"], r["se_median"], rtol=0.1)
    if s["repeat"][0] != s["repeat"][1]:
        p.append("same seed, same result: bootstrap_se gave two different values")
    return p


add(
    "bootstrap",
    "test_bootstrap",
    ("bootstrap",),
    run_boot,
    ref_boot,
    compare_boot,
    "bootstrap indices and SEs",
)

# --- bagging ---------------------------------------------------------------------------------------------------
BAG_CASES = ((3, 9, 0), (2, 4, 1), (5, 15, 2))


def _sk_bagging(h: dict[str, Any], depth: int, n_est: int, seed: int) -> Any:
    X, y = h["classification_data"](seed=seed)
    tree = h["DecisionTreeClassifier"](max_depth=depth)
    return h["BaggingClassifier"](tree, n_estimators=n_est, random_state=seed).fit(X, y)


def run_bag(ns: dict[str, Any], h: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for depth, n_est, seed in BAG_CASES:
        X, y = h["classification_data"](seed=seed)
        X_new, _ = h["classification_data"](n=100, seed=seed + 100)
        ref = _sk_bagging(
            h, depth, n_est, seed
        )  # only for its bootstrap samples and trees' seeds (the inputs)
        states = iter([est.random_state for est in ref.estimators_])

        def make(depth: int = depth, states: Any = states) -> Any:
            return h["DecisionTreeClassifier"](max_depth=depth, random_state=next(states))

        mine = ns["Bagging"](make, n_est).fit(X, y, indices=ref.estimators_samples_)
        tag = f"d{depth}n{n_est}s{seed}"
        out[f"{tag}.n"] = len(mine.estimators_)
        out[f"{tag}.proba"] = np.asarray(mine.predict_proba(X_new), dtype=float)
        out[f"{tag}.predict"] = np.asarray(mine.predict(X_new), dtype=float)
    X, y = h["classification_data"](seed=3)

    def bag() -> Any:
        make = lambda: h["DecisionTreeClassifier"](max_depth=3, random_state=0)  # noqa: E731
        return ns["Bagging"](make, n_estimators=6, seed=4).fit(X, y)

    first, second = bag(), bag()
    out["seeded.n"] = len(first.estimators_)
    out["seeded.labels"] = np.unique(np.asarray(first.predict(X), dtype=float))
    out["seeded.proba"] = np.asarray(first.predict_proba(X), dtype=float)
    out["seeded.proba_again"] = np.asarray(second.predict_proba(X), dtype=float)
    return out


def ref_bag(h: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for depth, n_est, seed in BAG_CASES:
        X_new, _ = h["classification_data"](n=100, seed=seed + 100)
        ref = _sk_bagging(h, depth, n_est, seed)
        tag = f"d{depth}n{n_est}s{seed}"
        out[f"{tag}.n"] = n_est
        out[f"{tag}.proba"] = ref.predict_proba(X_new)
        out[f"{tag}.predict"] = ref.predict(X_new).astype(float)
    out["seeded.n"] = 6
    return out


def compare_bag(s: dict[str, Any], r: dict[str, Any], tol: tuple[float, float]) -> list[str]:
    p = compare_outputs(s, r, tol)
    labels = s.get("seeded.labels")
    if not isinstance(labels, np.ndarray) or not set(labels.tolist()) <= {-1.0, 1.0}:
        p.append(f"predict must return labels in {{-1, +1}}, got {labels}")
    a, b = s.get("seeded.proba"), s.get("seeded.proba_again")
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)):
        p.append("same seed, same bagged probabilities: two fits gave different predict_proba")
    return p


add("bagging", "test_bagging", ("bagging",), run_bag, ref_bag, compare_bag, "Bagging vs BaggingClassifier")

# --- AdaBoost --------------------------------------------------------------------------------------------------
BOOST_CASES = ((10, 0), (1, 1), (40, 2))
SEP_X = np.array([[0.0], [1.0], [2.0], [3.0]])
SEP_Y = np.array([-1, -1, 1, 1])


def run_boost(ns: dict[str, Any], h: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n_est, seed in BOOST_CASES:
        X, y = h["classification_data"](seed=seed)
        X_new, _ = h["classification_data"](n=100, seed=seed + 100)
        mine = ns["AdaBoost"](n_est).fit(X, y)
        tag = f"n{n_est}s{seed}"
        out[f"{tag}.stumps"] = len(mine.stumps_)
        out[f"{tag}.alphas"] = np.asarray(mine.alphas_, dtype=float)
        out[f"{tag}.errors"] = np.asarray(mine.errors_, dtype=float)
        out[f"{tag}.decision"] = 2 * np.asarray(mine.decision_function(X_new), dtype=float)
        out[f"{tag}.predict"] = np.asarray(mine.predict(X_new), dtype=float)
    sep = ns["AdaBoost"](5).fit(SEP_X, SEP_Y)
    out["separable.stumps"] = len(sep.stumps_)
    out["separable.alpha0"] = float(np.asarray(sep.alphas_, dtype=float)[0])
    out["separable.predict"] = np.asarray(sep.predict(SEP_X), dtype=float)
    return out


def ref_boost(h: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n_est, seed in BOOST_CASES:
        X, y = h["classification_data"](seed=seed)
        X_new, _ = h["classification_data"](n=100, seed=seed + 100)
        stump = h["DecisionTreeClassifier"](max_depth=1)
        ref = h["AdaBoostClassifier"](stump, n_estimators=n_est, random_state=0).fit(X, y)
        m = len(ref.estimators_)
        tag = f"n{n_est}s{seed}"
        out[f"{tag}.stumps"] = m
        out[f"{tag}.alphas"] = ref.estimator_weights_[:m]
        out[f"{tag}.errors"] = ref.estimator_errors_[:m]
        out[f"{tag}.decision"] = ref.decision_function(X_new)
        out[f"{tag}.predict"] = ref.predict(X_new).astype(float)
    out.update({"separable.stumps": 1, "separable.alpha0": 1.0, "separable.predict": SEP_Y.astype(float)})
    return out


add(
    "adaboost",
    "test_adaboost",
    ("adaboost",),
    run_boost,
    ref_boost,
    None,
    "AdaBoost (SAMME) vs AdaBoostClassifier",
)

SPEC = Spec(
    assignment=ASSIGNMENT,
    notebook=ASSIGNMENT,
    cells=["bias_variance", "bootstrap", "bagging", "adaboost"],
    checks=CHECKS,
    limits=Limits(wall_s=180.0, check_s=30.0, cpu_s=180, memory_mb=2048, nproc=64),
    preload=["numpy", "scipy.stats", "sklearn.datasets", "sklearn.ensemble", "sklearn.tree"],
    warmup="",
    blocked=[
        "sklearn.ensemble.BaggingClassifier",
        "sklearn.ensemble.AdaBoostClassifier",
        "sklearn.utils.resample",
        "scipy.stats.bootstrap",
    ],
    partial_credit=False,
)
