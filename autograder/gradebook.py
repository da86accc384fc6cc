"""Scores into nbgrader's gradebook: one transaction per student, in the assignment's own grade cells."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from nbgrader.api import Comment, Gradebook, MissingEntry, SubmittedAssignment, SubmittedNotebook
from nbgrader.api import Grade as NbGrade

from autograder.grading import StudentResult
from autograder.notebook import Course, read_regular_file

log = logging.getLogger("autograder.gradebook")


@contextlib.contextmanager
def open_gradebook(db_url: str) -> Iterator[Gradebook]:
    """Open nbgrader's gradebook (needs ``alembic`` on PATH, as nbgrader does)."""
    gb = Gradebook(db_url)
    try:
        yield gb
    finally:
        gb.close()


def grade_cell_points(gb: Gradebook, assignment: str, notebook: str) -> dict[str, float]:
    """``grade_id → max_score`` of the assignment's grade cells; raises ``ValueError`` if it is not in the db."""
    try:
        nb = gb.find_notebook(notebook, assignment)
    except MissingEntry as exc:
        raise ValueError(
            f"assignment {assignment!r} (notebook {notebook!r}) is not in the gradebook: "
            "run `nbgrader generate_assignment` first"
        ) from exc
    return {cell.name: float(cell.max_score) for cell in nb.grade_cells}


def is_graded(gb: Gradebook, assignment: str, student: str, grade_ids: list[str]) -> bool:
    """True when every grade cell in ``grade_ids`` of the student's submission has an automatic score."""
    try:
        sub = gb.find_submission(assignment, student)
    except MissingEntry:
        return False
    scored = {g.cell.name for nb in sub.notebooks for g in nb.grades if g.auto_score is not None}
    return bool(grade_ids) and set(grade_ids) <= scored


