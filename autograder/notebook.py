"""Course layout and defensive reading of submitted notebooks."""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


# ------------------------------------------------------------------------------------------------------------
# The autograded copy that nbgrader's own tools show (formgrader, ``nbgrader generate_feedback``)

MAX_OUTPUT_CHARS = 10_000  # of one output of one cell
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# tags that run code or load content when a markdown cell is rendered as HTML (nbconvert passes raw HTML through)
_ACTIVE_TAG = re.compile(
    r"<(?=/?\s*(script|iframe|object|embed|style|link|meta|base|form|svg|math|img|video|audio|source|input|"
    r"button|textarea|select|frame|frameset|applet|template|noscript)\b)",
    re.IGNORECASE,
)
_ACTIVE_ATTR = re.compile(r"(\bon[a-z]+\s*=|javascript\s*:)", re.IGNORECASE)


def _text(value: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Student output as plain text: no ANSI escapes or control characters, no tag that a renderer could run
    (``<script`` becomes ``&lt;script``; ``grad_fn=<MulBackward0>`` stays), at most ``limit`` characters."""
    text = _ACTIVE_TAG.sub("&lt;", _CONTROL.sub("", _ANSI.sub("", value)))  # "<script" shows as "&lt;script"
    if len(text) > limit:
        text = text[:limit] + f"\n[... {len(text) - limit} more characters not shown]"
    return text


def safe_markdown(source: str) -> str:
    """A student's markdown with the HTML that could run code made inert (``<script`` → ``&lt;script``, event
    handlers and ``javascript:`` links defused); the rest renders as written."""
    return _ACTIVE_ATTR.sub(
        lambda m: m.group(0).replace("=", "&#61;").replace(":", "&#58;"), _ACTIVE_TAG.sub("&lt;", source)
    )


def strip_hidden_tests(source: str) -> str:
    """``source`` without the lines from ``### BEGIN HIDDEN TESTS`` to ``### END HIDDEN TESTS`` (nbgrader's
    ``ClearHiddenTests``)."""
    out, hidden = [], False
    for line in source.splitlines(keepends=True):
        if "### BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "### END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            out.append(line)
    return "".join(out)


def _is_test(cell: dict) -> bool:
    """An nbgrader test cell: code, graded, not a solution."""
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _node(**fields: Any) -> Any:
    """An output as ``nbformat.v4.new_output`` makes it, not validated on its own: the whole notebook is validated
    once (:func:`autograded_notebook`), a third of the CPU of validating each output and cell as it is made."""
    from nbformat import NotebookNode

    return NotebookNode(fields)


def _cell(kind: str, source: str) -> Any:
    """A cell as ``nbformat.v4.new_{code,markdown,raw}_cell`` makes it (a fresh ``id``), not validated on its own."""
    from nbformat.corpus.words import generate_corpus_id

    cell = _node(id=generate_corpus_id(), cell_type=kind, metadata=_node(), source=source)
    if kind == "code":
        cell.execution_count, cell.outputs = None, []
    return cell


def _student_outputs(ran: dict[str, str]) -> list[Any]:
    outputs = []
    for name in ("stdout", "stderr"):
        if ran.get(name):
            outputs.append(_node(output_type="stream", name=name, text=_text(ran[name])))
    if ran.get("error"):
        lines = _text(ran["error"]).splitlines() or ["Error"]
        last = lines[-1]
        ename, _, evalue = last.partition(": ")
        if not re.fullmatch(r"[A-Za-z_][\w.]{0,99}", ename):
            ename, evalue = "Error", last
        outputs.append(_node(output_type="error", ename=ename, evalue=evalue, traceback=lines))
    return outputs


def _verdict_output(passed: bool | None, lines: list[str]) -> Any:
    lines = [_text(line, 4 * MAX_OUTPUT_CHARS) for line in lines]
    if passed is False:
        return _node(output_type="error", ename="CheckFailed", evalue=lines[0], traceback=lines)
    return _node(output_type="stream", name="stdout", text="\n".join(lines) + "\n")


def autograded_notebook(submitted: Path, source_nb: Path, result: dict[str, Any], spec: Any) -> Any:
    """The executed notebook nbgrader's tools show, built from trusted parts only.

    * Cells in the student's order; locked cells (helpers, tests, instructions) as the instructor wrote them
      (nbgrader's ``OverwriteCells``), with the instructor's nbgrader metadata (grade id, points) — the
      gradebook's — and the hidden tests removed; a test cell the student deleted is appended.
    * Every code cell the grader ran carries what it printed and raised in the sandbox (``result["cells"]``) as
      plain text streams and an error, ANSI and control characters removed, size-capped. Nothing the student
      saved in the notebook survives: no HTML, JavaScript or images from the submission.
    * Each locked test cell's output is the autograder's verdict (:func:`autograder.verdicts.cell_verdict`):
      "PASSED ..." as text, or an error listing the failed checks (hidden ones by name only).
    * Markdown the student wrote keeps its text with active HTML made inert; raw cells become escaped text.

    Raises ``ValueError`` (or ``OSError``) when the submission or the instructor's notebook cannot be read.
    """
    import html

    import nbformat

    from autograder.verdicts import cell_verdict

    theirs = _load(submitted)
    mine = _load(source_nb)
    instructor: dict[str, dict] = {}
    for cell in mine["cells"]:
        gid = _nbgrader(cell).get("grade_id")
        if isinstance(gid, str):
            instructor.setdefault(gid, cell)
    ran = list(result.get("cells") or [])
    scores, max_scores = result.get("scores", {}), result.get("max_scores", {})
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        k: mine.get("metadata", {})[k]
        for k in ("kernelspec", "language_info")
        if k in mine.get("metadata", {})
    }
    seen_tests: set[str] = set()

    def ran_as(run_id: str) -> dict[str, str] | None:
        """The next run of the cell ``run_id`` (cells run in notebook order; one that did not run is skipped)."""
        for k, entry in enumerate(ran):
            if entry.get("cell") == run_id:
                del ran[: k + 1]
                return entry
        return None

    def test_cell(gid: str) -> Any:
        ref = instructor[gid]
        cell = _cell("code", strip_hidden_tests(_source(ref) or ""))
        cell.metadata["nbgrader"] = dict(_nbgrader(ref))
        passed, lines = cell_verdict(result, spec, gid, scores.get(gid), max_scores.get(gid))
        cell.outputs = [_verdict_output(passed, lines)]
        seen_tests.add(gid)
        return cell

    for n, raw in enumerate(theirs["cells"]):
        if not isinstance(raw, dict):
            continue
        kind = raw.get("cell_type")
        gid = _nbgrader(raw).get("grade_id")
        gid = gid if isinstance(gid, str) else None
        ref = instructor.get(gid) if gid else None
        ref_meta = _nbgrader(ref) if ref is not None else {}
        if ref is not None and _is_test(ref):
            # a test cell disguised as the student's own ran in the sandbox: its output is not shown
            if ran and ran[0].get("cell") == gid:
                ran.pop(0)
            nb.cells.append(test_cell(gid))  # type: ignore[arg-type]
            continue
        locked = ref is not None and bool(ref_meta.get("locked"))
        source = (_source(ref) if locked else _source(raw)) or ""
        if locked:
            kind = ref.get("cell_type")  # type: ignore[union-attr]
        if kind == "code":
            cell = _cell("code", source)
            entry = ran_as(gid or f"[{n}]")
            if entry is not None:
                cell.outputs = _student_outputs(entry)
        elif kind == "markdown":
            cell = _cell("markdown", source if locked else safe_markdown(source))
        elif kind == "raw":
            cell = _cell("raw", source if locked else html.escape(source))
        else:
            continue
        if ref is not None:
            cell.metadata["nbgrader"] = dict(ref_meta)
        nb.cells.append(cell)
    for gid, ref in instructor.items():
        if _is_test(ref) and gid not in seen_tests:
            nb.cells.append(test_cell(gid))
    nbformat.validate(nb)
    return nb


def write_autograded(course: Course, spec: Any, result: dict[str, Any]) -> Path | None:
    """Write ``autograded/<student>/<assignment>/<notebook>.ipynb`` (:func:`autograded_notebook`); None when the
    submission could not be read (nothing is written then, and an older copy is removed)."""
    import nbformat

    student, assignment = result["student"], result["assignment"]
    target = course.autograded_dir(student, assignment) / f"{spec.notebook}.ipynb"
    source_nb = course.root / "source" / assignment / f"{spec.notebook}.ipynb"
    try:
        nb = autograded_notebook(
            course.submission(student, assignment, spec.notebook), source_nb, result, spec
        )
    except (OSError, ValueError, nbformat.ValidationError):
        if target.is_file() and not target.is_symlink():
            target.unlink()
        return None
    from autograder.safefs import real_dir, write_atomic

    target = real_dir(course.root / "autograded", student, assignment) / target.name  # never through a link
    # nbformat.writes without validating again (autograded_notebook just did): the same JSON
    write_atomic(target, nbformat.versions[nb.nbformat].writes_json(nb).encode("utf-8"))
    return target
