"""The nbgrader assignments, graded end to end by stock nbgrader in a copy of the course directory.

For every assignment: the source notebook validates, ``generate_assignment`` works, and one ``autograde`` call
grades three kinds of students at once: ``blank`` (the released notebook, untouched) scores 0 without crashing the
run, ``solution`` (the instructor notebook) earns every autograded point, and each ``wrong_*`` student (the solution
with one deliberately wrong option) loses exactly the points of the grade cells that cover that option, read from
the notebook's nbgrader metadata.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "assignments"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(COURSE / "tools"))

import build_notebooks  # noqa: E402  (the notebooks' generator, next to the course)

ASSIGNMENTS = sorted(p.name for p in (COURSE / "source").iterdir() if p.is_dir())
FEEDBACK_ASSIGNMENT = "a3-sgd-momentum-schedules"
NBGRADER_PRODUCTS = ("release", "submitted", "autograded", "feedback", "gradebook.db")


@dataclass(frozen=True)
class Mutation:
    """One deliberately wrong option: replace ``old`` by ``new`` in solution cell ``cell``."""

    student: str
    cell: str
    old: str
    new: str
    breaks: frozenset[str]


def _m(student: str, cell: str, old: str, new: str, *breaks: str) -> Mutation:
    return Mutation(student, cell, old, new, frozenset(breaks))


MUTATIONS: dict[str, list[Mutation]] = {
    "a1-erm-losses-cv": [
        # k-fold split with the larger folds at the end instead of the beginning (differs when k does not divide n).
        _m("wrong_kfold", "cross_validation", "sizes[: n % k] += 1", "sizes[k - n % k :] += 1", "test_kfold"),
        # Logistic derivative with its two branches swapped: wrong gradients, so gradient descent fails too.
        _m(
            "wrong_logistic_grad",
            "losses",
            "np.where(z >= 0, -e / (1.0 + e), -1.0 / (1.0 + e))",
            "np.where(z >= 0, -1.0 / (1.0 + e), -e / (1.0 + e))",
            "test_logistic",
            "test_fit_logistic",
        ),
    ],
    "a2-bias-variance-ensembles": [
        # Variance with divisor n_datasets - 1: the decomposition mse = bias2 + variance no longer holds.
        _m(
            "wrong_variance_ddof",
            "bias_variance",
            "np.mean(preds.var(axis=0))",
            "np.mean(preds.var(axis=0, ddof=1))",
            "test_bias_variance",
        ),
        # Real-AdaBoost's factor 1/2 in the estimator weight: not SAMME.
        _m(
            "wrong_alpha",
            "adaboost",
            "alpha = np.log((1 - err) / err)",
            "alpha = 0.5 * np.log((1 - err) / err)",
            "test_adaboost",
        ),
    ],
    "a3-sgd-momentum-schedules": [
        # Nesterov's look-ahead with the roles of g_t and b_t swapped.
        _m(
            "wrong_nesterov",
            "sgd",
            "g = g.add(buf, alpha=mu)",
            "g = buf.add(g, alpha=mu)",
            "test_sgd_nesterov",
        ),
        # Warm-up one step ahead of torch's LinearLR.
        _m(
            "wrong_warmup",
            "schedules",
            "(1 - start_factor) * k / warmup_steps",
            "(1 - start_factor) * (k + 1) / warmup_steps",
            "test_warmup_cosine",
        ),
    ],
    "a4-adaptive-optimizers": [
        # Centered RMSprop that forgets to subtract the squared mean gradient.
        _m(
            "wrong_centered",
            "rmsprop",
            "avg = v.addcmul(grad_avg, grad_avg, value=-1).sqrt_()",
            "avg = v.sqrt()",
            "test_rmsprop_centered",
        ),
        # Adagrad's learning-rate decay one step ahead.
        _m(
            "wrong_lr_decay",
            "adagrad",
            'clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])',
            'clr = group["lr"] / (1 + t * group["lr_decay"])',
            "test_adagrad_lr_decay",
        ),
    ],
    "a5-adam-family": [
        # Adam without the bias correction of the first moment: every cell that runs Adam or AdamW fails.
        _m(
            "wrong_bias_correction",
            "adam",
            "step_size = lr / bias_correction1",
            "step_size = lr",
            "test_adam",
            "test_adam_amsgrad",
            "test_adam_weight_decay",
            "test_adam_maximize",
            "test_adam_api",
            "test_adamw",
        ),
        # Decoupled weight decay not scaled by the learning rate: only AdamW's cell covers it.
        _m("wrong_adamw_decay", "adam", "p.mul_(1 - lr * wd)", "p.mul_(1 - wd)", "test_adamw"),
    ],
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # nbgrader shells out to `alembic`: the venv's bin directory must come first on PATH.
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
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
    out = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            autograded = cell.cell_type == "code" and not meta.get("solution", False)
            out[meta["grade_id"]] = (float(meta["points"]), autograded)
    return out


def source_notebook(assignment: str) -> Path:
    return COURSE / "source" / assignment / f"{assignment}.ipynb"


def mutate(nb: nbformat.NotebookNode, mutation: Mutation) -> nbformat.NotebookNode:
    """A copy of ``nb`` with ``mutation`` applied to exactly one place of its solution cell."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == mutation.cell]
    assert len(cells) == 1, f"no unique cell {mutation.cell!r}"
    count = cells[0].source.count(mutation.old)
    assert count == 1, f"{mutation.student}: {mutation.old!r} occurs {count} times in cell {mutation.cell!r}"
    cells[0].source = cells[0].source.replace(mutation.old, mutation.new)
    return nb


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


def grade_assignment(course: Path, assignment: str) -> dict[str, dict[str, float | None]]:
    """Generate ``assignment``, submit blank/solution/wrong students, autograde them in ONE call.

    Returns the autograded score of every grade cell, by student.
    """
    nbgrader(course, "generate_assignment", assignment, "--force")
    released = course / "release" / assignment / f"{assignment}.ipynb"
    assert released.exists(), "generate_assignment wrote no release notebook"
    source = nbformat.read(source_notebook(assignment), as_version=4)
    students = {"blank": nbformat.read(released, as_version=4), "solution": source}
    for mutation in MUTATIONS.get(assignment, []):
        students[mutation.student] = mutate(source, mutation)
    for student, nb in students.items():
        path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
    nbgrader(course, "autograde", assignment, "--force")

    from nbgrader.api import Gradebook

    result: dict[str, dict[str, float | None]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in students:
            sub = gb.find_submission_notebook(assignment, assignment, student)
            result[student] = {g.name: g.auto_score for g in sub.grades}
    return result


@pytest.fixture(scope="session")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future]]:
    """Start the nbgrader work the selected tests need, two jobs at a time (nbgrader itself is serial).

    Each job has its own copy of the course (its own gradebook.db). Keys: ``"validate"`` and the assignment names;
    values: futures of :func:`validate_all` and of ``(course, grades)``.
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

    def job(name: str, dest: Path):
        course = copy_course(dest)
        return validate_all(course) if name == "validate" else (course, grade_assignment(course, name))

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


def test_notebooks_and_points_table_match_their_generator(capsys: pytest.CaptureFixture) -> None:
    assert [m.NAME for m in build_notebooks.available()] == ASSIGNMENTS
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
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            assert meta["locked"] and meta["grade_id"].startswith("test_"), meta
        if meta.get("solution") and cell.cell_type == "code":
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
    for mutation in MUTATIONS.get(assignment, []):
        assert mutation.breaks <= set(cells), f"{mutation.student} names unknown grade cells"


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
