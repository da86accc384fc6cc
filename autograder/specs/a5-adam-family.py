"""Hidden grading spec of ``a5-adam-family`` (Adam with amsgrad, AdamW, RAdam, and the comparison experiment).

The optimizer checks are generated from the instructor notebook's test cells (visible and hidden): the
student's class runs in the sandbox, torch.optim in the trusted grader, in lockstep. The experiment's reported
numbers travel back as plain data, and so does every model the student's ``run_experiment`` built with the
locked ``make_model`` (captured in the sandbox, sent as raw weights): the grader rebuilds each one from its
own copy of the locked cell, evaluates it on the test split it computes itself, and accepts a reported test
accuracy only if it is that of a distinct captured model, so made-up numbers earn nothing. A grade cell earns
its points only when all its checks pass.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
from typing import Any

import numpy as np
import torch

from autograder import probes
from autograder.optim_checks import checks_from_notebook
from autograder.sandbox import Limits
from autograder.spec import Check, Spec, Tolerance, instructor_notebook, notebook_cells

ASSIGNMENT = "a5-adam-family"
SOURCE = instructor_notebook(ASSIGNMENT)  # --course's source/, else the checkout's
TOL = Tolerance(rtol=1e-9, atol=1e-12, rtol32=1e-4, atol32=1e-5)
LOCKED = notebook_cells(SOURCE, ["setup", "digits_data"])
NAMES = ("Adam", "AdamW", "RAdam")
LRS = (3e-3, 1e-2, 3e-2)
MAX_MODELS = 32  # captured models sent back (9 needed; extra ones are allowed; the count always travels)
MAX_TIES = 2  # near-tied test points a reported accuracy may differ by (summation order, CPU vs CUDA)
MAX_WEIGHTS = 10_000  # per captured model (make_model has 4,810): 32 models stay well under the result cap


def run_experiment(ns: dict[str, Any], dev: torch.device, dt: torch.dtype) -> dict[str, Any]:
    exec(LOCKED["digits_data"], ns)  # the locked data cell, fresh (trusted source)
    made = probes.capture_calls(ns, "make_model")  # every model run_experiment builds, in creation order
    results = ns["run_experiment"]()
    out: dict[str, Any] = {"names": ",".join(sorted(str(k) for k in results))}
    for name in NAMES:
        runs = results.get(name, {})
        out[f"{name}.lrs"] = ",".join(f"{float(lr):g}" for lr in sorted(runs))
        for i, lr in enumerate(LRS):
            run = runs.get(lr, {})
            out[f"{name}.{i}.train_loss"] = [float(v) for v in run.get("train_loss", [])]
            out[f"{name}.{i}.test_acc"] = float(run.get("test_acc", float("nan")))
    out["models"] = len(made)
    for j, model in enumerate(made[:MAX_MODELS]):
        probes.weights(model, f"model.{j}", out, max_numel=MAX_WEIGHTS)
    return out


@functools.lru_cache(maxsize=1)
def _trusted_digits() -> dict[str, Any]:
    """The locked data cell run here from the instructor notebook, on the CPU: test split, make_model and
    accuracy."""
    ns: dict[str, Any] = {"torch": torch, "DEVICE": "cpu"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(LOCKED["digits_data"], ns)
    return ns


def trusted_accuracy(data: dict[str, Any], key: str) -> tuple[float, float] | str:
    """Test accuracy of the captured model ``key`` rebuilt from the locked architecture, with the tolerance
    its near-ties allow (test points whose two largest logits are within 1e-4 may flip with the summation
    order; at most MAX_TIES of them, so that a degenerate model cannot match any number); or why the model
    cannot be evaluated."""
    ns = _trusted_digits()
    with torch.random.fork_rng(devices=[]):
        model = ns["make_model"](0)
    state = model.state_dict()
    for name, value in state.items():
        got = data.get(f"{key}.w.{name}")
        if not isinstance(got, np.ndarray) or got.size != value.numel() or not np.isfinite(got).all():
            return f"its {name} does not fit make_model's architecture"
        state[name] = torch.from_numpy(np.ascontiguousarray(got)).reshape(value.shape).to(value.dtype)
    extra = {k.removeprefix(f"{key}.w.") for k in data if k.startswith(f"{key}.w.")} - set(state)
    if extra:
        return f"it has weights {sorted(extra)} that make_model's architecture does not"
    model.load_state_dict(state)
    model.eval()
    acc = float(ns["accuracy"](model, ns["X_test"], ns["y_test"]))
    with torch.no_grad():
        top2 = model(ns["X_test"]).double().topk(2, dim=1).values
    ties = int(((top2[:, 0] - top2[:, 1]) < 1e-4).sum())
    return acc, min(ties, MAX_TIES) / len(ns["y_test"]) + 1e-6


def ref_experiment(dev: torch.device, dt: torch.dtype) -> dict[str, Any]:
    return {
        "names": ",".join(sorted(NAMES)),
        "lrs": ",".join(f"{lr:g}" for lr in sorted(LRS)),
        "min_acc": 0.90,
    }


def compare_experiment(
    student: dict[str, Any], reference: dict[str, Any], tol: tuple[float, float]
) -> list[str]:
    problems = []
    if student.get("names") != reference["names"]:
        return [f"results has keys {student.get('names')!r}, expected {reference['names']!r}"]
    n_models, needed = student.get("models"), len(NAMES) * len(LRS)
    if not isinstance(n_models, int) or not needed <= n_models <= MAX_MODELS:
        return [
            f"run_experiment() built {n_models} models with make_model(), expected {needed} (one per "
            f"optimizer and learning rate; at most {MAX_MODELS}): the grader evaluates those models itself"
        ]
    trusted = [trusted_accuracy(student, f"model.{j}") for j in range(n_models)]
    for j, t in enumerate(trusted):
        if isinstance(t, str):
            problems.append(f"model {j + 1} built by make_model(): {t}")
    if problems:
        return problems
    matched = _match_accuracies(student, trusted)  # (name, lr index) -> the grader's accuracy of its model
    for name in NAMES:
        if student.get(f"{name}.lrs") != reference["lrs"]:
            problems.append(f"results[{name!r}] has learning rates {student.get(f'{name}.lrs')!r}")
            continue
        best = -1.0
        for i, lr in enumerate(LRS):
            losses = [float(v) for v in student.get(f"{name}.{i}.train_loss", [])]
            if len(losses) != 5 or not all(math.isfinite(v) for v in losses):
                problems.append(f"{name}, lr={lr:g}: train_loss {losses}")
            elif not losses[-1] < losses[0]:
                problems.append(f"{name}, lr={lr:g}: the training loss did not decrease: {losses}")
            acc = matched.get((name, i))
            if acc is None:
                problems.append(
                    f"{name}, lr={lr:g}: the reported test_acc {student.get(f'{name}.{i}.test_acc')} is not "
                    f"the test accuracy of any model run_experiment() built with make_model() (evaluated by "
                    f"the grader)"
                )
            else:
                best = max(best, acc)
        if best < reference["min_acc"]:
            problems.append(
                f"{name}: best test accuracy {best:.3f} < {reference['min_acc']} (evaluated by the grader)"
            )
    return problems


def _match_accuracies(
    student: dict[str, Any], trusted: list[tuple[float, float]]
) -> dict[tuple[str, int], float]:
    """Pair each reported test accuracy with a distinct captured model whose accuracy (evaluated here) it
    equals; returns the grader's accuracy for every run that could be paired (a maximum matching)."""
    from scipy.optimize import linear_sum_assignment

    runs = [(name, i) for name in NAMES for i in range(len(LRS))]
    cost = np.full((len(runs), len(trusted)), 1e6)
    for r, (name, i) in enumerate(runs):
        acc = student.get(f"{name}.{i}.test_acc")
        if isinstance(acc, float) and math.isfinite(acc):
            for j, (value, tol) in enumerate(trusted):
                if abs(acc - value) <= tol:
                    cost[r, j] = abs(acc - value)
    rows, cols = linear_sum_assignment(cost)
    return {runs[r]: trusted[c][0] for r, c in zip(rows, cols) if cost[r, c] < 1e6}


SPEC = Spec(
    assignment=ASSIGNMENT,
    notebook=ASSIGNMENT,
    cells=["adam", "adamw", "radam", "experiment"],
    checks=[
        *checks_from_notebook(SOURCE, TOL),
        Check(
            "experiment",
            "test_experiment",
            run_experiment,
            ref_experiment,
            "run_experiment(): 3 optimizers × 3 learning rates, finite decreasing losses, one model per run "
            "built with make_model() whose test accuracy (evaluated by the grader) is the one reported, "
            "best ≥ 0.90",
            compare=compare_experiment,
            timeout_s=150.0,
        ),
    ],
    limits=Limits(wall_s=300.0, check_s=5.0, cpu_s=300, memory_mb=3072, nproc=64),
    preload=["torch", "numpy", "sklearn.datasets"],
    partial_credit=False,
)
