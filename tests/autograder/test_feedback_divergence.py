"""Feedback on a lockstep optimizer check leads with the earliest divergence, at full precision; hidden checks show
their name and verdict only. Unit tests on small hand-built trajectories (no grading run)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from nbgrader.validator import Validator

from autograder.optim_checks import DEFAULT_SHAPES, LockstepCompare, checks_from_notebook, trajectory
from autograder.replay import _raised_in_hidden_tests
from autograder.reports import _plot_png, render_feedback
from autograder.sandbox import to_plain
from autograder.spec import Check, Spec, Tolerance, compare_outputs
from autograder.verdicts import cell_verdict, public_messages

RTOL, ATOL = 1e-9, 1e-12
SHAPES = ((5,), (4, 3))  # parameter 1 is a 4 x 3 matrix
A3 = (
    Path(__file__).resolve().parents[2]
    / "assignments"
    / "source"
    / "a3-sgd-momentum-schedules"
    / "a3-sgd-momentum-schedules.ipynb"
)


def reference(shapes=SHAPES, **kw) -> dict:
    """torch.optim.SGD's lockstep trajectory (7 steps, momentum), as the grader receives it."""
    return to_plain(trajectory(torch.optim.SGD, torch.device("cpu"), torch.float64, shapes=shapes, **kw))


def copy(data: dict) -> dict:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in data.items()}


def nudge(data: dict, key: str, step: int, flat: int, rel: float) -> tuple[float, float]:
    """Multiply entry ``flat`` of ``key`` after step t = ``step`` by (1 + rel); returns (expected, got)."""
    expected = float(data[key][step - 1, flat])
    data[key][step - 1, flat] = expected * (1 + rel)
    return expected, float(data[key][step - 1, flat])


def number_after(label: str, text: str) -> float:
    m = re.search(re.escape(label) + r"\s*([-+0-9.e]+)", text)
    assert m, f"{label!r} not in {text!r}"
    return float(m.group(1).rstrip("."))


def test_the_earliest_divergence_leads_at_full_precision() -> None:
    ref = reference(momentum=0.9, lr=0.1)
    got = copy(ref)
    # the earliest: step t = 3, parameter 1, entry (2, 0) = flat 6, off in the 8th significant digit
    expected, wrong = nudge(got, "theta1", 3, 6, 5e-8)
    nudge(got, "theta1", 3, 10, 1e-3)  # same step and parameter, later entry (3, 1)
    nudge(got, "state1.momentum_buffer", 3, 0, 1e-3)  # same step and parameter: its state comes after it
    nudge(got, "state0.momentum_buffer", 4, 0, 1e-3)  # a later step, although parameter 0
    nudge(got, "theta0", 5, 2, 1e-3)
    assert f"{expected:.6g}" == f"{wrong:.6g}"  # six digits would print the two values alike

    (msg,) = LockstepCompare(SHAPES)(got, ref, (RTOL, ATOL))
    first = msg.splitlines()[0]
    assert first.startswith("step t = 3: parameter 1 differs by ")
    assert "at index (2, 0)" in first and "shape (4, 3)" in first
    assert f"expected {expected!r}, got {wrong!r}" in first  # repr: the shortest text that round-trips
    assert abs(number_after("differs by", first) - abs(wrong - expected)) <= 1e-3 * abs(wrong - expected)
    rel = abs(wrong - expected) / abs(expected)
    assert abs(number_after("relative error", first) - rel) <= 1e-2 * rel
    assert abs(number_after("rtol·|expected| =", first) - (ATOL + RTOL * abs(expected))) <= 1e-2 * (
        ATOL + RTOL * abs(expected)
    )
    assert f"atol={ATOL:g}, rtol={RTOL:g}" in first
    assert "t-1" not in msg and "theta" not in msg
    # the others are listed after it, each at its own first step
    assert "state['momentum_buffer'] of parameter 1 from step t = 3" in msg
    assert "state['momentum_buffer'] of parameter 0 from step t = 4" in msg
    assert "parameter 0 from step t = 5" in msg

    # nbgrader validate cuts each line of an error at 87 characters (its indent included): what survives
    # still says where and by how much
    cut = Validator()._indent(first).strip()
    assert cut.endswith("...") and len(cut) < len(first)
    assert "step t = 3: parameter 1 differs by" in cut
    assert abs(number_after("differs by", cut) - abs(wrong - expected)) <= 1e-3 * abs(wrong - expected)


