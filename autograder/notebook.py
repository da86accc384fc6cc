"""Course layout and defensive reading of submitted notebooks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

MAX_NOTEBOOK_BYTES = 20_000_000


@dataclass(frozen=True)
class Course:
    """An nbgrader course directory (``submitted/``, ``autograded/``, ``feedback/``, ``gradebook.db``)."""

    root: Path

    @property
    def db_url(self) -> str:
        """SQLAlchemy URL of nbgrader's gradebook."""
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def submission(self, student: str, assignment: str, notebook: str) -> Path:
        """Where nbgrader keeps a student's submitted notebook."""
        return self.root / "submitted" / student / assignment / f"{notebook}.ipynb"

    def autograded_dir(self, student: str, assignment: str) -> Path:
        """Where the autograded copy and the autograder's results go."""
        return self.root / "autograded" / student / assignment

    def feedback_dir(self, student: str, assignment: str) -> Path:
        """Where feedback HTML goes (what ``nbgrader release_feedback`` distributes)."""
        return self.root / "feedback" / student / assignment

    def students(self, assignment: str) -> list[str]:
        """Students with a folder for ``assignment`` under ``submitted/``, sorted."""
        base = self.root / "submitted"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())


@dataclass
class Submission:
    """The solution cells read from a notebook, and what went wrong reading it."""

    cells: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    readable: bool = True


def read_submission(path: Path, solution_ids: list[str]) -> Submission:
    """Read the solution cells ``solution_ids`` from a notebook without trusting its structure.

    A missing file, invalid JSON, a non-v4 notebook or a missing/duplicated cell is recorded in
    ``Submission.problems``; nothing here raises for a bad submission.
    """
    sub = Submission()
    if not path.is_file():
        sub.readable = False
        sub.problems.append(f"notebook {path.name} not found in the submission")
        return sub
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError(f"larger than {MAX_NOTEBOOK_BYTES // 1_000_000} MB")
        nb = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("no list of cells")
        if nb.get("nbformat") != 4:
            raise ValueError(f"nbformat {nb.get('nbformat')!r}, expected 4")
    except (OSError, ValueError) as exc:
        sub.readable = False
        sub.problems.append(f"notebook {path.name} could not be read: {exc}")
        return sub
    for cell in nb["cells"]:
        if not isinstance(cell, dict):
            continue
        meta = cell.get("metadata")
        nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
        if not isinstance(nbg, dict) or nbg.get("grade_id") not in solution_ids:
            continue
        gid = nbg["grade_id"]
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str) or cell.get("cell_type") != "code":
            sub.problems.append(f"cell {gid}: not a code cell")
            continue
        if gid in sub.cells:
            sub.problems.append(f"cell {gid}: appears more than once; the first copy was graded")
            continue
        sub.cells[gid] = source
    for gid in solution_ids:
        if gid not in sub.cells:
            sub.problems.append(f"cell {gid}: missing from the notebook")
    return sub
