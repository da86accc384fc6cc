"""After grading: per-student HTML feedback, CSV and Gradescope exports (collection: ``autograder.collect``)."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from autograder.gradebook import open_gradebook
from autograder.notebook import Course
from autograder.safefs import real_dir, write_atomic
from autograder.spec import Spec


def _plot_png(plot: dict[str, list[float]], title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 2.6), dpi=90)
    ax = fig.add_subplot()
    ax.plot(plot["reference"], "o-", label="reference", color="#444", lw=1.5, ms=3)
    if "student" in plot:
        ax.plot(plot["student"], "x--", label="your code", color="#d62728", lw=1.2, ms=4)
    ax.set_xlabel("step t")
    ax.set_ylabel("first coordinate")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode()


def render_feedback(
    result: dict[str, Any], spec: Spec, scores: dict[str, float], points: dict[str, float]
) -> str:
    """One student's feedback page: scores per grade cell, failed checks' messages, plots, devices used."""
    esc = html.escape
    total, max_total = sum(scores.values()), sum(points.values())
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>Feedback: {esc(spec.assignment)}</title>",
        "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px}"
        ".pass{color:#1a7f37}.fail{color:#c62828}pre{background:#f6f8fa;padding:8px;white-space:pre-wrap}"
        "</style></head><body>",
        f"<h1>{esc(spec.assignment)}: {total:g} / {max_total:g}</h1>",
        f"<p>Student: <b>{esc(result['student'])}</b>. Checks ran on: <b>{esc(', '.join(result['devices']))}</b>.</p>",
        "<table><tr><th>grade cell</th><th>score</th><th>checks</th></tr>",
    ]
    for gid, max_score in points.items():
        mine = [o for o in result["outcomes"] if o["grade_id"] == gid]
        passed = sum(o["passed"] for o in mine)
        parts.append(
            f"<tr><td>{esc(gid)}</td><td>{scores.get(gid, 0):g} / {max_score:g}</td>"
            f"<td>{passed} of {len(mine)} passed</td></tr>"
        )
    parts.append("</table>")
    if result["problems"]:
        parts.append("<h2>Problems with the notebook</h2>")
        parts += [f"<pre>{esc(p)}</pre>" for p in result["problems"]]
    parts.append("<h2>Checks</h2>")
    for o in result["outcomes"]:
        check = next((c for c in spec.checks if c.name == o["name"]), None)
        what = esc(check.description) if check and check.description else ""
        mark = "<span class='pass'>passed</span>" if o["passed"] else "<span class='fail'>failed</span>"
        parts.append(
            f"<h3>{esc(o['name'])} ({esc(o['device'])}, {esc(o['dtype'])}): {mark}</h3><p>{what}</p>"
        )
        parts += [f"<pre>{esc(m)}</pre>" for m in o["messages"]]
        if o.get("plot") and not o["passed"]:
            try:
                png = _plot_png(o["plot"], f"{o['name']}: your trajectory vs the reference")
            except (
                ValueError,
                OverflowError,
                RuntimeError,
                TypeError,
                KeyError,
            ):  # e.g. values near ±1.7e308
                parts.append("<p>(the trajectory could not be drawn: its values are out of range)</p>")
            else:
                parts.append(f"<img alt='trajectory of {esc(o['name'])}' src='data:image/png;base64,{png}'>")
    if result.get("stdout"):
        parts.append(f"<h2>Output of your code</h2><pre>{esc(result['stdout'][:5000])}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def gradebook_scores(course: Course, assignment: str, notebook: str) -> dict[str, dict[str, float]]:
    """``student → {grade_id: score}`` from nbgrader's gradebook (manual overrides included)."""
    out: dict[str, dict[str, float]] = {}
    with open_gradebook(course.db_url) as gb:
        for sub in gb.assignment_submissions(assignment):
            for snb in sub.notebooks:
                if snb.notebook.name == notebook:
                    out[sub.student.id] = {g.cell.name: float(g.score or 0.0) for g in snb.grades}
    return out


def grade_points(course: Course, assignment: str, notebook: str) -> dict[str, float]:
    """``grade_id → max_score`` from the gradebook."""
    from autograder.gradebook import grade_cell_points

    with open_gradebook(course.db_url) as gb:
        return grade_cell_points(gb, assignment, notebook)


