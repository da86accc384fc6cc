"""Hidden grading spec of ``a5-adam-family`` (Adam with amsgrad, AdamW, RAdam, and the comparison experiment).

The optimizer checks are generated from the instructor notebook's test cells (visible and hidden): the student's
class runs in the sandbox, torch.optim in the trusted grader, in lockstep. The experiment's results travel back as
plain data and are judged here. A grade cell earns its points only when all its checks pass.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from autograder.optim_checks import checks_from_notebook
from autograder.sandbox import Limits
from autograder.spec import Check, Spec, Tolerance, notebook_cells

ASSIGNMENT = "a5-adam-family"
SOURCE = Path(__file__).resolve().parents[2] / "assignments" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
TOL = Tolerance(rtol=1e-9, atol=1e-12, rtol32=1e-4, atol32=1e-5)
LOCKED = notebook_cells(SOURCE, ["setup", "digits_data"])
NAMES = ("Adam", "AdamW", "RAdam")
LRS = (3e-3, 1e-2, 3e-2)


def run_experiment(ns: dict[str, Any], dev: torch.device, dt: torch.dtype) -> dict[str, Any]:
    exec(LOCKED["digits_data"], ns)  # the locked data cell, fresh (trusted source)
    results = ns["run_experiment"]()
    out: dict[str, Any] = {"names": ",".join(sorted(str(k) for k in results))}
    for name in NAMES:
        runs = results.get(name, {})
        out[f"{name}.lrs"] = ",".join(f"{float(lr):g}" for lr in sorted(runs))
        for i, lr in enumerate(LRS):
            run = runs.get(lr, {})
            out[f"{name}.{i}.train_loss"] = [float(v) for v in run.get("train_loss", [])]
            out[f"{name}.{i}.test_acc"] = float(run.get("test_acc", float("nan")))
    return out


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
            acc = student.get(f"{name}.{i}.test_acc")
            if isinstance(acc, float) and math.isfinite(acc):
                best = max(best, acc)
        if best < reference["min_acc"]:
            problems.append(f"{name}: best test accuracy {best:.3f} < {reference['min_acc']}")
    return problems


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
            "run_experiment(): 3 optimizers × 3 learning rates, finite decreasing losses, best accuracy ≥ 0.90",
            compare=compare_experiment,
            timeout_s=150.0,
        ),
    ],
    limits=Limits(wall_s=300.0, check_s=5.0, cpu_s=300, memory_mb=3072, nproc=64),
    preload=["torch", "numpy", "sklearn.datasets"],
    partial_credit=False,
)
