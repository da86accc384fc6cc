"""Grade one submission: read → sandbox → compare in the trusted process → a :class:`StudentResult`."""

from __future__ import annotations

import dataclasses
import math
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder.notebook import Course, locked_cells, read_submission
from autograder.replay import REPLAY_LOCK, run_replay, trusted_namespace
from autograder.sandbox import Job, Sandbox
from autograder.spec import Spec, compare_outputs

MAX_PLOT_POINTS = 400
MAX_TEXT = 20_000  # characters of one message or of stdout kept in the results


@dataclass
class CheckOutcome:
    """The verdict on one check for one (device, dtype) variant."""

    name: str
    grade_id: str
    device: str
    dtype: str
    passed: bool
    messages: list[str] = field(default_factory=list)
    plot: dict[str, Any] | None = None


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
    stderr: str = ""
    cells: list[dict[str, str]] = field(default_factory=list)
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


def warm_references(spec: Spec, variants: list[tuple[str, str]]) -> None:
    """Compute (and cache) the references of the spec's probe checks ahead of the first verdict: run in a thread
    while the sandbox template starts, the first optimizer torch builds here (its ``torch._dynamo`` import,
    seconds) leaves the first submission's critical path. A reference that raises is left to :func:`_judge`,
    which computes it again and reports the error where it belongs.

    Then the instructor's locked cells of each replayed notebook run once here (their namespace is discarded):
    their first run imports what they import (a3: ``sklearn.datasets``, a second of CPU) and reads their data, so
    that the first submission's first replayed test cell does not wait for it."""
    for device, dtype in variants:
        for check in spec.checks:
            if check.replay is None and (dtype in check.dtypes or device == "cpu"):
                try:
                    reference_output(spec, check.name, device, dtype)
                except Exception:  # noqa: BLE001, S112 - reported by the verdict that needs it
                    continue
    for notebook, device in dict.fromkeys(
        (c.replay, d) for d, _ in variants for c in spec.checks if c.replay is not None
    ):
        try:
            with REPLAY_LOCK:  # the locked cells seed and draw from the global generators
                trusted_namespace(Path(notebook), device)
        except Exception:  # noqa: BLE001, S112 - the replayed check that runs it reports the error
            continue


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
        The nbgrader course directory (its ``source/`` supplies the locked cells).
    student : str
        Student id (folder under ``submitted/``).
    sandbox : Sandbox
        Template used for every session of this submission.
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
    source_nb = course.root / "source" / spec.assignment / f"{spec.notebook}.ipynb"
    try:
        locked = locked_cells(source_nb)
    except (OSError, ValueError) as exc:
        locked = {}
        res.problems.append(
            f"the instructor's notebook {source_nb} could not be read ({exc}): locked cells ran as submitted"
        )
    sub = read_submission(course.submission(student, spec.assignment, spec.notebook), spec.cells, locked)
    res.problems.extend(sub.problems)
    budget = _Budget(float(spec.limits.cpu_s))
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
        _run_variant(spec, sandbox, sub.cells, names, device, dtype, hide, res, budget)
    res.failed = not sub.readable or any(
        p.startswith(("cell ", "the sandbox", "sandbox output", "notebook ")) for p in res.problems
    )
    _score(spec, res)
    res.wall_s = time.perf_counter() - start
    return res


@dataclass
class _Budget:
    """CPU seconds a submission may still use, over all its sessions and variants."""

    left: float


def _run_variant(
    spec: Spec,
    sandbox: Sandbox,
    cells: list[tuple[str, str]],
    names: list[str],
    device: str,
    dtype: str,
    hide: list[str],
    res: StudentResult,
    budget: _Budget,
) -> None:
    """Run the checks ``names`` in as few sessions as possible: a check that ends the runner (a crash, a CPU
    limit) fails alone, and the remaining checks continue in a fresh session."""
    remaining = list(names)
    replay_ns: dict[Any, Any] = {}  # this submission's trusted test-cell namespace (replay.run_replay)
    while remaining:
        if budget.left <= 0:
            for name in remaining:
                _fail(
                    res,
                    spec,
                    name,
                    device,
                    dtype,
                    f"not run: the submission used its {spec.limits.cpu_s} s of CPU time",
                )
            return
        limits = dataclasses.replace(spec.limits, cpu_s=max(1, math.ceil(budget.left)))
        session = sandbox.session(Job(cells=cells, device=device, dtype=dtype, limits=limits, hide=hide))
        try:
            loaded = session.loaded
            budget.left -= loaded.cpu_s
            if not res.cells:  # what each cell printed and raised, for the executed notebook
                res.cells = cell_outputs(cells, session.cell_outputs, session.cell_records)
            for rec in session.cell_records:
                if rec["kind"] == "cell-error":
                    msg = f"cell {rec['name']} raised an error:\n" + student_traceback(rec["error"] or "")
                    if msg not in res.problems:
                        res.problems.append(msg)
            if loaded.status != "ok":
                why = loaded.detail or loaded.status
                if loaded.status == "timeout":
                    res.timed_out = True
                for name in remaining:
                    _fail(res, spec, name, device, dtype, f"running the notebook's cells: {why}")
                return
            while remaining:
                name = remaining.pop(0)
                check = spec.check(name)
                cpu_limit = min(check.timeout_s or spec.limits.check_s, max(budget.left, 0.0))
                if check.replay is not None:
                    replayed = run_replay(
                        Path(check.replay), check.grade_id, session, device, cpu_limit, replay_ns
                    )
                    budget.left -= replayed.cpu_s
                    res.checks_s += replayed.cpu_s
                    if replayed.ended is None:
                        messages = replayed.messages
                        res.outcomes.append(
                            CheckOutcome(name, check.grade_id, device, dtype, not messages, messages)
                        )
                        continue
                    out = replayed.ended
                else:
                    out = session.probe(spec.probe(name), cpu_limit)
                    budget.left -= out.cpu_s
                    res.checks_s += out.cpu_s
                    if out.status == "ok" and out.record is not None:
                        _judge(spec, res, name, device, dtype, out.record)
                        continue
                if out.status == "timeout":
                    res.timed_out = True
                detail = out.detail or out.status
                if out.status == "malformed":
                    detail = f"its result could not be read ({detail})"
                _fail(res, spec, name, device, dtype, detail)
                if not spec.partial_credit:
                    for other in [n for n in remaining if spec.check(n).grade_id == check.grade_id]:
                        _fail(
                            res, spec, other, device, dtype, f"not run: check {name} of the same cell failed"
                        )
                        remaining.remove(other)
                break  # the runner has ended: the remaining checks get a fresh one
        finally:
            run = session.close()
            res.sandbox_s += run.wall_s
            if run.stdout and not res.stdout:
                res.stdout = _capped(run.stdout)
            if run.stderr and not res.stderr:
                res.stderr = _capped(run.stderr)
            for note in run.notes:
                if note not in res.problems:
                    res.problems.append(note)


