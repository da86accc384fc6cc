"""Grade one submission: read → sandbox → compare in the trusted process → a :class:`StudentResult`."""

from __future__ import annotations

import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder.notebook import Course, read_submission
from autograder.sandbox import Job, RunResult, Sandbox, decode_frames
from autograder.spec import Spec, compare_outputs

MAX_PLOT_POINTS = 400


@dataclass
class CheckOutcome:
    """The verdict on one check for one (device, dtype) variant."""

    name: str
    grade_id: str
    device: str
    dtype: str
    passed: bool
    messages: list[str] = field(default_factory=list)
    plot: dict[str, list[float]] | None = None


@dataclass
class StudentResult:
    """Everything the grader learned about one submission (plain data, JSON-serialisable)."""

    student: str
    assignment: str
    scores: dict[str, float] = field(default_factory=dict)
    max_scores: dict[str, float] = field(default_factory=dict)
    outcomes: list[CheckOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    stdout: str = ""
    timed_out: bool = False
    failed: bool = False
    wall_s: float = 0.0
    sandbox_s: float = 0.0
    checks_s: float = 0.0

    @property
    def total(self) -> float:
        """Sum of the scores."""
        return float(sum(self.scores.values()))


_REF_LOCK = threading.Lock()
_REF_CACHE: dict[tuple[str, str, str, str], dict[str, Any]] = {}


def reference_output(spec: Spec, name: str, device: str, dtype: str) -> dict[str, Any]:
    """The trusted reference of a check, computed once per (spec, check, device, dtype) and cached."""
    key = (spec.path, name, device, dtype)
    with _REF_LOCK:
        if key not in _REF_CACHE:
            import torch

            _REF_CACHE[key] = _as_plain(
                spec.check(name).reference(torch.device(device), getattr(torch, dtype))
            )
        return _REF_CACHE[key]


def _as_plain(out: dict[str, Any]) -> dict[str, Any]:
    import torch

    plain: dict[str, Any] = {}
    for key, value in out.items():
        if isinstance(value, torch.Tensor):
            plain[key] = value.detach().cpu().to(torch.float64).numpy()
        elif isinstance(value, list | tuple):
            plain[key] = np.asarray(value, dtype=np.float64)
        else:
            plain[key] = value
    return plain


def _describe_end(run: RunResult, limit_s: float) -> str:
    if run.status == "timeout":
        return f"did not finish within the time limit ({limit_s:g} s wall clock)"
    if run.status == "signalled":
        import signal

        name = (
            signal.Signals(run.signal).name if run.signal in signal.Signals._value2member_map_ else run.signal
        )
        hint = " (CPU time limit)" if name == "SIGXCPU" else " (memory or file-size limit?)"
        return f"the process was killed by {name}{hint if name in ('SIGXCPU', 'SIGKILL', 'SIGXFSZ') else ''}"
    if run.status == "exited":
        return f"the process exited (status {run.exit_code}) before this check finished"
    return "the sandbox failed: " + "; ".join(run.notes)


def grade_submission(
    spec: Spec,
    course: Course,
    student: str,
    sandbox: Sandbox,
    variants: list[tuple[str, str]],
    points: dict[str, float],
    hide: list[str],
) -> StudentResult:
    """Grade one student's notebook.

    Parameters
    ----------
    spec : Spec
        The assignment's grading spec.
    course : Course
        The nbgrader course directory.
    student : str
        Student id (folder under ``submitted/``).
    sandbox : Sandbox
        Template used for every run of this submission.
    variants : list of (device, dtype)
        E.g. ``[("cpu", "float64")]`` or, on a GPU runner, also ``("cuda", "float64"), ("cuda", "float32")``.
    points : dict
        Maximum score of each grade cell (from the gradebook).
    hide : list of str
        Paths the sandbox must not see.

    Returns
    -------
    StudentResult
        Scores per grade cell and the reasons for every lost point. Never raises for a bad submission.
    """
    start = time.perf_counter()
    res = StudentResult(student=student, assignment=spec.assignment, max_scores=dict(points))
    res.devices = sorted({d for d, _ in variants})
    sub = read_submission(course.submission(student, spec.assignment, spec.notebook), spec.cells)
    res.problems.extend(sub.problems)
    cells = ([("prelude", spec.prelude)] if spec.prelude else []) + [
        (gid, sub.cells[gid]) for gid in spec.cells if gid in sub.cells
    ]
    for device, dtype in variants:
        names = [c.name for c in spec.checks if dtype in c.dtypes or device == "cpu"]
        if not sub.readable:
            for name in names:
                _fail(
                    res,
                    spec,
                    name,
                    device,
                    dtype,
                    "the notebook could not be graded: " + "; ".join(sub.problems),
                )
            continue
        runnable = []
        for name in names:
            forbidden = spec.forbidden_uses(sub.cells, spec.check(name))
            if forbidden:
                _fail(res, spec, name, device, dtype, "; ".join(forbidden))
            else:
                runnable.append(name)
        _run_variant(spec, sandbox, cells, runnable, device, dtype, hide, res)
    res.failed = not sub.readable or any(
        p.startswith(("cell ", "the sandbox", "sandbox output", "notebook ")) for p in res.problems
    )
    _score(spec, res)
    res.wall_s = time.perf_counter() - start
    return res


def _run_variant(
    spec: Spec,
    sandbox: Sandbox,
    cells: list[tuple[str, str]],
    names: list[str],
    device: str,
    dtype: str,
    hide: list[str],
    res: StudentResult,
) -> None:
    remaining = list(names)
    while remaining:
        job = Job(
            cells=cells,
            spec_path=spec.path,
            checks=remaining,
            device=device,
            dtype=dtype,
            limits=spec.limits,
            hide=hide,
            timeouts=[spec.limits.check_s]
            + [spec.check(n).timeout_s or spec.limits.check_s for n in remaining],
        )
        run = sandbox.run(job)
        res.sandbox_s += run.wall_s
        if run.stdout and not res.stdout:
            res.stdout = run.stdout
        for note in run.notes:
            if note not in res.problems:
                res.problems.append(note)
        frames, problem = decode_frames(run.frames)
        if problem:
            res.problems.append(f"sandbox output: {problem}")
        loaded = False
        reported: dict[str, dict[str, Any]] = {}
        for fr in frames:
            if fr["kind"] == "cell-error":
                msg = f"cell {fr['name']} raised an error:\n" + student_traceback(fr["error"] or "")
                if msg not in res.problems:
                    res.problems.append(msg)
            elif fr["kind"] == "loaded":
                loaded = True
            elif fr["kind"] == "check" and fr["name"] in remaining and fr["name"] not in reported:
                reported[fr["name"]] = fr
        if run.status == "timeout":
            res.timed_out = True
        for name in remaining:
            if name in reported:
                _judge(spec, res, name, device, dtype, reported[name])
        if not loaded:
            why = _describe_end(run, spec.limits.check_s)
            for name in remaining:
                if name not in reported:
                    _fail(res, spec, name, device, dtype, f"running the notebook's cells: {why}")
            return
        rest = [n for n in remaining if n not in reported]
        if not rest:
            return
        culprit = rest[0]
        limit = spec.check(culprit).timeout_s or spec.limits.check_s
        _fail(res, spec, culprit, device, dtype, _describe_end(run, limit))
        remaining = rest[1:]
        if not spec.partial_credit:
            cell = spec.check(culprit).grade_id
            for name in [n for n in remaining if spec.check(n).grade_id == cell]:
                _fail(res, spec, name, device, dtype, f"not run: check {culprit} of the same cell failed")
                remaining.remove(name)


_FRAME = re.compile(r'^  File "(?P<file>[^"]*)", line \d+')


def student_traceback(text: str) -> str:
    """Keep only the traceback entries of the student's cells (no grader or hidden-spec code) and the error."""
    out: list[str] = []
    keep = True
    for line in text.splitlines():
        m = _FRAME.match(line)
        if m:
            keep = m.group("file").startswith("<cell")
            if not keep:
                continue
        elif line.startswith("    ") and not keep:
            continue
        elif not line.startswith(" "):
            keep = True
        out.append(line)
    return "\n".join(out)


def _fail(res: StudentResult, spec: Spec, name: str, device: str, dtype: str, message: str) -> None:
    res.outcomes.append(
        CheckOutcome(name, spec.check(name).grade_id, device, dtype, passed=False, messages=[message])
    )


def _judge(spec: Spec, res: StudentResult, name: str, device: str, dtype: str, frame: dict[str, Any]) -> None:
    check = spec.check(name)
    seconds = frame["data"].get("__seconds__")
    if type(seconds) is float and 0 <= seconds < 1e6:  # as reported by the sandbox: for benchmarks only
        res.checks_s += seconds
    if frame["error"] is not None:
        _fail(res, spec, name, device, dtype, "raised an error:\n" + student_traceback(frame["error"]))
        return
    ref = reference_output(spec, name, device, dtype)
    compare = check.compare or compare_outputs
    try:
        messages = compare(frame["data"], ref, check.tolerance.for_dtype(dtype))
    except (TypeError, ValueError) as exc:
        messages = [f"could not compare the result: {exc}"]
    plot = None
    if check.plot and isinstance(ref.get(check.plot), np.ndarray):
        plot = {"reference": _thin(ref[check.plot])}
        got = frame["data"].get(check.plot)
        if isinstance(got, np.ndarray) and got.size:
            plot["student"] = _thin(got)
    res.outcomes.append(CheckOutcome(name, check.grade_id, device, dtype, not messages, messages, plot))


def _thin(arr: np.ndarray) -> list[float]:
    flat = np.asarray(arr, dtype=np.float64)
    flat = flat.reshape(flat.shape[0], -1)[:, 0] if flat.ndim > 1 else flat.ravel()
    step = max(1, flat.size // MAX_PLOT_POINTS)
    return [float(x) if np.isfinite(x) else float("nan") for x in flat[::step]]


def _score(spec: Spec, res: StudentResult) -> None:
    for gid in spec.grade_ids():
        checks = [c for c in spec.checks if c.grade_id == gid]
        total_w = sum(c.weight for c in checks)
        won = 0.0
        for c in checks:
            verdicts = [o.passed for o in res.outcomes if o.name == c.name]
            if verdicts and all(verdicts):
                won += c.weight
        if not spec.partial_credit and won < total_w:
            won = 0.0
        res.scores[gid] = round(res.max_scores.get(gid, 0.0) * won / total_w, 6) if total_w else 0.0


def hidden_paths(course: Course, spec: Spec, extra: list[str] | None = None) -> list[str]:
    """Paths hidden from the sandbox: the course directory, the specs, and everything in the repository except the
    autograder package and the virtual environment (solutions under ``assignments/``, reference implementations
    in ``course_pkg/``, tests, the book), plus ``extra``."""
    paths = {str(course.root.resolve()), str(Path(spec.path).resolve().parent)}
    package = Path(__file__).resolve().parent
    for entry in package.parent.iterdir():
        if entry.name not in (package.name, ".venv", ".git"):
            paths.add(str(entry.resolve()))
    paths.add(str(package.parent / ".git"))
    paths.add(str(package / "specs"))  # every course's hidden specs, not only this one's
    paths.update(extra or [])
    keep = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()]
    return sorted(p for p in paths if not any(k == Path(p) or Path(p) in k.parents for k in keep))
