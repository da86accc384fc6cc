"""Red team, a4 and a5: the optimizers the assignments ask for, taken from torch at run time.

Each attacker's notebook is the blank release except for its delegation: torch.optim's classes reached through
strings, ``vars``, ``pickle`` or ``Optimizer.__subclasses__()``; torch.optim's functional kernels driven by an
optimizer of the student's own; the fused CPU kernels (``aten::_fused_adagrad_``, ``_fused_adam_``,
``_fused_adamw_``); torch's own ``radam.py`` executed from disk; and for a5's experiment, fabricated numbers or
torch.optim's optimizers in place of the student's. Every one of them gets the targeted cells' points under stock
``nbgrader autograde`` (checked when they were written); none may score more than the blank release.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from students import attacks as A
from students import kit

# One grading run per module, shared by its tests (minutes on a loaded 2-core machine).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
CASES = {
    kit.A4: {
        "a4-delegate-names": A.A4_DELEGATE_NAMES,
        "a4-delegate-kernels": A.A4_DELEGATE_KERNELS,
    },
    kit.A5: {
        "a5-delegate-names": A.A5_DELEGATE_NAMES,
        "a5-delegate-kernels": A.A5_DELEGATE_KERNELS,
        "a5-fabricated-experiment": {"experiment": A.A5_FABRICATED_EXPERIMENT},
        "a5-experiment-with-torch": {"experiment": A.A5_EXPERIMENT_WITH_TORCH},
    },
}
PARAMS = [(a, s) for a, students in CASES.items() for s in students]
# Cells that only exercise what the attacker wrote itself (its own constructor's argument checks).
OWN = {"a5-delegate-kernels": {"test_adam_errors"}}


@pytest.fixture(scope="module")
def delegation_runs(tmp_path_factory: pytest.TempPathFactory, generated_assignment):
    base = tmp_path_factory.mktemp("redteam-delegation")
    courses = {}
    for assignment, students in CASES.items():
        course = kit.course_copy(generated_assignment, assignment, base, f"course-{assignment}")
        kit.submit(course, assignment, "blank", kit.release_notebook(assignment, course))
        kit.submit(
            course, assignment, "solution", kit.build(assignment, course, kit.solution_cells(assignment))
        )
        for student, cells in students.items():
            kit.submit(course, assignment, student, kit.build(assignment, course, cells))
        courses[assignment] = course
    # a4's and a5's runs side by side: each grader's start-up overlaps the other's grading
    with ThreadPoolExecutor(len(courses)) as pool:
        runs = {
            a: pool.submit(kit.autograde, course, a, "--workers", "2", timeout=600)
            for a, course in courses.items()
        }
        return {a: (courses[a], run.result()) for a, run in runs.items()}


@pytest.mark.parametrize("assignment", sorted(CASES))
def test_the_run_completes_and_the_controls_keep_their_grades(delegation_runs, assignment: str) -> None:
    course, graded = delegation_runs[assignment]
    assert graded.returncode == 0 and not graded.timed_out, graded.describe()
    got = kit.scores(course)
    points = kit.autograded_points(assignment)
    assert {g: got.get("solution", {}).get(g) for g in points} == points, graded.describe()
    assert {g: got.get("blank", {}).get(g) for g in points} == {g: 0.0 for g in points}, graded.describe()


@pytest.mark.parametrize(("assignment", "student"), PARAMS)
def test_delegation_scores_no_more_than_blank(delegation_runs, assignment: str, student: str) -> None:
    course, graded = delegation_runs[assignment]
    got = kit.scores(course)
    points = kit.autograded_points(assignment)
    blank, mine = got.get("blank", {}), got.get(student, {})
    assert set(blank) >= set(points) and set(mine) >= set(points), f"not graded\n{graded.describe()}"
    over = {
        g: (mine[g], blank[g])
        for g in set(points) - OWN.get(student, set())
        if (mine[g] or 0) > (blank[g] or 0)
    }
    result = kit.json_of(course / "autograded" / student / assignment / "autograder.json") or {}
    assert not over, f"{student} beat the blank release (score, blank): {over}\n{json.dumps(result)[:3000]}"
