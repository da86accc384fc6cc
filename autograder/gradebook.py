"""Scores into nbgrader's gradebook: one transaction per student, in the assignment's own grade cells."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from nbgrader.api import Comment, Gradebook, MissingEntry, SubmittedAssignment, SubmittedNotebook
from nbgrader.api import Grade as NbGrade

from autograder.grading import StudentResult

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


def write_result(gb: Gradebook, result: StudentResult, notebook: str) -> None:
    """Store the scores of one student in a single commit (rolled back on any error).

    Creates the student and the submission (mirroring nbgrader's ``add_submission``) inside the same transaction,
    so that a grader killed at any point leaves either no submission or a fully scored one.
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
        session.commit()
    except Exception:
        session.rollback()
        raise
