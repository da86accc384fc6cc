"""Hidden grading spec of ``a1-erm-losses-cv`` (surrogate losses, empirical risk, logistic regression by gradient
descent, K-fold cross-validation), numpy only.

The sandbox evaluates the student's functions on the notebook tests' inputs (same seeds, same data) under
``np.errstate(over/divide/invalid="raise")``; the trusted grader computes the references with scikit-learn and
closed forms (analytic derivatives where the notebook uses finite differences) and compares. The written answer
(``test_set_once``) is left to manual grading. A grade cell earns its points only when all its checks pass.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograder.sandbox import Limits
from autograder.spec import Check, Spec, Tolerance, instructor_notebook, notebook_cells

ASSIGNMENT = "a1-erm-losses-cv"
SOURCE = instructor_notebook(ASSIGNMENT)  # --course's source/, else the checkout's
LOCKED = notebook_cells(SOURCE, ["setup", "references"])
STRICT = dict(over="raise", divide="raise", invalid="raise")
EXACT = Tolerance(rtol=1e-9, atol=1e-12)
CHECKS: list[Check] = []


def trusted() -> dict[str, Any]:
    """A fresh namespace with the notebook's locked helpers (make_data, margins, sklearn references)."""
    ns: dict[str, Any] = {"__name__": "a1_trusted"}
    exec(LOCKED["setup"], ns)
    exec(LOCKED["references"], ns)
    return ns


def check(name: str, gid: str, needs: tuple[str, ...], tol: Tolerance = EXACT, description: str = "") -> Any:
    """Decorator pairing a sandbox function ``run(ns, h)`` with a reference ``ref(h)`` (``h``: trusted helpers)."""

    def register(pair: tuple[Any, Any]) -> tuple[Any, Any]:
        run, ref = pair

        def sandbox(ns: dict[str, Any], dev: Any, dt: Any) -> dict[str, Any]:
            with np.errstate(**STRICT):
                return run(ns, trusted())

        CHECKS.append(
            Check(name, gid, sandbox, lambda dev, dt: ref(trusted()), description, tolerance=tol, needs=needs)
        )
        return pair

    return register


def _raised(fn: Any) -> str:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the exception type is the answer
        return type(exc).__name__
    return "none"


# --- losses ----------------------------------------------------------------------------------------------------
HINGE_GRID = np.linspace(-3, 3, 13).reshape(13, 1) + 0.05
LOGISTIC_GRID = np.linspace(-5, 5, 21).reshape(3, 7)
SQUARED_GRID = np.linspace(-3, 3, 12).reshape(2, 6)


def _margin_means(loss: Any, h: dict[str, Any], cases: tuple[tuple[int, int], ...]) -> dict[str, Any]:
    out = {}
    for seed, n in cases:
        y, f = h["margins"](seed=seed, n=n)
        out[f"mean_loss_seed{seed}"] = float(np.mean(loss(y * f)))
    return out