def read_timestamp(course: Course, assignment: str, student: str) -> datetime | None:
    """The submission time in ``submitted/<student>/<assignment>/timestamp.txt``, read as nbgrader reads it
    (``nbgrader.utils.parse_utc``: naive UTC); None without the file (or an empty one, as nbgrader).

    Raises ``ValueError`` naming the file when it is not a time (nbgrader stops on such a file too), or when it is
    reached through a symbolic link.
    """
    from nbgrader.utils import parse_utc

    path = course.root / "submitted" / student / assignment / "timestamp.txt"
    if not path.exists() and not path.is_symlink():
        return None
    try:
        text = read_regular_file(path, limit=1000).decode("utf-8").strip()
        return parse_utc(text) if text else None
    except (ValueError, OverflowError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a submission time nbgrader can read ({exc})") from None


def submission_digest(course: Course, assignment: str, student: str, notebook: str) -> str:
    """SHA-256 of what the grader reads of a submission: the notebook's bytes and ``timestamp.txt``.

    A missing or unreadable file (a symbolic link, a FIFO) enters as the reason it could not be read, so an unchanged
    broken submission keeps its digest and a repaired one gets a new one.
    """
    h = hashlib.sha256()
    folder = course.root / "submitted" / student / assignment
    for name in (f"{notebook}.ipynb", "timestamp.txt"):
        path = folder / name
        h.update(name.encode() + b"\0")
        if not path.exists() and not path.is_symlink():
            h.update(b"missing\0")
            continue
        try:
            data = read_regular_file(path)
        except ValueError as exc:
            h.update(b"unreadable: " + str(exc).encode() + b"\0")
        else:
            h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


def late_penalty_preprocessor(course_root: Path) -> Any:
    """nbgrader's ``AssignLatePenalties``, configured by the course's ``nbgrader_config.py`` (its
    ``c.AssignLatePenalties.plugin_class``, e.g. ``late.SubMarks`` from a ``late.py`` in the course directory, or
    nbgrader's ``LateSubmissionPlugin`` with ``penalty_method``), with its plugin initialised."""
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config.loader import PyFileConfigLoader

    root = str(Path(course_root).resolve())
    config = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    sys.path.insert(0, root)  # nbgrader runs from the course directory, so its plugins import from there
    try:
        pre = AssignLatePenalties(config=config)
        pre.init_plugin()
    finally:
        sys.path.remove(root)
    return pre


def record_lateness(
    gb: Gradebook, assignment: str, student: str, timestamp: datetime | None, penalties: Any
) -> None:
    """Store the submission time and the late penalty of every notebook, as ``nbgrader autograde`` does
    (``Autograde`` records the timestamp; ``AssignLatePenalties`` asks the course's plugin for the penalty of the
    notebook's current score when the submission is late, clamped to [0, score]). Does not commit."""
    sub = gb.find_submission(assignment, student)
    sub.timestamp = timestamp
    gb.db.flush()
    seconds = sub.total_seconds_late
    for snb in sub.notebooks:
        gb.db.expire(snb)
        snb.late_submission_penalty = None
        if seconds > 0:
            penalty = penalties.plugin_inst.late_submission_penalty(student, snb.score, seconds)
            if penalty is not None:
                snb.late_submission_penalty = penalties._check_late_penalty(snb, penalty)
    gb.db.flush()


@dataclass
class Lateness:
    """What the gradebook says about one submission's time."""

    timestamp: datetime | None
    seconds_late: float
    penalty: float


def lateness(gb: Gradebook, assignment: str) -> dict[str, Lateness]:
    """``student → Lateness`` of every submission of ``assignment`` in the gradebook."""
    out = {}
    for sub in gb.assignment_submissions(assignment):
        penalty = sum(float(nb.late_submission_penalty or 0.0) for nb in sub.notebooks)
        out[sub.student.id] = Lateness(sub.timestamp, float(sub.total_seconds_late), penalty)
    return out


def write_result(
    gb: Gradebook,
    result: StudentResult,
    notebook: str,
    timestamp: datetime | None = None,
    penalties: Any = None,
) -> None:
    """Store the scores of one student in a single commit (rolled back on any error).

    Creates the student and the submission (mirroring nbgrader's ``add_submission``) inside the same transaction,
    so that a grader killed at any point leaves either no submission or a fully scored one. With ``penalties``
    (:func:`late_penalty_preprocessor`), the submission time and late penalty are recorded in the same transaction
    (:func:`record_lateness`).
    """
    session = gb.db
    try:
        try:
            student = gb.find_student(result.student)
        except MissingEntry:
            from nbgrader.api import Student

            student = Student(id=result.student)
            session.add(student)
        try:
            sub = gb.find_submission(result.assignment, result.student)
        except MissingEntry:
            sub = SubmittedAssignment(assignment=gb.find_assignment(result.assignment), student=student)
            session.add(sub)
        with session.no_autoflush:
            have = {snb.notebook.name for snb in sub.notebooks}
            for nb in sub.assignment.notebooks:
                if nb.name in have:
                    continue
                snb = SubmittedNotebook(notebook=nb, assignment=sub)
                session.add(snb)
                rows = [NbGrade(cell_id=cell.id, notebook=snb) for cell in nb.grade_cells]
                rows += [Comment(cell_id=cell.id, notebook=snb) for cell in nb.solution_cells]
                for cell in nb.task_cells:
                    rows += [Comment(cell_id=cell.id, notebook=snb), NbGrade(cell_id=cell.id, notebook=snb)]
                session.add_all(rows)
        session.flush()
        session.expire(sub)
        for snb in sub.notebooks:
            for grade in snb.grades:
                if snb.notebook.name != notebook:
                    continue
                if grade.cell.name in result.scores:
                    grade.auto_score = float(result.scores[grade.cell.name])
                    grade.needs_manual_grade = False
                elif grade.manual_score is None:
                    grade.needs_manual_grade = True  # a cell the spec does not grade (a written answer)
        if penalties is not None:
            session.flush()
            record_lateness(gb, result.assignment, result.student, timestamp, penalties)
        session.commit()
    except Exception:
        session.rollback()
        raise
