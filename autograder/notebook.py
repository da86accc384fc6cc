"""Course layout and defensive reading of submitted notebooks."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from autograder.cells import nbgrader as _nbgrader

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
        """Students with a folder for ``assignment`` under ``submitted/``, sorted; a symbolic link (to another
        student's folder, to the instructor's) is never a student."""
        base = self.root / "submitted"
        if base.is_symlink() or not base.is_dir():
            return []
        return sorted(
            p.name
            for p in base.iterdir()
            if not p.is_symlink() and not (p / assignment).is_symlink() and (p / assignment).is_dir()
        )


@dataclass
class Submission:
    """The code cells to execute (in notebook order) and what went wrong reading the notebook."""

    cells: list[tuple[str, str]] = field(default_factory=list)
    solutions: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    readable: bool = True


def _source(cell: dict) -> str | None:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else None


def without_magics(source: str) -> str:
    """``source`` without IPython magics and shell escapes (lines starting with ``%`` or ``!``)."""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))


def read_regular_file(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The bytes of ``path`` if it is a regular file reached without any symbolic link (a link to the instructor's
    notebook, another student's or ``/proc/self/environ`` is refused; a FIFO never blocks); else ``ValueError``."""
    if os.path.realpath(path) != os.path.abspath(path):
        raise ValueError("it is reached through a symbolic link")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise ValueError(exc.strerror or str(exc)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("not a regular file")
        if st.st_size > limit:
            raise ValueError(f"larger than {limit // 1_000_000} MB")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def _load(path: Path) -> dict:
    try:
        nb = json.loads(read_regular_file(path).decode("utf-8", errors="replace"))
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("no list of cells")
    if nb.get("nbformat") != 4:
        raise ValueError(f"nbformat {nb.get('nbformat')!r}, expected 4")
    return nb


def locked_cells(source_nb: Path) -> dict[str, str]:
    """The instructor's locked code cells that are not tests (setup, helpers, data), by ``grade_id``."""
    out: dict[str, str] = {}
    for cell in _load(source_nb)["cells"]:
        nbg = _nbgrader(cell)
        if (
            cell.get("cell_type") == "code"
            and nbg.get("locked")
            and not nbg.get("grade")
            and not nbg.get("solution")
        ):
            out[str(nbg.get("grade_id"))] = _source(cell) or ""
    return out


def read_submission(path: Path, solution_ids: list[str], locked: dict[str, str] | None = None) -> Submission:
    """The code cells nbgrader would execute, read from a notebook without trusting its structure.

    Every code cell runs in notebook order, the student's own cells included; a locked cell whose ``grade_id`` is
    in ``locked`` runs as the instructor wrote it (as nbgrader's ``OverwriteCells`` does); test cells (nbgrader
    ``grade`` and not ``solution``) are left out: the grader's checks stand in for them. IPython magics are removed.
    A missing file, invalid JSON, a non-v4 notebook or a missing/duplicated solution cell is recorded in
    ``Submission.problems``; nothing here raises for a bad submission.
    """
    sub = Submission()
    locked = locked or {}
    if not os.path.lexists(path):
        sub.readable = False
        sub.problems.append(f"notebook {path.name} not found in the submission")
        return sub
    try:
        nb = _load(path)
    except (OSError, ValueError) as exc:
        sub.readable = False
        sub.problems.append(f"notebook {path.name} could not be read: {exc}")
        return sub
    for n, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        nbg = _nbgrader(cell)
        gid = nbg.get("grade_id")
        gid = gid if isinstance(gid, str) else None
        if nbg.get("grade") and not nbg.get("solution"):
            continue
        source = locked.get(gid) if gid in locked else _source(cell)
        if source is None:
            sub.problems.append(f"cell {gid or n}: its source is not text")
            continue
        if gid in solution_ids:
            if gid in sub.solutions:
                sub.problems.append(f"cell {gid}: appears more than once; both copies ran, in order")
            sub.solutions.setdefault(gid, source)
        sub.cells.append((gid or f"[{n}]", without_magics(source)))
    for gid in solution_ids:
        if gid not in sub.solutions:
            sub.problems.append(f"cell {gid}: missing from the notebook")
    return sub