check("hinge", "test_hinge", ("losses",), description="hinge loss (means vs sklearn) and its derivative")(
    (
        lambda ns, h: {
            **_margin_means(ns["hinge_loss"], h, ((1, 50), (2, 80), (3, 80))),
            "grad_points": np.asarray(ns["hinge_grad"](np.array([-2.0, 0.0, 0.5, 1.0, 3.0])), dtype=float),
            "grad_grid": np.asarray(ns["hinge_grad"](HINGE_GRID), dtype=float),
            "loss_grid": np.asarray(ns["hinge_loss"](HINGE_GRID), dtype=float),
        },
        lambda h: {
            **{
                f"mean_loss_seed{s}": float(h["sk_hinge_loss"](*h["margins"](seed=s, n=n)))
                for s, n in ((1, 50), (2, 80), (3, 80))
            },
            "grad_points": np.array([-1.0, -1.0, -1.0, 0.0, 0.0]),
            "grad_grid": np.where(HINGE_GRID < 1, -1.0, 0.0),
            "loss_grid": np.maximum(0.0, 1 - HINGE_GRID),
        },
    )
)
check("logistic-means", "test_logistic", ("losses",), Tolerance(rtol=1e-7, atol=1e-12), "mean logistic loss")(
    (
        lambda ns, h: _margin_means(ns["logistic_loss"], h, ((1, 50), (4, 80))),
        lambda h: {
            f"mean_loss_seed{s}": float(h["log_loss"](y, h["expit"](f)))
            for s, n in ((1, 50), (4, 80))
            for y, f in [h["margins"](seed=s, n=n)]
        },
    )
)
check("logistic-values", "test_logistic", ("losses",), description="logistic derivative, stability at ±1e4")(
    (
        lambda ns, h: {
            "grad_points": np.asarray(ns["logistic_grad"](np.array([-3.0, 0.0, 2.0])), dtype=float),
            "grad_grid": np.asarray(ns["logistic_grad"](LOGISTIC_GRID), dtype=float),
            "loss_big": np.asarray(ns["logistic_loss"](np.array([-1e4, 1e4])), dtype=float),
            "grad_big": np.asarray(ns["logistic_grad"](np.array([-1e4, 1e4])), dtype=float),
        },
        lambda h: {
            "grad_points": -1.0 / (1.0 + np.exp(np.array([-3.0, 0.0, 2.0]))),
            "grad_grid": -h["expit"](-LOGISTIC_GRID),
            "loss_big": np.array([1e4, 0.0]),
            "grad_big": np.array([-1.0, 0.0]),
        },
    )
)
check("logistic-40", "test_logistic", ("losses",), Tolerance(rtol=1e-9, atol=0.0), "logistic_loss(40)")(
    (
        lambda ns, h: {"loss_40": float(np.asarray(ns["logistic_loss"](np.array(40.0))))},
        lambda h: {"loss_40": math.log1p(math.exp(-40.0))},
    )
)
check(
    "squared", "test_squared", ("losses",), description="squared loss (means vs sklearn) and its derivative"
)(
    (
        lambda ns, h: {
            **_margin_means(ns["squared_loss"], h, ((1, 50), (5, 70))),
            "grad_points": np.asarray(ns["squared_grad"](np.array([-1.0, 1.0, 2.0])), dtype=float),
            "grad_grid": np.asarray(ns["squared_grad"](SQUARED_GRID), dtype=float),
        },
        lambda h: {
            **{
                f"mean_loss_seed{s}": float(h["mean_squared_error"](*h["margins"](seed=s, n=n)))
                for s, n in ((1, 50), (5, 70))
            },
            "grad_points": np.array([-4.0, 0.0, 2.0]),
            "grad_grid": 2 * (SQUARED_GRID - 1),
        },
    )
)


# --- empirical risk --------------------------------------------------------------------------------------------
def _risk_run(ns: dict[str, Any], h: dict[str, Any]) -> dict[str, Any]:
    X, y = h["make_data"](n=60, seed=6)
    w, w0 = np.array([0.5, -1.0, 2.0]), -0.2
    risk = ns["empirical_risk"](ns["hinge_loss"], w, w0, X, y)
    X2, y2 = h["make_data"](n=90, seed=7)
    w2, w0_2 = np.array([-0.3, 0.2, 1.0]), 0.4
    return {
        "hinge.type": type(risk).__name__,
        "hinge": float(risk),
        "zero_one": float(ns["zero_one_risk"](w, w0, X, y)),
        "squared": float(ns["empirical_risk"](ns["squared_loss"], w2, w0_2, X2, y2)),
        "zero_one_f0": float(
            ns["zero_one_risk"](w2, 0.0, np.zeros((4, 3)), np.array([1.0, 1.0, -1.0, -1.0]))
        ),
    }


