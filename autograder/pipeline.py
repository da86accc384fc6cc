"""``autograder grade``: collect the submissions, grade them on an executor, store the results."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder._lazy import defer_rfc3987_syntax
from autograder.executors import DaskExecutor, LocalExecutor, Task, cached_spec
from autograder.grading import StudentResult, hidden_paths, warm_references
from autograder.notebook import Course, read_regular_file, write_autograded
from autograder.safefs import real_dir, write_atomic
from autograder.spec import Spec, spec_path
from autograder.verdicts import redact_hidden

log = logging.getLogger("autograder")
RESULTS_FILE = "autograder.json"


@dataclass
class Summary:
    """What a grading run did."""

    students: int = 0
    graded: int = 0
    skipped: int = 0
    failures: int = 0
    timeouts: int = 0
    mean: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    results: list[StudentResult] = field(default_factory=list)

    def table(self) -> str:
        """The summary as a small text table."""
        rows = [
            ("students", str(self.students)),
            ("graded", str(self.graded)),
            ("skipped (already graded)", str(self.skipped)),
            ("mean score", f"{self.mean:.2f} / {self.max_score:g}"),
            ("failures", str(self.failures)),
            ("timeouts", str(self.timeouts)),
            ("time", f"{self.seconds:.1f} s"),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def resolve_variants(device: str) -> list[tuple[str, str]]:
    """(device, dtype) pairs every check runs on: ``auto`` adds CUDA (float64 and float32) when present."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"--device must be auto, cpu or cuda, got {device!r}")
    if device == "cpu":
        return [("cpu", "float64")]
    import torch

    cuda = torch.cuda.is_available()
    if device == "cuda" and not cuda:
        raise ValueError("--device cuda: no CUDA device is available")
    variants = [] if device == "cuda" else [("cpu", "float64")]
    if device == "cuda" or (device == "auto" and cuda):
        variants += [("cuda", "float64"), ("cuda", "float32")]
    return variants


def save_result(course: Course, spec: Spec, result: StudentResult, digest: str = "") -> Path:
    """Write the autograded (executed, verdicts in its test cells) notebook and the results JSON (atomically);
    ``digest`` (:func:`~autograder.gradebook.submission_digest` of what was graded) is stored as
    ``submission_sha256``. Nothing is written through a link."""
    out = real_dir(course.root / "autograded", result.student, result.assignment)  # never through a link
    data = redact_hidden(dataclasses.asdict(result), spec)  # nbgrader copies this folder into feedback
    write_autograded(course, spec, data)  # never reads through a link or a FIFO
    path = out / RESULTS_FILE
    write_atomic(path, json.dumps({**data, "submission_sha256": digest}, allow_nan=True, indent=1).encode())
    return path


def load_result(course: Course | Path, assignment: str, student: str) -> dict | None:
    """The stored results JSON of one student, or None."""
    course = course if isinstance(course, Course) else Course(Path(course))
    path = course.autograded_dir(student, assignment) / RESULTS_FILE
    if not os.path.lexists(path):
        return None
    try:
        return json.loads(read_regular_file(path, limit=1_000_000_000))  # never through a link
    except ValueError:
        return None


@dataclass
class _Lateness:
    """Per student: the submission time (``timestamp.txt``) and the SHA-256 of what is graded; the course's
    late-penalty preprocessor (nbgrader's plugin)."""

    stamps: dict[str, Any]
    digests: dict[str, str]
    penalties: Any


def _plan(
    gb: Any,
    spec: Spec,
    assignment: str,
    course: Course,
    students: list[str] | None,
    variants: list[tuple[str, str]],
    force: bool,
) -> tuple[Summary, list[Task], _Lateness]:
    """An empty summary with the students counted, the tasks of the students to grade (not graded yet, changed
    since, or ``force``) and what their results are stored with; skipped students' lateness is recorded again."""
    from autograder.gradebook import (
        grade_cell_points,
        is_graded,
        late_penalty_preprocessor,
        read_timestamp,
        record_lateness,
        submission_digest,
    )

    summary = Summary()
    points = {
        g: p for g, p in grade_cell_points(gb, assignment, spec.notebook).items() if g in spec.grade_ids()
    }
    unknown = sorted(set(spec.grade_ids()) - set(points))
    if unknown:
        raise ValueError(f"the spec grades cells that the gradebook does not have: {', '.join(unknown)}")
    summary.max_score = sum(points.values())
    everyone = course.students(assignment)
    if students:
        unknown = sorted(set(students) - set(everyone))
        if unknown:
            raise ValueError(f"no submission of {assignment} for student(s): {', '.join(unknown)}")
        everyone = [s for s in everyone if s in students]
    summary.students = len(everyone)
    stamps, bad = {}, []
    for s in everyone:
        try:
            stamps[s] = read_timestamp(course, assignment, s)
        except ValueError as exc:
            bad.append(str(exc))
    if bad:
        raise ValueError("; ".join(bad))
    digests = {s: submission_digest(course, assignment, s, spec.notebook) for s in everyone}
    penalties = late_penalty_preprocessor(course.root)
    to_grade = []
    for s in everyone:
        if (
            force
            or not is_graded(gb, assignment, s, spec.grade_ids())
            or (load_result(course, assignment, s) or {}).get("submission_sha256") != digests[s]
        ):
            to_grade.append(s)
        else:  # unchanged: only the time and penalty are recorded again (a new due date or extension)
            record_lateness(gb, assignment, s, stamps[s], penalties)
            gb.db.commit()
    summary.skipped = len(everyone) - len(to_grade)
    hide = tuple(hidden_paths(course, spec))
    points_t = tuple(points.items())
    tasks = [Task(spec.path, str(course.root), s, tuple(variants), points_t, hide) for s in to_grade]
    return summary, tasks, _Lateness(stamps, digests, penalties)


