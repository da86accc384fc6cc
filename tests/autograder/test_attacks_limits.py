"""Red team, limits: a fake heartbeat, stalled cells and a notebook that never finishes reading.

Issue 11 measured a fake heartbeat keeping a "5 s" check alive for 240 s and two stalled cells making one a3
submission take 496 s. The grader must hold a total budget per submission that no record of the student's can
extend. The yardstick is stock nbgrader under the course's own configuration (``c.Execute.timeout = 120`` s per
cell): two stalled cells cost it 240 s. ``BUDGET_S`` allows the whole run those 240 s plus 60 s for start-up and the
quick students (two workers, so the two slow students run side by side). The quick ones are the blank release, the
solution and a notebook that is a FIFO nobody writes to (reading it would block forever): one grading run, shared
by the module's tests.
"""

from __future__ import annotations

import os

import pytest
from students import attacks as A
from students import kit

# One grading run per module, shared by its tests (minutes on a loaded 2-core machine).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
ASSIGNMENT = kit.A3
POINTS = kit.autograded_points(ASSIGNMENT)
BUDGET_S = 240.0 + 60.0
SGD_CELLS = {g for g in POINTS if g.startswith("test_sgd")}


@pytest.fixture(scope="module")
def limits_run(tmp_path_factory: pytest.TempPathFactory, generated_assignment):
    base = tmp_path_factory.mktemp("redteam-limits")
    course = kit.course_copy(generated_assignment, ASSIGNMENT, base, "course")
    solution = kit.solution_cells(ASSIGNMENT)
    kit.submit(course, ASSIGNMENT, "blank", kit.release_notebook(ASSIGNMENT, course))
    kit.submit(course, ASSIGNMENT, "solution", kit.build(ASSIGNMENT, course, solution))
    # The heartbeat student is otherwise correct: only its SGD hangs, while forging "check finished" records.
    kit.submit(
        course, ASSIGNMENT, "heartbeat", kit.build(ASSIGNMENT, course, {**solution, "sgd": A.HEARTBEAT_SGD})
    )
    stalled = {
        **solution,
        "schedules": A.STALL + solution["schedules"],
        "clipping": A.STALL + solution["clipping"],
    }
    kit.submit(course, ASSIGNMENT, "stalled-cells", kit.build(ASSIGNMENT, course, stalled))
    fifo = course / "submitted" / "fifo-notebook" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)  # opening it for reading blocks until someone writes: a grader must not wait for that
    graded = kit.autograde(course, ASSIGNMENT, "--workers", "2", timeout=2 * BUDGET_S)
    return course, graded


def test_a_fake_heartbeat_and_stalled_cells_stay_within_the_budget(limits_run) -> None:
    course, graded = limits_run
    assert not graded.timed_out and graded.seconds <= BUDGET_S, graded.describe()
    assert graded.returncode == 0, graded.describe()


def test_slow_students_score_no_more_than_blank_where_they_hang(limits_run) -> None:
    course, graded = limits_run
    got = kit.scores(course)
    assert got.get("solution") == POINTS, (got.get("solution"), graded.describe())
    blank = got.get("blank", {})
    over = {
        g: got.get("heartbeat", {}).get(g)
        for g in SGD_CELLS
        if (got.get("heartbeat", {}).get(g) or 0) > blank[g]
    }
    assert not over, f"the heartbeat student beat the blank release: {over}"
    stalled = got.get("stalled-cells", {})
    for cell in ("test_step_lr", "test_warmup_cosine", "test_clip_grad_norm"):
        assert (stalled.get(cell) or 0) <= blank[cell], (cell, stalled)
    # The rest of the stalled notebook is graded (the cells that do not need the stalled ones keep their points).
    assert stalled.get("test_sgd_plain") == POINTS["test_sgd_plain"], stalled


def test_a_notebook_that_is_a_fifo_does_not_hang_the_grader(limits_run) -> None:
    course, graded = limits_run
    assert not graded.timed_out and graded.returncode == 0, graded.describe()
    got = kit.scores(course)
    assert got.get("solution") == POINTS, got.get("solution")
    assert all((got.get("fifo-notebook", {}).get(g) or 0) == 0 for g in POINTS), got.get("fifo-notebook")
