"""a5's experiment check judges models the grader evaluates itself, not the numbers the student reports.

In-process (no sandbox; the instructor solution is trusted test code), through the sandbox's record encoding:
the student side captures every model ``run_experiment`` builds with ``make_model``; the trusted side rebuilds
each from its own copy of the locked cell and evaluates it on the test split. The reference for "correct" is
the instructor solution's own models (their accuracy measured here with the notebook's ``accuracy`` helper,
independently of the spec); forgeries are judged against it.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
import torch

from autograder import cells as nbcells
from autograder.notebook import without_magics
from autograder.sandbox import decode_records, encode_record, to_plain
from autograder.spec import load_spec, spec_path

ROOT = Path(__file__).resolve().parents[2]
A5 = "a5-adam-family"
FABRICATED = """
def run_experiment(lrs=(3e-3, 1e-2, 3e-2), epochs=5, batch_size=64, seed=0):
    return {name: {lr: {"train_loss": [2.0 - 0.3 * e for e in range(epochs)], "test_acc": 0.97} for lr in lrs}
            for name in ("Adam", "AdamW", "RAdam")}
"""


@pytest.fixture(scope="module")
def check():
    """The spec's experiment check."""
    return load_spec(spec_path(A5)).check("experiment")


@pytest.fixture
def ns() -> dict:
    """A fresh namespace of the instructor notebook's code cells up to the experiment (tests left out)."""
    nb = json.loads((ROOT / "assignments" / "source" / A5 / f"{A5}.ipynb").read_text())
    ns: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in nb["cells"]:
            if nbcells.grade_id(cell) == "experiment_plot":  # plots the test cell's results: not needed
                break
            if cell["cell_type"] == "code" and nbcells.kind(cell) != "tests":
                exec(without_magics("".join(cell["source"])), ns)
    return ns


def sandbox_side(check, ns: dict) -> dict:
    """The check's sandbox function on ``ns``, its result carried through the runner's record encoding."""
    with contextlib.redirect_stdout(io.StringIO()):
        out = check.run(ns, torch.device("cpu"), torch.float64)
    records, problem = decode_records(encode_record("check", "", to_plain(out)))
    assert problem is None
    return records[0]["data"]


def verdict(check, data: dict) -> list[str]:
    return check.compare(data, check.reference(torch.device("cpu"), torch.float64), (0.0, 0.0))


def test_the_solution_passes_and_its_models_are_the_ones_judged(check, ns) -> None:
    data = sandbox_side(check, ns)
    assert verdict(check, data) == []
    # the solution is seeded: run it again, recording its models here (the test's own record)
    made = []
    make_model = ns["make_model"]
    ns["make_model"] = lambda *a, **k: made.append(make_model(*a, **k)) or made[-1]
    ns["run_experiment"]()
    assert data["models"] == len(made) == 9
    # the reported accuracies are those of the student's own models, measured here with the notebook's helper
    mine = sorted(ns["accuracy"](m, ns["X_test"], ns["y_test"]) for m in made)
    reported = sorted(data[f"{n}.{i}.test_acc"] for n in ("Adam", "AdamW", "RAdam") for i in range(3))
    assert mine == reported
    assert max(mine) >= 0.90 > min(mine) - 0.5  # trained models: the check has something to tell apart


def test_fabricated_numbers_fail(check, ns) -> None:
    exec(FABRICATED, ns)
    data = sandbox_side(check, ns)
    assert data["models"] == 0
    assert any("built 0 models" in p for p in verdict(check, data))


def test_an_inflated_or_reused_accuracy_fails(check, ns) -> None:
    honest = sandbox_side(check, ns)
    inflated = dict(honest, **{"RAdam.0.test_acc": 0.99})
    problems = verdict(check, inflated)
    assert len(problems) == 1 and problems[0].startswith("RAdam, lr=0.003: the reported test_acc 0.99")
    # one model's accuracy claimed for two runs: only if the two models really have that accuracy
    accs = {k: honest[k] for k in honest if k.endswith(".test_acc")}
    src, dst = next((a, b) for a in accs for b in accs if accs[a] != accs[b])
    problems = verdict(check, dict(honest, **{dst: accs[src]}))
    assert len(problems) == 1 and "is not the test accuracy of any model" in problems[0]


def test_weights_that_are_not_the_models_fail(check, ns) -> None:
    honest = sandbox_side(check, ns)
    # a model's weights replaced by another shape, or missing: that model cannot be evaluated
    key = next(k for k in honest if k.startswith("model.0.w.") and k.endswith("weight"))
    assert any("does not fit" in p for p in verdict(check, dict(honest, **{key: honest[key][:-1]})))
    # the models sent back scrambled: the reported accuracies no longer match them
    scrambled = dict(honest)
    for j in range(9):
        for k in [k for k in honest if k.startswith(f"model.{j}.w.")]:
            scrambled[k] = honest[k] * 0.0
    assert len(verdict(check, scrambled)) >= 9


def test_an_extra_model_is_allowed(check, ns) -> None:
    exec(
        "_run = run_experiment\n"
        "def run_experiment(*a, **k):\n"
        "    make_model(1)  # e.g. to print the number of parameters\n"
        "    return _run(*a, **k)\n",
        ns,
    )
    data = sandbox_side(check, ns)
    assert data["models"] == 10
    assert verdict(check, data) == []
