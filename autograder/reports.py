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
from autograder.verdicts import find_check, is_hidden, public_messages


def _plot_png(plot: dict[str, Any], title: str) -> str:
    """The reference and the student's values over the steps t = 1, 2, ... (and, for a lockstep check, the error
    against the tolerance on a log scale, the first divergence marked)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    ref = [float(x) for x in plot["reference"]]
    steps = list(range(1, len(ref) + 1))
    got = [float(x) for x in plot.get("student", [])][: len(ref)]
    bound = [float(x) for x in plot.get("bound", [])][: len(ref)]
    label = str(plot.get("label", "first coordinate"))
    two = bool(got) and len(bound) == len(got) == len(ref)
    fig = Figure(figsize=(8.4 if two else 5, 2.8), dpi=90)
    axes = fig.subplots(1, 2) if two else [fig.add_subplot()]
    ax = axes[0]
    ax.plot(
        steps, ref, "o-", label="torch.optim (expected)" if two else "reference", color="#444", lw=1.5, ms=3
    )
    if got:
        ax.plot(steps[: len(got)], got, "x--", label="your code", color="#d62728", lw=1.2, ms=4)
    ax.set_xlabel("step t")
    ax.set_ylabel(label if len(label) <= 40 else "value", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    if two:
        import math

        err = [abs(g - r) if math.isfinite(g - r) else float("nan") for g, r in zip(got, ref)]
        ax2 = axes[1]
        ax2.semilogy(steps, [max(e, 1e-300) for e in err], "x-", color="#d62728", label="|got - expected|")
        ax2.semilogy(steps, [max(b, 1e-300) for b in bound], ":", color="#444", label="tolerance")
        if "first_step" in plot:
            ax2.axvline(float(plot["first_step"]), color="#888", lw=0.8)
        ax2.set_xlabel("step t")
        ax2.set_title(f"error of {label}" if len(label) <= 45 else "error", fontsize=9)
        ax2.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode()


def _check_heading(o: dict[str, Any], spec: Spec) -> str:
    esc = html.escape
    check = find_check(spec, o["name"])
    mark = "<span class='pass'>passed</span>" if o["passed"] else "<span class='fail'>failed</span>"
    return f"{esc(o['name'])} ({esc(o['device'])}, {esc(o['dtype'])}): {mark}" + (
        " <i>(hidden test)</i>" if is_hidden(check) else ""
    )


def render_feedback(
    result: dict[str, Any], spec: Spec, scores: dict[str, float], points: dict[str, float]
) -> str:
    """One student's feedback page: scores per grade cell, then the failed checks (each leading with its first
    divergence, with a plot of the entry that diverged), then the passed checks collapsed. Hidden checks show
    their name and verdict only."""
    esc = html.escape
    total, max_total = sum(scores.values()), sum(points.values())
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>Feedback: {esc(spec.assignment)}</title>",
        "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px}"
        ".pass{color:#1a7f37}.fail{color:#c62828}pre{background:#f6f8fa;padding:8px;white-space:pre-wrap}"
        "pre.first{border-left:4px solid #c62828}img{max-width:100%}"
        "</style></head><body>",
        f"<h1>{esc(spec.assignment)}: {total:g} / {max_total:g}</h1>",
        f"<p>Student: <b>{esc(result['student'])}</b>. Checks ran on: <b>{esc(', '.join(result['devices']))}</b>.</p>",
        "<table><tr><th>grade cell</th><th>score</th><th>checks</th></tr>",
    ]
    outcomes = result["outcomes"]
    for gid, max_score in points.items():
        mine = [o for o in outcomes if o["grade_id"] == gid]
        passed = sum(o["passed"] for o in mine)
        cls = " class='fail'" if passed < len(mine) else ""
        parts.append(
            f"<tr{cls}><td>{esc(gid)}</td><td>{scores.get(gid, 0):g} / {max_score:g}</td>"
            f"<td>{passed} of {len(mine)} passed</td></tr>"
        )
    parts.append("</table>")
    if result["problems"]:
        parts.append("<h2>Problems with the notebook</h2>")
        parts += [f"<pre>{esc(p)}</pre>" for p in result["problems"]]
    failed = [o for o in outcomes if not o["passed"]]
    passed = [o for o in outcomes if o["passed"]]
    if failed:
        parts.append(f"<h2>Failed checks ({len(failed)})</h2>")
    for o in failed:
        check = find_check(spec, o["name"])
        parts.append(f"<h3>{_check_heading(o, spec)}</h3>")
        if not is_hidden(check) and check is not None and check.description:
            parts.append(f"<p>{esc(check.description)}</p>")
        for n, m in enumerate(public_messages(o, spec)):
            parts.append(f"<pre{' class=first' if n == 0 else ''}>{esc(m)}</pre>")
        if o.get("plot") and not is_hidden(check):
            try:
                png = _plot_png(o["plot"], "your values vs the reference")
            except (
                ValueError,
                OverflowError,
                RuntimeError,
                TypeError,
                KeyError,
            ):  # e.g. values near ±1.7e308
                parts.append("<p>(the trajectory could not be drawn: its values are out of range)</p>")
            else:
                what = esc(str(o["plot"].get("label", "trajectory")))
                parts.append(
                    f"<img alt='{what} of {esc(o['name'])} over the steps' src='data:image/png;base64,{png}'>"
                )
    if passed:
        parts.append(f"<h2>Passed checks ({len(passed)})</h2>")
        parts.append(f"<details><summary>{len(passed)} check(s) passed</summary><ul>")
        parts += [f"<li>{_check_heading(o, spec)}</li>" for o in passed]
        parts.append("</ul></details>")
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
                f"{o['name']} ({o['device']}, {o['dtype']}): " + "; ".join(public_messages(o, spec))
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