def cell_outputs(
    cells: list[tuple[str, str]], outputs: list[tuple[str, str]], records: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """``{"cell", "stdout", "stderr", "error"}`` of each cell that ran, in order (errors as the student's
    traceback)."""
    errors: dict[str, list[str]] = {}
    for rec in records:
        if rec["kind"] == "cell-error":
            errors.setdefault(str(rec["name"]), []).append(student_traceback(rec["error"] or ""))
    out = []
    for (cell_id, _), (stdout, stderr) in zip(cells, outputs):
        error = errors[cell_id].pop(0) if errors.get(cell_id) else ""
        out.append({"cell": cell_id, "stdout": _capped(stdout), "stderr": _capped(stderr), "error": error})
    return out


def _capped(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"\n[... {len(text) - MAX_TEXT} more bytes not shown]"


_TRACEBACK_ENTRY = re.compile(r'^  File "(?P<file>[^"]*)", line \d+')


def student_traceback(text: str) -> str:
    """Keep only the traceback entries of the student's cells (no grader or hidden-spec code) and the error."""
    out: list[str] = []
    keep = True
    for line in text.splitlines():
        m = _TRACEBACK_ENTRY.match(line)
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
        CheckOutcome(
            name, spec.check(name).grade_id, device, dtype, passed=False, messages=[message[:MAX_TEXT]]
        )
    )


def _judge(
    spec: Spec, res: StudentResult, name: str, device: str, dtype: str, record: dict[str, Any]
) -> None:
    check = spec.check(name)
    if record["error"] is not None:
        _fail(
            res,
            spec,
            name,
            device,
            dtype,
            "raised an error:\n" + student_traceback(record["error"])[-MAX_TEXT:],
        )
        return
    ref = reference_output(spec, name, device, dtype)
    compare = check.compare or compare_outputs
    try:
        messages = [m[:MAX_TEXT] for m in compare(record["data"], ref, check.tolerance.for_dtype(dtype))]
    except (TypeError, ValueError, OverflowError, KeyError, IndexError) as exc:
        messages = [f"could not compare the result: {str(exc)[:500]}"]
    plot = None
    plotter = getattr(compare, "plot", None)  # a lockstep check draws the entry that diverged first
    if messages and callable(plotter):
        try:
            plot = plotter(record["data"], ref, check.tolerance.for_dtype(dtype))
        except (TypeError, ValueError, OverflowError, KeyError, IndexError):
            plot = None
    elif check.plot and isinstance(ref.get(check.plot), np.ndarray):
        plot = {"reference": _thin(ref[check.plot])}
        got = record["data"].get(check.plot)
        if isinstance(got, np.ndarray) and got.size and got.dtype.kind in "biuf":
            plot["student"] = _thin(got)
    res.outcomes.append(CheckOutcome(name, check.grade_id, device, dtype, not messages, messages, plot))


def _thin(arr: np.ndarray) -> list[float]:
    flat = np.asarray(arr, dtype=np.float64)
    if flat.ndim == 0 or flat.size == 0 or 0 in flat.shape:
        return []
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
    """Paths hidden from the sandbox: the course directory, the specs, the reference implementations
    (``course_pkg/``) and, in a checkout, everything in the repository except the autograder package and the virtual
    environment (solutions under ``assignments/``, tests, the book), plus ``extra``. Installed from a wheel, the
    package's parent is ``site-packages``: only ``course_pkg`` is hidden there (torch, numpy, … stay usable)."""
    paths = {str(course.root.resolve()), str(Path(spec.path).resolve().parent)}
    package = Path(__file__).resolve().parent
    if installed_layout():
        paths.add(str(package.parent / "course_pkg"))
    else:
        for entry in package.parent.iterdir():
            if entry.name not in (package.name, ".venv", ".git"):
                paths.add(str(entry.resolve()))
        paths.add(str(package.parent / ".git"))
    paths.add(str(package / "specs"))  # every course's hidden specs, not only this one's
    paths.update(extra or [])
    keep = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()]
    return sorted(p for p in paths if not any(k == Path(p) or Path(p) in k.parents for k in keep))


def installed_layout() -> bool:
    """True when the grader runs from an installed package (its parent folder is a ``site-packages``), not from a
    checkout."""
    import site
    import sysconfig

    parent = Path(__file__).resolve().parent.parent
    dirs = [*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    return any(Path(d).resolve() == parent for d in dirs if d)
