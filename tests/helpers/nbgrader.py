"""nbgrader's side of the tests: its subprocess environment and its gradebook, read straight from SQLite.

The gradebook is read with plain SQL rather than through ``nbgrader.api`` or the autograder's own gradebook module,
so that a test comparing grades does not trust the code that wrote them.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

#: The test interpreter's ``bin`` directory: nbgrader shells out to ``alembic``, which must be found there.
VENV_BIN = str(Path(sys.executable).parent)


def env() -> dict[str, str]:
    """This process's environment with the venv's ``bin`` first on ``PATH`` (for ``nbgrader`` subprocesses)."""
    e = dict(os.environ)
    e["PATH"] = VENV_BIN + os.pathsep + e.get("PATH", "")
    return e


def scores(course: Path) -> dict[str, dict[str, float | None]]:
    """``student → {grade_id: auto_score}`` from the course's ``gradebook.db``.

    Raises if a student has two rows for one cell (the schema forbids it; the query would show it).
    """
    con = sqlite3.connect(course / "gradebook.db")
    try:
        rows = con.execute(
            "SELECT sa.student_id, gc.name, g.auto_score FROM grade g "
            "JOIN submitted_notebook sn ON g.notebook_id = sn.id "
            "JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
            "JOIN base_cell gc ON g.cell_id = gc.id"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, dict[str, float | None]] = {}
    for student, cell, score in rows:
        assert cell not in out.get(student, {}), f"two grades for {student}/{cell}"
        out.setdefault(student, {})[cell] = score
    return out
