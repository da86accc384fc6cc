"""Helpers of the red-team and fairness tests: real course copies, submissions written as Python, both graders.

A submission is built from the *released* notebook of an assignment (what a student downloads): solution cells are
replaced by the student's code (by ``grade_id``), and cells the student added are inserted where a student would put
them. Grading goes through the public entry points only: ``autograder grade`` / ``autograder feedback`` (the CLI, in
a subprocess, with a grader environment that holds a secret token) and stock ``nbgrader autograde``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from helpers import nbgrader as nbgrader_helpers
from helpers.courses import copy_course
from helpers.nbgrader import scores  # noqa: F401  (the red-team and fairness tests read grades as kit.scores)

from autograder import cells as nbcells

ROOT = Path(__file__).resolve().parents[3]
COURSE = ROOT / "assignments"
BIN = Path(sys.executable).parent
A3 = "a3-sgd-momentum-schedules"
A4 = "a4-adaptive-optimizers"
A5 = "a5-adam-family"
# Set in the grader's environment only: no student may ever see it (the issue's /proc/self/environ leak).
SECRET_TOKEN = "rt-grader-token-5f0c2a9e7d1b4c38a6e2"
SECRET_ENV = "AUTOGRADER_REDTEAM_TOKEN"


def env(secret: bool = True) -> dict[str, str]:
    """Environment of the grader processes: the venv's bin first on PATH (nbgrader runs ``alembic``)."""
    e = nbgrader_helpers.env()
    e["PYTHONPATH"] = str(ROOT) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e["PYTHONHASHSEED"] = "0"
    e.setdefault("MPLBACKEND", "Agg")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        e[var] = "1"
    if secret:
        e[SECRET_ENV] = SECRET_TOKEN
    return e


def course_copy(generated_assignment, assignment: str, base: Path, name: str) -> Path:
    """A private copy (``base/name``) of the session's generated course of ``assignment`` (the fixture
    ``generated_assignment`` of tests/conftest.py)."""
    return copy_course(generated_assignment(assignment), base / name)


def release_notebook(assignment: str, course: Path) -> nbformat.NotebookNode:
    return nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)


def source_notebook(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(COURSE / "source" / assignment / f"{assignment}.ipynb", as_version=4)


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return nbcells.grade_id(cell)


def build(
    assignment: str,
    course: Path,
    cells: dict[str, str] | None = None,
    added: list[tuple[str, str]] | None = None,
) -> nbformat.NotebookNode:
    """The released notebook with the solution cells ``cells`` (grade_id → code) and, for every
    ``(after_grade_id, code)`` in ``added``, a plain code cell the student inserted right after that cell."""
    nb = release_notebook(assignment, course)
    cells = dict(cells or {})
    out = []
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in cells:
            cell.source = cells.pop(gid)
        out.append(cell)
        for after, code in added or []:
            if after == gid:
                out.append(nbformat.v4.new_code_cell(code))
    assert not cells, f"no such solution cells: {sorted(cells)}"
    nb.cells = out
    return nb


def submit(course: Path, assignment: str, student: str, nb: nbformat.NotebookNode | str | bytes) -> Path:
    """Write ``submitted/<student>/<assignment>/<assignment>.ipynb`` (a notebook, or raw text/bytes)."""
    path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, bytes):
        path.write_bytes(nb)
    elif isinstance(nb, str):
        path.write_text(nb, encoding="utf-8", errors="surrogatepass")
    else:
        nbformat.write(nb, path)
    (path.parent / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    return path


@dataclass
class Run:
    """A finished subprocess: exit status, output and wall time (``timed_out``: killed at the limit)."""

    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    argv: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"{' '.join(self.argv)}\nexit {self.returncode} after {self.seconds:.0f} s"
            f"{' (killed at the time limit)' if self.timed_out else ''}\n"
            f"--- stdout (tail)\n{self.stdout[-3000:]}\n--- stderr (tail)\n{self.stderr[-3000:]}"
        )