def _risk_ref(h: dict[str, Any]) -> dict[str, Any]:
    X, y = h["make_data"](n=60, seed=6)
    w, w0 = np.array([0.5, -1.0, 2.0]), -0.2
    X2, y2 = h["make_data"](n=90, seed=7)
    w2, w0_2 = np.array([-0.3, 0.2, 1.0]), 0.4
    return {
        "hinge.type": "float",
        "hinge": float(h["sk_hinge_loss"](y, X @ w + w0)),
        "zero_one": float(1 - h["accuracy_score"](y, np.where(X @ w + w0 >= 0, 1, -1))),
        "squared": float(h["mean_squared_error"](y2, X2 @ w2 + w0_2)),
        "zero_one_f0": 0.5,
    }


check("risks", "test_empirical_risk", ("losses", "risk"), description="empirical and 0-1 risks vs sklearn")(
    (_risk_run, _risk_ref)
)
W2, W0_2 = np.array([-0.3, 0.2, 1.0]), 0.4


def _risk_logistic_run(ns: dict[str, Any], h: dict[str, Any]) -> dict[str, Any]:
    X, y = h["make_data"](n=90, seed=7)
    return {"logistic": float(ns["empirical_risk"](ns["logistic_loss"], W2, W0_2, X, y))}


def _risk_logistic_ref(h: dict[str, Any]) -> dict[str, Any]:
    X, y = h["make_data"](n=90, seed=7)
    return {"logistic": float(h["log_loss"](y, h["expit"](X @ W2 + W0_2)))}


check(
    "risk-logistic",
    "test_empirical_risk",
    ("losses", "risk"),
    Tolerance(rtol=1e-7, atol=1e-12),
    "empirical_risk(logistic_loss) vs log_loss",
)((_risk_logistic_run, _risk_logistic_ref))


# --- logistic regression by gradient descent -------------------------------------------------------------------
def _fit_run(ns: dict[str, Any], h: dict[str, Any]) -> dict[str, Any]:
    fit = ns["fit_logistic"]
    X, y = h["make_data"](n=200, seed=8)
    w1, w0_1 = fit(X, y, lam=0.1, eta=0.5, steps=1)
    X2, y2 = h["make_data"](n=150, d=3, seed=9)
    w_zero, w0_zero = fit(X2, y2, lam=0.5, steps=0)
    return {
        "w1": np.asarray(w1, float),
        "w0_1": float(w0_1),
        "zero_steps": np.append(np.asarray(w_zero, float), float(w0_zero)),
    }


def _fit_ref(h: dict[str, Any]) -> dict[str, Any]:
    X, y = h["make_data"](n=200, seed=8)
    return {
        "w1": 0.5 * (X.T @ y) / (2 * len(y)),
        "w0_1": float(0.5 * y.mean() / 2),
        "zero_steps": np.zeros(4),
    }


def _fit_sk_run(ns: dict[str, Any], h: dict[str, Any]) -> dict[str, Any]:
    X, y = h["make_data"](n=200, seed=8)
    w, w0 = ns["fit_logistic"](X, y, lam=0.1)
    X2, y2 = h["make_data"](n=150, d=3, seed=9)
    w2, w0_2 = ns["fit_logistic"](X2, y2, lam=0.5, eta=1.0, steps=400)
    return {
        "w": np.asarray(w, float),
        "w0": float(w0),
        "w_lam0.5": np.asarray(w2, float),
        "w0_lam0.5": float(w0_2),
    }


def _fit_sk_ref(h: dict[str, Any]) -> dict[str, Any]:
    w, w0 = h["sklearn_logistic"](*h["make_data"](n=200, seed=8), 0.1)
    w2, w0_2 = h["sklearn_logistic"](*h["make_data"](n=150, d=3, seed=9), 0.5)
    return {"w": w, "w0": w0, "w_lam0.5": w2, "w0_lam0.5": w0_2}


check("fit-first-step", "test_fit_logistic", ("losses", "risk", "fit_logistic"), description="first GD step")(
    (_fit_run, _fit_ref)
)
check(
    "fit-vs-sklearn",
    "test_fit_logistic",
    ("losses", "risk", "fit_logistic"),
    Tolerance(rtol=1e-5, atol=1e-6),
    "the minimiser vs LogisticRegression(C=1/(n λ))",
)((_fit_sk_run, _fit_sk_ref))