@pytest.mark.parametrize(
    ("nudges", "lead"),
    [
        # same step: parameter 0's state comes before parameter 1
        (
            [("theta1", 2, 0), ("state0.momentum_buffer", 2, 3)],
            "step t = 2: state['momentum_buffer'] of parameter 0",
        ),
        # same step and parameter: the value before its state
        ([("state0.momentum_buffer", 2, 0), ("theta0", 2, 4)], "step t = 2: parameter 0 differs"),
        # smallest step first, whatever the parameter
        ([("theta0", 4, 0), ("theta1", 1, 11)], "step t = 1: parameter 1 differs"),
    ],
)
def test_earliest_means_step_then_parameter_then_state(nudges, lead) -> None:
    ref = reference(momentum=0.9, lr=0.1)
    got = copy(ref)
    for key, step, flat in nudges:
        nudge(got, key, step, flat, 1e-4)
    (msg,) = LockstepCompare(SHAPES)(got, ref, (RTOL, ATOL))
    assert msg.startswith(lead), msg


def test_state_keys_and_scalar_state_use_torch_names() -> None:
    ref = reference(momentum=0.9, lr=0.1)
    got = copy(ref)
    got["state_keys"] = got["state_keys"].replace("1:momentum_buffer", "1:", 1)  # parameter 1, step 1
    (msg,) = LockstepCompare(SHAPES)(got, ref, (RTOL, ATOL))
    assert msg.startswith(
        "step t = 1: the state of parameter 1 has keys [], torch.optim has ['momentum_buffer']"
    )

    adam = to_plain(trajectory(torch.optim.Adam, torch.device("cpu"), torch.float64, lr=0.01))
    wrong = copy(adam)
    wrong["state0.step"][2, 0] += 1.0  # a count, one number per step: no index
    (msg,) = LockstepCompare(DEFAULT_SHAPES)(wrong, adam, (RTOL, ATOL))
    assert msg.startswith("step t = 3: state['step'] of parameter 0 differs by 1.000e+00 (relative error")
    assert "expected 3.0, got 4.0" in msg and "index" not in msg.splitlines()[0]


def test_a_real_bug_is_caught_at_step_1() -> None:
    class DampenedSGD(torch.optim.SGD):  # averages into the buffer instead of accumulating: b_1 = 0.1 g_1
        def __init__(self, params, **kw):
            super().__init__(params, dampening=0.9, **kw)

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    buf = state.setdefault("momentum_buffer", torch.zeros_like(p))
                    buf.mul_(group["momentum"]).add_(p.grad, alpha=1 - group["dampening"])
                    p.add_(buf, alpha=-group["lr"])

    ref = reference(shapes=DEFAULT_SHAPES, momentum=0.9, lr=0.1)
    got = to_plain(
        trajectory(
            DampenedSGD, torch.device("cpu"), torch.float64, shapes=DEFAULT_SHAPES, momentum=0.9, lr=0.1
        )
    )
    (msg,) = LockstepCompare(DEFAULT_SHAPES)(got, ref, (RTOL, ATOL))
    assert msg.startswith("step t = 1: parameter 0 differs by ") and "at index (0, 0)" in msg
    assert f"expected {float(ref['theta0'][0, 0])!r}, got {float(got['theta0'][0, 0])!r}" in msg
    assert LockstepCompare(DEFAULT_SHAPES)(ref, ref, (RTOL, ATOL)) == []


def test_the_plot_shows_the_entry_that_diverged() -> None:
    ref = reference(momentum=0.9, lr=0.1)
    got = copy(ref)
    nudge(got, "state1.momentum_buffer", 3, 6, 1e-3)
    nudge(got, "theta0", 6, 0, 1e-3)
    plot = LockstepCompare(SHAPES).plot(got, ref, (RTOL, ATOL))
    assert plot["label"] == "state['momentum_buffer'] of parameter 1 at index (2, 0)"
    assert plot["first_step"] == 3
    assert plot["reference"] == ref["state1.momentum_buffer"][:, 6].tolist()
    assert plot["student"] == got["state1.momentum_buffer"][:, 6].tolist()
    assert plot["bound"] == pytest.approx([ATOL + RTOL * abs(r) for r in plot["reference"]])
    assert base64.b64decode(_plot_png(plot, "t")).startswith(b"\x89PNG")
    assert LockstepCompare(SHAPES).plot(ref, ref, (RTOL, ATOL)) is None


def test_generic_comparison_prints_full_precision() -> None:
    (msg,) = compare_outputs({"y": np.array([0.1 + 2e-9])}, {"y": np.array([0.1])}, (1e-9, 0.0))
    assert f"expected 0.1, got {0.1 + 2e-9!r}" in msg


def _spec() -> Spec:
    def run(ns, dev, dt):
        return {}

    return Spec(
        "hw",
        "hw",
        ["impl"],
        [
            Check("visible-0", "test_a", run, run, "SGD(lr=0.1) vs torch.optim.SGD"),
            Check("visible-1", "test_a", run, run, "passes"),
            Check("secret-0", "test_a", run, run, "SGD (a hidden test of test_a)", hidden=True),
            Check("passing-0", "test_b", run, run, "passes"),
        ],
    )