def run(argv: list[str], cwd: Path, timeout: float, secret: bool = True) -> Run:
    """Run a command in its own process group; on timeout kill the whole group (the grader and its sandboxes)."""
    start = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env(secret),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        timed_out = True
    return Run(
        proc.returncode,
        out.decode("utf-8", "replace"),
        err.decode("utf-8", "replace"),
        time.monotonic() - start,
        timed_out,
        [str(a) for a in argv],
    )


def autograde(course: Path, assignment: str, *options: str, timeout: float = 600) -> Run:
    """``autograder --course COURSE grade ASSIGNMENT --device cpu --force --no-progress OPTIONS``."""
    argv = [sys.executable, "-m", "autograder.cli", "--course", str(course), "grade", assignment]
    argv += ["--device", "cpu", "--force", "--no-progress", *options]
    return run(argv, ROOT, timeout)


def feedback(course: Path, assignment: str, timeout: float = 300) -> Run:
    """``autograder --course COURSE feedback ASSIGNMENT``."""
    argv = [sys.executable, "-m", "autograder.cli", "--course", str(course), "feedback", assignment]
    return run(argv, ROOT, timeout)


def stock_autograde(course: Path, assignment: str, timeout: float = 900) -> Run:
    """Stock ``nbgrader autograde ASSIGNMENT --force`` in the course directory."""
    return run([str(BIN / "nbgrader"), "autograde", assignment, "--force"], course, timeout, secret=False)


def autograded_points(assignment: str) -> dict[str, float]:
    """grade_id → points of every automatically graded cell of the assignment (from the source notebook)."""
    return {
        nbcells.grade_id(c): nbcells.points(c)
        for c in nbcells.of_kind(source_notebook(assignment).cells, "tests")
    }


def student_outputs(course: Path, assignment: str, student: str) -> str:
    """Everything the grader wrote about one student that a student or instructor can read (results, feedback,
    autograded copy), as one string."""
    parts = []
    for base in ("autograded", "feedback"):
        folder = course / base / student
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.is_symlink() and path.suffix != ".ipynb":
                    parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def hidden_secrets(assignment: str, release: nbformat.NotebookNode) -> list[str]:
    """Code that only the grader may know: every line of the hidden tests and of the assignment's grading spec
    (if it has one) that appears neither in the released notebook nor in the grader's public modules (stripped
    lines of 30+ characters; imports, comments and docstring delimiters excluded)."""
    public = {
        line.strip() for cell in release.cells for line in "".join(cell.source).splitlines() if line.strip()
    }
    lines: set[str] = set()
    for cell in source_notebook(assignment).cells:
        hidden = False
        for line in "".join(cell.source).splitlines():
            if "### BEGIN HIDDEN TESTS" in line:
                hidden = True
            elif "### END HIDDEN TESTS" in line:
                hidden = False
            elif hidden:
                lines.add(line.strip())
    for spec in (ROOT / "autograder" / "specs").glob(f"{assignment}*"):
        if spec.is_file():
            lines.update(line.strip() for line in spec.read_text().splitlines())
    # The grader package outside specs/ is public by design (the sandbox may read it): its lines are no secret.
    for module in (ROOT / "autograder").glob("*.py"):
        public.update(line.strip() for line in module.read_text().splitlines())
    return sorted(
        s
        for s in lines
        if len(s) >= 30 and s not in public and not s.startswith(("#", "import ", "from ", '"""'))
    )


def json_of(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def solution_cells(assignment: str) -> dict[str, str]:
    """The instructor's solution cells (``### BEGIN/END SOLUTION`` marker lines removed), by grade_id."""
    return {
        gid: "".join(line for line in source.splitlines(keepends=True) if "### " not in line)
        for gid, source in nbcells.by_grade_id(source_notebook(assignment).cells, "solution").items()
    }