def grade_assignment(
    assignment: str,
    course_root: Path,
    students: list[str] | None = None,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    device: str = "auto",
    force: bool = False,
    specs_dir: Path | None = None,
    progress: bool = False,
) -> Summary:
    """Grade every (or the named) submission of ``assignment`` into the course's gradebook.

    Parameters
    ----------
    assignment : str
        nbgrader assignment name.
    course_root : Path
        The nbgrader course directory.
    students : list of str, optional
        Only these students (default: everyone under ``submitted/``).
    workers : int, optional
        Parallel sandboxes (default: number of cores).
    executor : {"local", "dask"}
        Where the tasks run.
    scheduler : str, optional
        Dask scheduler address (default: a ``LocalCluster``).
    device : {"auto", "cpu", "cuda"}
        Devices the checks run on.
    force : bool
        Regrade every student. Without it, a student is skipped when graded and the submission (notebook and
        ``timestamp.txt``) is unchanged since (its SHA-256 is stored with the result); a changed one is regraded.
        Submission times and late penalties are (re)recorded for skipped students too.
    specs_dir : Path, optional
        Where the hidden specs live (default ``autograder/specs``).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    Summary
    """
    start = time.perf_counter()
    if executor not in ("local", "dask"):
        raise ValueError(f"--executor must be local or dask, got {executor!r}")
    course = Course(Path(course_root).resolve())
    variants = resolve_variants(device)
    pool: LocalExecutor | DaskExecutor | None = None
    warm: threading.Thread | None = None
    if executor == "local":  # its template starts now: it imports torch while the spec and gradebook load
        gpus = 0
        if any(d == "cuda" for d, _ in variants):  # one submission per GPU at a time
            import torch

            gpus = torch.cuda.device_count()
            workers = min(workers or gpus, gpus)
        pool = LocalExecutor(workers, gpus=gpus)
    try:
        spec = cached_spec(str(spec_path(assignment, specs_dir, course.root).resolve()), str(course.root))
        if isinstance(
            pool, LocalExecutor
        ):  # the template applies the spec's imports while the gradebook opens
            pool.prepare(spec)
            # and the trusted references are computed meanwhile, off the first submission's critical path
            warm = threading.Thread(target=warm_references, args=(spec, variants), name="references")
            warm.start()
        defer_rfc3987_syntax()  # nbgrader's import without jsonschema's RFC 3987 parser (seconds of CPU)
        from autograder.gradebook import open_gradebook  # nbgrader: a second to import

        with open_gradebook(course.db_url) as gb:  # one gradebook (one alembic check) for the whole run
            summary, tasks, late = _plan(gb, spec, assignment, course, students, variants, force)
            if tasks:
                if pool is None:
                    pool = DaskExecutor(scheduler, workers, gpu=any(d == "cuda" for d, _ in variants))
                _grade_tasks(pool, tasks, gb, course, spec, summary, progress, assignment, late)
    finally:
        if warm is not None:
            warm.join()
        if pool is not None:
            pool.close()
    notes = {p for r in summary.results for p in r.problems if "unavailable" in p or "incomplete" in p}
    for note in sorted(notes):
        log.warning("sandbox: %s", note)
    totals = [r.total for r in summary.results]
    summary.mean = sum(totals) / len(totals) if totals else 0.0
    summary.seconds = time.perf_counter() - start
    return summary


def _grade_tasks(
    pool: LocalExecutor | DaskExecutor,
    tasks: list[Task],
    gb: Any,
    course: Course,
    spec: Spec,
    summary: Summary,
    progress: bool,
    assignment: str,
    late: _Lateness,
) -> None:
    """Run the tasks on the pool; store each result (results JSON, then one gradebook transaction) as it comes."""
    from autograder.gradebook import write_result

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), desc=f"grading {assignment}", unit="sub")
    try:
        for res in pool.map(tasks):
            summary.results.append(res)
            if res.timed_out:
                summary.timeouts += 1
            if res.failed:
                summary.failures += 1
            internal = [p for p in res.problems if p.startswith("internal grader error")]
            for problem in internal:  # not recorded, so it must be seen: the traceback goes to the log
                log.error("%s: %s", res.student, problem)
            if not internal:
                save_result(course, spec, res, late.digests[res.student])
                write_result(gb, res, spec.notebook, late.stamps[res.student], late.penalties)
                summary.graded += 1
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
