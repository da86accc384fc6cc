"""Fairness: honest students get exactly what stock ``nbgrader autograde`` gives them, cell by cell.

Thirteen independent implementations of a3, a4 and a5 (``students/honest_a*.py``; none derived from the instructor
solution): some fully correct in a style of their own (numpy floats, helper cells the student added, names imported
by a locked cell, comments and docstrings naming torch.optim, a class hierarchy, ``torch._foreach_`` arithmetic),
the others with one typical mistake each. Per assignment, one course copy is graded by stock nbgrader and another
by ``autograder grade --workers 2``; the three stock runs and ours all at the same time (so the autograder also
grades under load).

The one documented difference: stock nbgrader scores 0 for a grade cell that writes to stderr, the autograder does
not; such cells (read from stock's autograded notebook) are left out of the comparison. None of these students is
meant to trigger it, and the test says so if one does.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from students import honest_a3, honest_a4, honest_a5, kit

# One grading run per module, shared by its tests (minutes on a loaded 2-core machine).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
STUDENTS = {kit.A3: honest_a3.STUDENTS, kit.A4: honest_a4.STUDENTS, kit.A5: honest_a5.STUDENTS}
PARAMS = [(a, s) for a, students in STUDENTS.items() for s in students]


def _stderr_cells(course, assignment: str, student: str) -> set[str]:
    """Grade cells whose output in stock nbgrader's autograded notebook includes stderr."""
    path = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    out = set()
    for cell in nbformat.read(path, as_version=4).cells:
        gid = kit.grade_id(cell)
        if gid and any(
            o.get("output_type") == "stream" and o.get("name") == "stderr" for o in cell.get("outputs", [])
        ):
            out.add(gid)
    return out


@pytest.fixture(scope="module")
def fairness(tmp_path_factory: pytest.TempPathFactory, generated_assignment):
    base = tmp_path_factory.mktemp("fairness")
    with ThreadPoolExecutor(2) as pool:  # generated once per session; here if no earlier module needed them
        list(pool.map(generated_assignment, STUDENTS))
    courses = {}
    for assignment, students in STUDENTS.items():
        ours = kit.course_copy(generated_assignment, assignment, base, f"ours-{assignment}")
        stock = kit.course_copy(generated_assignment, assignment, base, f"stock-{assignment}")
        for student, how in students.items():
            nb = kit.build(assignment, ours, how["cells"], how.get("added"))
            kit.submit(ours, assignment, student, nb)
            kit.submit(stock, assignment, student, nb)
        courses[assignment] = (ours, stock)

    # Stock nbgrader grades one submission at a time: one stock run per assignment, all at once, beside ours.
    with ThreadPoolExecutor(1 + len(courses)) as pool:
        ours_future = pool.submit(
            lambda: {a: kit.autograde(ours, a, "--workers", "2") for a, (ours, _) in courses.items()}
        )
        stock_futures = {a: pool.submit(kit.stock_autograde, stock, a) for a, (_, stock) in courses.items()}
        our_runs = ours_future.result()
        stock_runs = {a: future.result() for a, future in stock_futures.items()}
    out = {}
    for assignment, (ours, stock) in courses.items():
        assert stock_runs[assignment].returncode == 0, stock_runs[assignment].describe()
        out[assignment] = {
            "ours": kit.scores(ours),
            "stock": kit.scores(stock),
            "run": our_runs[assignment],
            "stderr": {s: _stderr_cells(stock, assignment, s) for s in STUDENTS[assignment]},
            "course": ours,
        }
    return out


@pytest.mark.parametrize(("assignment", "student"), PARAMS)
def test_honest_student_gets_what_stock_nbgrader_gives(fairness, assignment: str, student: str) -> None:
    got = fairness[assignment]
    run = got["run"]
    assert run.returncode == 0 and not run.timed_out, run.describe()
    points = kit.autograded_points(assignment)
    stock = {g: got["stock"].get(student, {}).get(g) for g in points}
    ours = {g: got["ours"].get(student, {}).get(g) for g in points}
    # The fixtures themselves: correct students earn everything from stock nbgrader, each mistake costs points.
    if STUDENTS[assignment][student]["about"].startswith("correct"):
        assert stock == points, f"fixture {student} is not correct under stock nbgrader: {stock}"
    else:
        assert sum(stock.values()) < sum(points.values()), (
            f"fixture {student}'s mistake costs nothing: {stock}"
        )
    skip = got["stderr"][student]
    differ = {
        g: {"autograder": ours[g], "stock nbgrader": stock[g]}
        for g in points
        if g not in skip and ours[g] != stock[g]
    }
    result = kit.json_of(got["course"] / "autograded" / student / assignment / "autograder.json") or {}
    messages = [
        m[:400]
        for o in result.get("outcomes", [])
        if not o.get("passed", True)
        for m in o.get("messages", [])
    ]
    assert not differ, (
        f"{student} ({STUDENTS[assignment][student]['about']}): autograder and stock nbgrader disagree: {differ}\n"
        f"autograder's messages: {messages[:8]}\nproblems: {result.get('problems', [])[:5]}"
    )
    assert not skip, (
        f"{student}: stock nbgrader saw stderr in {sorted(skip)} (documented difference, not compared)"
    )
