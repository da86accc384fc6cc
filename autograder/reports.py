"""After grading: per-student HTML feedback, CSV and Gradescope exports, and LMS zip collection."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autograder.gradebook import open_gradebook
from autograder.notebook import Course
from autograder.spec import Spec
from autograder.verdicts import find_check, is_hidden, public_messages

_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


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
        out = course.feedback_dir(student, spec.assignment)
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{spec.notebook}.html"
        try:
            page = render_feedback(result, spec, scores[student], points)
        except Exception as exc:  # noqa: BLE001 - one student's odd data must not stop everyone's feedback
            page = (
                "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                f"<p>Scores: {html.escape(repr(scores[student]))}. The detailed feedback could not be rendered "
                f"({html.escape(type(exc).__name__)}); ask your instructor.</p></body></html>"
            )
        path.write_text(page, encoding="utf-8", errors="replace")
        written.append(path)
    return written


def export(course: Course | Path, spec: Spec, fmt: str, output: Path) -> Path:
    """Export the gradebook's scores: ``csv`` (one row per student) or ``gradescope`` (a results.json each)."""
    course = course if isinstance(course, Course) else Course(Path(course))
    from autograder.pipeline import load_result

    if fmt not in ("csv", "gradescope"):
        raise ValueError(f"--format must be csv or gradescope, got {fmt!r}")
    scores = gradebook_scores(course, spec.assignment, spec.notebook)
    points = grade_points(course, spec.assignment, spec.notebook)
    if fmt == "csv":
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["assignment", "student_id", "score", "max_score", *points])
            for student, cells in sorted(scores.items()):
                row = [spec.assignment, student, f"{sum(cells.values()):g}", f"{sum(points.values()):g}"]
                writer.writerow(row + [f"{cells.get(g, 0.0):g}" for g in points])
        return output
    for student, cells in sorted(scores.items()):
        result = load_result(course, spec.assignment, student) or {"outcomes": [], "sandbox_s": 0.0}
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
        doc = {
            "score": sum(cells.values()),
            "execution_time": round(float(result.get("sandbox_s", 0.0)), 3),
            "tests": tests,
        }
        target = output / student / "results.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(doc, indent=1))
    return output


def collect_zip(course: Course, assignment: str, notebook: str, zip_path: Path, pattern: str) -> list[str]:
    """Import an LMS zip (one notebook per student) into ``submitted/<student>/<assignment>/``.

    The student id is the ``student`` group of ``pattern`` matched against each file's base name; entries that are
    not notebooks, or whose id is not a plain identifier, are skipped. Returns the student ids imported.
    """
    regex = re.compile(pattern)
    if "student" not in regex.groupindex:
        raise ValueError("--pattern needs a named group (?P<student>...)")
    if not zipfile.is_zipfile(zip_path):
        raise ValueError(f"{zip_path} is not a zip file")
    imported: list[str] = []
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            name = Path(info.filename).name
            if info.is_dir() or not name.endswith(".ipynb") or info.file_size > 50_000_000:
                continue
            match = regex.search(name)
            student = match.group("student") if match else None
            if not student or not _STUDENT_ID.match(student):
                continue
            target = course.submission(student, assignment, notebook)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            (target.parent / "timestamp.txt").write_text(stamp)
            imported.append(student)
    return sorted(set(imported))