def write_feedback(course: Course | Path, spec: Spec, students: list[str] | None = None) -> list[Path]:
    """Write ``feedback/<student>/<assignment>/<notebook>.html`` for every graded student."""
    course = course if isinstance(course, Course) else Course(Path(course))
    from autograder.pipeline import load_result

    scores = gradebook_scores(course, spec.assignment, spec.notebook)
    points = grade_points(course, spec.assignment, spec.notebook)
    written = []
    for student in sorted(scores):
        if students and student not in students:
            continue
        result = load_result(course, spec.assignment, student)
        if result is None:
            continue
        out = real_dir(course.root / "feedback", student, spec.assignment)  # never through a symbolic link
        path = out / f"{spec.notebook}.html"
        try:
            page = render_feedback(result, spec, scores[student], points)
        except Exception as exc:  # noqa: BLE001 - one student's odd data must not stop everyone's feedback
            page = (
                "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                f"<p>Scores: {html.escape(repr(scores[student]))}. The detailed feedback could not be rendered "
                f"({html.escape(type(exc).__name__)}); ask your instructor.</p></body></html>"
            )
        write_atomic(path, page.encode("utf-8", errors="replace"))
        written.append(path)
    return written


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula: text starting with ``= + - @``, a tab or a carriage
    return gets a leading ``'`` (OWASP, "CSV Injection"); the csv module quotes the rest."""
    text = str(cell)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _when(ts: datetime | None) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC") if ts is not None else ""


def export(course: Course | Path, spec: Spec, fmt: str, output: Path) -> Path:
    """Export the gradebook's scores: ``csv`` (one row per student) or ``gradescope`` (a results.json each).

    Both show lateness as nbgrader's gradebook records it: the submission time (UTC), seconds late and the late
    penalty; ``score`` is the raw score minus the penalty (as in ``nbgrader export``). CSV cells are made safe for
    spreadsheets (:func:`spreadsheet_safe`).
    """
    course = course if isinstance(course, Course) else Course(Path(course))
    from autograder.gradebook import lateness
    from autograder.pipeline import load_result

    if fmt not in ("csv", "gradescope"):
        raise ValueError(f"--format must be csv or gradescope, got {fmt!r}")
    scores = gradebook_scores(course, spec.assignment, spec.notebook)
    points = grade_points(course, spec.assignment, spec.notebook)
    with open_gradebook(course.db_url) as gb:
        late = lateness(gb, spec.assignment)
    if fmt == "csv":
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", newline="") as fh:
            writer = csv.writer(fh)
            head = [
                "assignment",
                "student_id",
                "timestamp",
                "seconds_late",
                "late_penalty",
                "raw_score",
                "score",
            ]
            writer.writerow([spreadsheet_safe(c) for c in [*head, "max_score", *points]])
            for student, cells in sorted(scores.items()):
                raw, lt = sum(cells.values()), late[student]
                row = [
                    spec.assignment,
                    student,
                    _when(lt.timestamp),
                    f"{lt.seconds_late:g}",
                    f"{lt.penalty:g}",
                ]
                row += [f"{raw:g}", f"{raw - lt.penalty:g}", f"{sum(points.values()):g}"]
                row += [f"{cells.get(g, 0.0):g}" for g in points]
                writer.writerow([spreadsheet_safe(c) for c in row])
        return output
    for student, cells in sorted(scores.items()):
        result = load_result(course, spec.assignment, student) or {"outcomes": [], "sandbox_s": 0.0}
        lt = late[student]
        tests = []
        for gid, max_score in points.items():
            msgs = [
                f"{o['name']} ({o['device']}, {o['dtype']}): " + "; ".join(o["messages"])
                for o in result["outcomes"]
                if o["grade_id"] == gid and not o["passed"]
            ]
            tests.append(
                {
                    "name": gid,
                    "score": cells.get(gid, 0.0),
                    "max_score": max_score,
                    "output": "\n".join(msgs) or "all checks passed",
                }
            )
        when = f"submitted {_when(lt.timestamp)}" if lt.timestamp else "no submission time recorded"
        doc = {
            "score": sum(cells.values()) - lt.penalty,
            "execution_time": round(float(result.get("sandbox_s", 0.0)), 3),
            "output": f"{when}; {lt.seconds_late:g} s late; late penalty {lt.penalty:g}",
            "extra_data": {
                "timestamp": _when(lt.timestamp),
                "seconds_late": lt.seconds_late,
                "late_penalty": lt.penalty,
                "raw_score": sum(cells.values()),
            },
            "tests": tests,
        }
        target = output / student / "results.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(doc, indent=1))
    return output
