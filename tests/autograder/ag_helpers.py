"""Helpers of the autograder tests: the fixture course's paths, notebook builders, gradebook reads."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat

from autograder import cells as nbcells

FIXTURES = Path(__file__).parent / "fixtures"
SPECS = FIXTURES / "specs"
SOURCE_NB = FIXTURES / "course" / "source" / "ag-demo" / "ag-demo.ipynb"
VENV_BIN = str(Path(sys.executable).parent)

CORRECT_SGD = "".join(
    line
    for line in nbformat.read(SOURCE_NB, 4).cells[1].source.splitlines(keepends=True)
    if "###" not in line
)
CORRECT_SQUARE = "def square(x):\n    return x * x\n"


def env() -> dict[str, str]:
    """Environment for nbgrader/autograder subprocesses (``alembic`` must be on PATH)."""
    e = dict(os.environ)
    e["PATH"] = VENV_BIN + os.pathsep + e.get("PATH", "")
    return e


def submit(
    course: Path, student: str, sgd: str | None = CORRECT_SGD, square: str | None = CORRECT_SQUARE
) -> Path:
    """Write ``submitted/<student>/ag-demo/ag-demo.ipynb`` with the given solution cells (None: cell deleted)."""
    nb = nbformat.read(SOURCE_NB, 4)
    cells = []
    for cell in nb.cells:
        gid = nbcells.grade_id(cell)
        if gid == "sgd_impl":
            if sgd is None:
                continue
            cell.source = sgd
        elif gid == "square_impl":
            if square is None:
                continue
            cell.source = square
        cells.append(cell)
    nb.cells = cells
    path = course / "submitted" / student / "ag-demo" / "ag-demo.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def scores(course: Path) -> dict[str, dict[str, float | None]]:
    """``student → {grade_id: auto_score}`` read straight from the gradebook's SQLite file.

    Raises if a student has two rows for one cell (the schema forbids it; the query would show it).
    """
    import sqlite3

    con = sqlite3.connect(course / "gradebook.db")
    rows = con.execute(
        "SELECT sa.student_id, gc.name, g.auto_score FROM grade g "
        "JOIN submitted_notebook sn ON g.notebook_id = sn.id "
        "JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
        "JOIN base_cell gc ON g.cell_id = gc.id"
    ).fetchall()
    con.close()
    out: dict[str, dict[str, float | None]] = {}
    for student, cell, score in rows:
        assert cell not in out.get(student, {}), f"two grades for {student}/{cell}"
        out.setdefault(student, {})[cell] = score
    return out