RESULT = {
    "student": "ann",
    "devices": ["cpu"],
    "problems": [],
    "stdout": "",
    "outcomes": [
        {
            "name": "passing-0",
            "grade_id": "test_b",
            "device": "cpu",
            "dtype": "float64",
            "passed": True,
            "messages": [],
        },
        {
            "name": "visible-1",
            "grade_id": "test_a",
            "device": "cpu",
            "dtype": "float64",
            "passed": True,
            "messages": [],
        },
        {
            "name": "secret-0",
            "grade_id": "test_a",
            "device": "cpu",
            "dtype": "float64",
            "passed": False,
            "messages": ["step t = 2: parameter 0 differs by 1e-3: expected 0.123456789 with nesterov=True"],
            "plot": {"reference": [1.0, 2.0], "student": [1.0, 2.5], "label": "parameter 0 at index (0,)"},
        },
        {
            "name": "visible-0",
            "grade_id": "test_a",
            "device": "cpu",
            "dtype": "float64",
            "passed": False,
            "messages": ["step t = 4: parameter 1 differs by 2.000e-02 at index (1,)"],
            "plot": {"reference": [1.0, 2.0], "student": [1.0, 2.5], "label": "parameter 1 at index (1,)"},
        },
    ],
}


def test_feedback_puts_failures_first_and_shows_hidden_checks_by_name_and_verdict_only() -> None:
    page = render_feedback(
        json.loads(json.dumps(RESULT)),
        _spec(),
        {"test_a": 0.0, "test_b": 1.0},
        {"test_a": 2.0, "test_b": 1.0},
    )
    for secret in ("0.123456789", "nesterov", "step t = 2", "a hidden test of"):
        assert secret not in page
    assert "secret-0 (cpu, float64): <span class='fail'>failed</span> <i>(hidden test)</i>" in page
    assert "step t = 4: parameter 1 differs by 2.000e-02" in page
    failed, passed = page.index("Failed checks (2)"), page.index("Passed checks (2)")
    assert (
        failed
        < page.index("visible-0 (cpu")
        < passed
        < page.index("<details>")
        < page.index("passing-0 (cpu")
    )
    assert page.count("data:image/png;base64,") == 1  # the visible failure's plot only

    assert public_messages(RESULT["outcomes"][2], _spec()) == [
        "failed (a hidden test: its arguments and values are not shown)"
    ]
    ok, lines = cell_verdict(RESULT, _spec(), "test_a", 0.0, 2.0)
    assert ok is False and lines[0] == "FAILED: 2 of 3 check(s) of this cell failed. Score: 0 / 2."
    assert "0.123456789" not in "\n".join(lines) and any(
        line.startswith("secret-0 (cpu, float64): failed") for line in lines
    )
    # a visible failure's message starts its own line (nbgrader validate-style cuts keep where and how much)
    at = lines.index("visible-0 (cpu, float64):")
    assert lines[at + 1] == "step t = 4: parameter 1 differs by 2.000e-02 at index (1,)"
    assert cell_verdict(RESULT, _spec(), "test_b", 1.0, 1.0) == (
        True,
        ["PASSED: all 1 check(s) of this cell passed. Score: 1 / 1."],
    )


def test_checks_from_hidden_tests_are_hidden_and_carry_no_arguments() -> None:
    nb = json.loads(A3.read_text())
    hidden_calls = 0
    for cell in nb["cells"]:
        if not cell["metadata"].get("nbgrader", {}).get("grade"):
            continue
        inside = False
        for line in "".join(cell["source"]).splitlines():
            inside = (inside or "BEGIN HIDDEN TESTS" in line) and "END HIDDEN TESTS" not in line
            if inside and re.match(
                r"\s*(check_against_torch|check_same_error|check_defaults|check_state_dict_roundtrip)\(", line
            ):
                hidden_calls += 1
    checks = checks_from_notebook(A3, Tolerance(rtol=RTOL, atol=ATOL))
    hidden = [c for c in checks if c.hidden]
    assert hidden_calls > 0 and len(hidden) == hidden_calls
    for c in hidden:
        assert "=" not in c.description.split(" vs ")[0] and "a hidden test of" in c.description
    lockstep = [c for c in checks if isinstance(c.compare, LockstepCompare)]
    assert lockstep and all("t-1" not in c.description for c in checks)


def test_a_failed_hidden_assert_in_a_replayed_cell_is_not_shown() -> None:
    source = "x = 1\nassert x == 1, 'visible'\n### BEGIN HIDDEN TESTS\nassert x == 2, f'secret {x}'\n### END HIDDEN TESTS\n"
    with pytest.raises(AssertionError) as hidden:
        exec(compile(source, "<test c>", "exec"), {})
    assert _raised_in_hidden_tests(hidden.value, source, "<test c>")
    with pytest.raises(AssertionError) as visible:
        exec(compile(source.replace("x == 1", "x == 3"), "<test c>", "exec"), {})
    assert not _raised_in_hidden_tests(visible.value, source, "<test c>")