# --- K-fold cross-validation -----------------------------------------------------------------------------------
KFOLD_CASES = ((10, 3), (12, 4), (7, 7), (101, 5), (5, 2))


def _kfold_run(ns: dict[str, Any], h: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, K in KFOLD_CASES:
        folds = list(ns["kfold_indices"](n, K))
        out[f"{n},{K}.folds"] = len(folds)
        for j, (train, val) in enumerate(folds[:K]):
            out[f"{n},{K}.{j}.train"] = np.asarray(train, dtype=np.int64)
            out[f"{n},{K}.{j}.val"] = np.asarray(val, dtype=np.int64)
    for n, K in ((10, 1), (3, 4)):
        out[f"{n},{K}.raises"] = _raised(lambda n=n, K=K: ns["kfold_indices"](n, K))
    return out


def _kfold_ref(h: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, K in KFOLD_CASES:
        folds = list(h["KFold"](n_splits=K).split(np.zeros(n)))
        out[f"{n},{K}.folds"] = len(folds)
        for j, (train, val) in enumerate(folds):
            out[f"{n},{K}.{j}.train"] = train.astype(np.int64)
            out[f"{n},{K}.{j}.val"] = val.astype(np.int64)
    for n, K in ((10, 1), (3, 4)):
        out[f"{n},{K}.raises"] = "ValueError"
    return out


check("kfold", "test_kfold", ("cross_validation",), description="kfold_indices vs sklearn KFold")(
    (_kfold_run, _kfold_ref)
)


def _cv_run(ns: dict[str, Any], h: dict[str, Any]) -> dict[str, Any]:
    fit = h["sklearn_fit"]  # the trusted fitter, as in the notebook's tests
    X, y = h["make_data"](n=100, seed=10)
    X2, y2 = h["make_data"](n=120, d=3, seed=11)
    return {
        "cv5": np.asarray(ns["cross_validate"](X, y, [0.001, 0.1, 3.0], 5, fit=fit), dtype=float),
        "cv4": np.asarray(ns["cross_validate"](X2, y2, [0.003, 0.03, 0.3, 3.0], 4, fit=fit), dtype=float),
        "best": float(ns["choose_lambda"](X2, y2, [0.003, 0.03, 0.3, 3.0], 4, fit=fit)),
    }


def _cv_ref(h: dict[str, Any]) -> dict[str, Any]:
    X, y = h["make_data"](n=100, seed=10)
    X2, y2 = h["make_data"](n=120, d=3, seed=11)
    lambdas = [0.003, 0.03, 0.3, 3.0]
    cv4 = h["reference_cv"](X2, y2, lambdas, 4)
    return {
        "cv5": h["reference_cv"](X, y, [0.001, 0.1, 3.0], 5),
        "cv4": cv4,
        "best": float(lambdas[int(np.argmin(cv4))]),
    }


check(
    "cross-validation",
    "test_cross_validation",
    ("cross_validation",),
    Tolerance(rtol=1e-6, atol=1e-12),
    "cross_validate and choose_lambda vs scikit-learn's cross_val_score",
)((_cv_run, _cv_ref))

SPEC = Spec(
    assignment=ASSIGNMENT,
    notebook=ASSIGNMENT,
    cells=["losses", "risk", "fit_logistic", "cross_validation"],
    checks=CHECKS,
    limits=Limits(wall_s=120.0, check_s=20.0, cpu_s=120, memory_mb=2048, nproc=64),
    preload=["numpy", "scipy.special", "sklearn.linear_model", "sklearn.metrics", "sklearn.model_selection"],
    warmup="",
    blocked=[
        "sklearn.linear_model.LogisticRegression",
        "sklearn.model_selection.KFold",
        "sklearn.model_selection.cross_val_score",
        "sklearn.model_selection.cross_validate",
    ],
    partial_credit=False,
)
