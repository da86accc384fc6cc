"""Helpers of the autograder tests: the fixture course's paths, notebook builders; the subprocess
environment and the gradebook read come from ``helpers.nbgrader`` (shared with tests/assignments)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from helpers.nbgrader import env, scores  # noqa: F401  (the tests of this folder import them from here)

from autograder import cells as nbcells

FIXTURES = Path(__file__).parent / "fixtures"
SPECS = FIXTURES / "specs"
SOURCE_NB = FIXTURES / "course" / "source" / "ag-demo" / "ag-demo.ipynb"

CORRECT_SGD = "".join(
    line
    for line in nbformat.read(SOURCE_NB, 4).cells[1].source.splitlines(keepends=True)
    if "###" not in line
)
CORRECT_SQUARE = "def square(x):\n    return x * x\n"


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
