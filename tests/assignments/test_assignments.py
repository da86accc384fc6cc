"""The nbgrader assignments, graded end to end by stock nbgrader in a copy of the course directory.

For every assignment: the source notebook validates, ``generate_assignment`` works, and one ``autograde`` call
grades three kinds of students at once: ``blank`` (the released notebook, untouched) scores 0 without crashing the
run, ``solution`` (the instructor notebook) earns every autograded point, and each ``wrong_*`` student (the solution
with one deliberately wrong option) loses exactly the points of the grade cells that cover that option, read from
the notebook's nbgrader metadata.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
from helpers.courses import copy_course as copy_generated
from helpers.nbgrader import env as nbgrader_env

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "assignments"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(COURSE / "tools"))

import build_notebooks  # noqa: E402  (builds the notebooks from assignments/notebooks/*.md)
from mutations import MUTATIONS, Mutation, mutate  # noqa: E402

from autograder import cells as nbcells  # noqa: E402

ASSIGNMENTS = sorted(p.name for p in (COURSE / "source").iterdir() if p.is_dir())
FEEDBACK_ASSIGNMENT = "a3-sgd-momentum-schedules"
# A submission whose solution cell never finishes: with a short per-cell timeout it must be interrupted, lose the
# points of the cells that need what it defines, and the rest of the notebook must still be graded (this is what
# breaks when `interrupt_on_timeout` is set to False). a2's cells all run in seconds, so the timeout can be short:
# a2's one grading run (blank, solution, wrong options, hanging) uses it.
TIMEOUT_ASSIGNMENT = "a2-bias-variance-ensembles"
HANGING = Mutation(
    "hanging",
    "bootstrap",
    "def bootstrap_se(",
    "while True:  # never finishes\n    pass\n\n\ndef bootstrap_se(",
    frozenset({"test_bootstrap"}),
)
NBGRADER_PRODUCTS = ("release", "submitted", "autograded", "feedback", "gradebook.db")


def _env() -> dict[str, str]:
    env = nbgrader_env()  # the venv's bin directory first on PATH (nbgrader shells out to `alembic`)
    env.setdefault("MPLBACKEND", "Agg")
    # The notebooks' problems are tiny: BLAS/OpenMP thread pools only add contention on a 2-core machine.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    env["PYTHONHASHSEED"] = "0"
    return env


def nbgrader(course: Path, *args: str, timeout: float = 400) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in ``course``; fail the test with nbgrader's output if it exits non-zero."""
    proc = subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=course,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        pytest.fail(f"nbgrader {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def grade_cells(nb: nbformat.NotebookNode) -> dict[str, tuple[float, bool]]:
    """grade_id -> (points, autograded) for every grade cell of a notebook."""
    return {
        nbcells.grade_id(cell): (nbcells.points(cell), nbcells.kind(cell) == "tests")
        for cell in nbcells.of_kind(nb.cells, "tests", "manual")
    }


def source_notebook(assignment: str) -> Path:
    return COURSE / "source" / assignment / f"{assignment}.ipynb"


def copy_course(dest: Path) -> Path:
    """A copy of the course directory (config + sources) in ``dest``: nothing is written into the repository."""
    shutil.copy(COURSE / "nbgrader_config.py", dest / "nbgrader_config.py")
    shutil.copytree(COURSE / "source", dest / "source")
    for name in NBGRADER_PRODUCTS:
        assert not (dest / name).exists()
    return dest


def validate_all(course: Path) -> tuple[int, str]:
    """``nbgrader validate`` on every source notebook in one call: (number of notebooks, stdout)."""
    notebooks = [str(p.relative_to(course)) for p in sorted(course.glob("source/*/*.ipynb"))]
    return len(notebooks), nbgrader(course, "validate", *notebooks).stdout


def grade_assignment(
    course: Path, assignment: str, mutations: list[Mutation] | None = None, *options: str
) -> dict[str, dict[str, float | None]]:
    """In ``course`` (a copy of the generated assignment), submit blank/solution/wrong students, autograde them in
    ONE call.

    ``mutations`` defaults to the assignment's entry of ``MUTATIONS``; ``options`` are passed to autograde.
    Returns the autograded score of every grade cell, by student.
    """
    released = course / "release" / assignment / f"{assignment}.ipynb"
    source = nbformat.read(source_notebook(assignment), as_version=4)
    students = {"blank": nbformat.read(released, as_version=4), "solution": source}
    for mutation in MUTATIONS.get(assignment, []) if mutations is None else mutations:
        students[mutation.student] = mutate(source, mutation)
    for student, nb in students.items():
        path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
    nbgrader(course, "autograde", assignment, "--force", *options)

    from nbgrader.api import Gradebook

    result: dict[str, dict[str, float | None]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in students:
            sub = gb.find_submission_notebook(assignment, assignment, student)
            result[student] = {g.name: g.auto_score for g in sub.grades}
    return result


@pytest.fixture(scope="session")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, generated_assignment
) -> Iterator[dict[str, Future]]:
    """Start the nbgrader work the selected tests need, two jobs at a time (nbgrader itself is serial).

    Each job has its own copy of the course (its own gradebook.db), generated by stock ``generate_assignment``
    once per session (``generated_assignment``, shared with the autograder's tests). Keys: ``"validate"`` and the
    assignment names; values: futures of :func:`validate_all` and of ``(course, grades)``. The timeout
    assignment's run also grades the ``hanging`` student, under a 20 s per-cell timeout.
    """
    wanted: list[str] = []
    for item in request.session.items:
        if item.name == "test_every_source_notebook_validates" and "validate" not in wanted:
            wanted.insert(0, "validate")  # the longest job first
        callspec = getattr(item, "callspec", None)
        if callspec and "graded" in item.fixturenames and callspec.params["assignment"] not in wanted:
            wanted.append(callspec.params["assignment"])
        if item.name == "test_feedback_hides_hidden_tests" and FEEDBACK_ASSIGNMENT not in wanted:
            wanted.append(FEEDBACK_ASSIGNMENT)
        if (
            item.name == "test_a_hanging_cell_is_interrupted_and_the_rest_is_graded"
            and TIMEOUT_ASSIGNMENT not in wanted
        ):
            wanted.append(TIMEOUT_ASSIGNMENT)

    def job(name: str, dest: Path):
        if name == "validate":
            return validate_all(copy_course(dest))
        course = copy_generated(generated_assignment(name), dest / "course")
        if name == TIMEOUT_ASSIGNMENT:
            mutations = [*MUTATIONS.get(name, []), HANGING]
            return course, grade_assignment(course, name, mutations, "--Execute.timeout=20")
        return course, grade_assignment(course, name)

    pool = ThreadPoolExecutor(max_workers=2)
    futures = {name: pool.submit(job, name, tmp_path_factory.mktemp(name)) for name in wanted}
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def graded(runs: dict[str, Future]):
    """``graded(assignment)`` -> (course copy, grades by student), waiting for that assignment's job."""

    def get(assignment: str) -> tuple[Path, dict[str, dict[str, float | None]]]:
        return runs[assignment].result()

    return get


def test_notebooks_and_points_table_match_their_sources(capsys: pytest.CaptureFixture) -> None:
    assert [md.stem for md in build_notebooks.sources()] == ASSIGNMENTS  # discovered: one .md per assignment
    status = build_notebooks.main(["--check"])
    assert status == 0, capsys.readouterr().out  # names what to regenerate
    table = build_notebooks.points_table()
    assert table in (COURSE / "README.md").read_text()
    for assignment in ASSIGNMENTS:
        for gid, (points, _) in grade_cells(nbformat.read(source_notebook(assignment), as_version=4)).items():
            assert f"| {assignment} | `{gid}` |" in table and f"| {points:g} |" in table


def test_config_has_no_absolute_paths() -> None:
    text = (COURSE / "nbgrader_config.py").read_text()
    assert "/work" not in text and "sqlite:////" not in text
    assert "ClearHiddenTests" in text and "c.Execute.timeout" in text and '"optdl"' in text


def test_every_source_notebook_validates(runs: dict[str, Future]) -> None:
    count, stdout = runs["validate"].result()
    assert count == len(ASSIGNMENTS)
    assert stdout.count("Success! Your notebook passes all the tests.") == count, stdout


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_grade_cells_are_well_formed(assignment: str) -> None:
    nb = nbformat.read(source_notebook(assignment), as_version=4)
    cells = grade_cells(nb)
    assert sum(points for points, auto in cells.values() if auto) > 0
    for cell in nbcells.of_kind(nb.cells, "tests"):
        assert nbcells.nbgrader(cell)["locked"] and nbcells.grade_id(cell).startswith("test_"), cell.metadata
    for cell in nbcells.of_kind(nb.cells, "solution"):
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
    for mutation in MUTATIONS.get(assignment, []):
        assert mutation.breaks <= set(cells), f"{mutation.student} names unknown grade cells"
        wrong = mutate(nb, mutation)  # the snippet occurs exactly once in its solution cell
        changed = [nbcells.grade_id(a) for a, b in zip(wrong.cells, nb.cells) if a.source != b.source]
        assert changed == [mutation.cell]
    assert MUTATIONS.get(assignment), "every assignment has at least one wrong-option submission"


def test_mutate_rejects_a_snippet_that_is_not_in_the_solution() -> None:
    nb = nbformat.read(source_notebook(FEEDBACK_ASSIGNMENT), as_version=4)
    mutation = MUTATIONS[FEEDBACK_ASSIGNMENT][0]
    with pytest.raises(ValueError, match="occurs 0 times"):
        mutate(nb, replace(mutation, old="this text is not in the solution"))
    with pytest.raises(ValueError, match="0 cells have grade_id"):
        mutate(nb, replace(mutation, cell="no_such_cell"))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_autograde_blank_solution_and_wrong_options(assignment: str, graded) -> None:
    cells = grade_cells(nbformat.read(source_notebook(assignment), as_version=4))
    auto = {gid: pts for gid, (pts, is_auto) in cells.items() if is_auto}
    _, grades = graded(assignment)

    blank = grades["blank"]
    assert set(blank) == set(cells)
    assert {gid: blank[gid] for gid in cells} == dict.fromkeys(cells, 0.0), "the blank notebook must score 0"

    solution = grades["solution"]
    assert {gid: solution[gid] for gid in auto} == auto, "the instructor solution must earn every point"
    for gid in set(cells) - set(auto):
        assert solution[gid] is None, f"{gid} is graded manually"

    for mutation in MUTATIONS.get(assignment, []):
        got = grades[mutation.student]
        expected = {gid: (0.0 if gid in mutation.breaks else pts) for gid, pts in auto.items()}
        assert {gid: got[gid] for gid in auto} == expected, mutation.student
        lost = sum(auto.values()) - sum(got[gid] for gid in auto)
        assert lost == sum(cells[gid][0] for gid in mutation.breaks)


def test_feedback_hides_hidden_tests(graded) -> None:
    assignment = FEEDBACK_ASSIGNMENT
    course, _ = graded(assignment)
    nbgrader(course, "generate_feedback", assignment, "--student", "solution", "--force")
    html = (course / "feedback" / "solution" / assignment / f"{assignment}.html").read_text()
    released = (course / "release" / assignment / f"{assignment}.ipynb").read_text()
    source = source_notebook(assignment).read_text()
    assert "HIDDEN TESTS" not in html and "HIDDEN TESTS" not in released
    # check_state_dict_roundtrip is defined in a visible helper cell and called only by hidden tests
    token = "check_state_dict_roundtrip"
    assert source.count(token) > released.count(token) >= 1
    assert html.count(token) == released.count(token)


def test_a_hanging_cell_is_interrupted_and_the_rest_is_graded(runs: dict[str, Future]) -> None:
    course, grades = runs[TIMEOUT_ASSIGNMENT].result()
    graded_nb = course / "autograded" / "hanging" / TIMEOUT_ASSIGNMENT / f"{TIMEOUT_ASSIGNMENT}.ipynb"
    cell = next(
        c for c in nbformat.read(graded_nb, as_version=4).cells if nbcells.grade_id(c) == HANGING.cell
    )
    errors = [o.get("ename") for o in cell.outputs if o.output_type == "error"]
    assert errors and errors[0] in {"KeyboardInterrupt", "CellTimeoutError"}, (
        errors
    )  # interrupted, not crashed
    cells = grade_cells(nbformat.read(source_notebook(TIMEOUT_ASSIGNMENT), as_version=4))
    auto = {gid: pts for gid, (pts, is_auto) in cells.items() if is_auto}
    assert {gid: grades["solution"][gid] for gid in auto} == auto
    expected = {gid: (0.0 if gid in HANGING.breaks else pts) for gid, pts in auto.items()}
    assert {gid: grades["hanging"][gid] for gid in auto} == expected
