"""Grading throughput: stock ``nbgrader autograde`` vs ``autograder grade`` on generated a3 submissions.

Generates submissions of ``a3-sgd-momentum-schedules`` (6 correct, 3 wrong, 1 hanging in every 10), grades one of
each kind with stock nbgrader (its seconds per submission weighted by the mix) and the first N of them with the
autograder for each N in ``BENCH_GRADING_N`` (default ``12,40``), in the same run, and prints the seconds per
submission of each and their ratio, plus a submission's sandbox wall time minus its checks' CPU time.
Stock nbgrader gets a per-cell timeout of 15 s (enough for its slowest cell, the training; the course's own setting
is 120 s, which would make stock grading of a hanging submission slower still); the autograder applies the spec's
per-check CPU limits (a3: 2 s CPU per check, 90 s for the training cell).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "a3-sgd-momentum-schedules"
KINDS = ("correct", "wrong", "hanging")
MIX = ("correct",) * 6 + ("wrong",) * 3 + ("hanging",)  # one submission in ten hangs


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _mutate(nb: dict, kind: str) -> dict:
    """A wrong (dampening applied to the first momentum step too) or hanging (step_lr loops) variant."""
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        src = "".join(cell["source"])
        if kind == "wrong" and gid == "sgd":
            src = src.replace("buf = g.detach().clone()", "buf = g.detach().clone().mul_(1 - dampening)")
        if kind == "hanging" and gid == "schedules":
            head = "def step_lr(k, eta0, step_size, gamma=0.1):\n"
            src = src.replace(head, head + "    while True:\n        pass\n", 1)
        cell["source"] = src
    return nb


def make_course(n: int, workdir: Path) -> Path:
    """An nbgrader course with the generated a3 release and ``n`` submissions (kinds cycling)."""
    course = workdir / "course"
    course.mkdir(parents=True)
    shutil.copy(ROOT / "assignments" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "assignments" / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"],
        cwd=course,
        env=_env(),
        check=True,
        capture_output=True,
    )
    solution = json.loads((course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    for i in range(n):
        kind = MIX[i % len(MIX)]
        target = course / "submitted" / f"{kind}-{i:03d}" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(_mutate(solution, kind)))
    return course


def _total(course: Path, student: str) -> float:
    """A student's total automatic score in a course's gradebook."""
    import sqlite3

    con = sqlite3.connect(course / "gradebook.db")
    (total,) = con.execute(
        "SELECT SUM(g.auto_score) FROM grade g JOIN submitted_notebook sn ON g.notebook_id = sn.id "
        "JOIN submitted_assignment sa ON sn.assignment_id = sa.id WHERE sa.student_id = ?",
        (student,),
    ).fetchone()
    con.close()
    return float(total or 0.0)


def _grade(course: Path, workers: int) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder.cli",
            "--course",
            str(course),
            "grade",
            ASSIGNMENT,
            "--workers",
            str(workers),
            "--device",
            "cpu",
            "--no-progress",
        ],
        cwd=ROOT,
        env=_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - start, proc.stdout.strip()


def run_bench(
    sizes: tuple[int, ...] = (12, 40), workers: int | None = None, timeout: int = 15
) -> dict[str, float]:
    """Generate, grade both ways (the autograder once per size in ``sizes``), print the table; returns the figures."""
    workers = workers or os.cpu_count() or 1
    n_max = max(sizes)
    figures: dict[str, float] = {}
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmpdir = Path(tmp)
        t0 = time.perf_counter()
        course = make_course(n_max, tmpdir)
        setup_s = time.perf_counter() - t0
        everyone = sorted(p.name for p in (course / "submitted").iterdir())
        stock_students = [
            next(s for s in everyone if s.startswith(k))
            for k in KINDS
            if any(s.startswith(k) for s in everyone)
        ]
        courses = {}
        for n in sizes:
            ours = tmpdir / f"ours-{n}"
            shutil.copytree(course, ours)
            keep = {f"{MIX[i % len(MIX)]}-{i:03d}" for i in range(n)}
            for sub in (ours / "submitted").iterdir():
                if sub.name not in keep:
                    shutil.rmtree(sub)
            courses[n] = ours
        stock_times: dict[str, float] = {}
        for student in stock_students:
            t1 = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "nbgrader",
                    "autograde",
                    ASSIGNMENT,
                    "--student",
                    student,
                    "--force",
                    f"--Execute.timeout={timeout}",
                ],
                cwd=course,
                env=_env(),
                check=True,
                capture_output=True,
            )
            stock_times[student.split("-")[0]] = time.perf_counter() - t1
        stock_scores = {s: _total(course, s) for s in stock_students}
        rows += [
            ("setup (generate_assignment + notebooks)", f"{setup_s:.1f} s"),
            (
                f"stock nbgrader autograde, one of each kind (cell timeout {timeout} s)",
                ", ".join(f"{k} {v:.1f} s" for k, v in stock_times.items()),
            ),
        ]
        for n, ours in courses.items():
            ours_s, table = _grade(ours, workers)
            counts = {k: sum(1 for i in range(n) if MIX[i % len(MIX)] == k) for k in KINDS}
            per_stock = sum(stock_times[k] * c for k, c in counts.items() if k in stock_times) / n
            per_ours = ours_s / n
            sandbox, all_sandbox, inside = [], [], []
            for student in sorted(p.name for p in (ours / "submitted").iterdir()):
                res = json.loads((ours / "autograded" / student / ASSIGNMENT / "autograder.json").read_text())
                all_sandbox.append(res["sandbox_s"])
                if student.startswith("correct"):
                    sandbox.append(res["sandbox_s"])
                    inside.append(res["sandbox_s"] - res["checks_s"])
            steady = sum(all_sandbox) / workers / n
            our_scores = {s: _total(ours, s) for s in stock_students if (ours / "submitted" / s).is_dir()}
            figures[f"ratio_n{n}"] = per_stock / per_ours
            figures[f"autograder_s_per_submission_n{n}"] = per_ours
            figures["stock_s_per_submission"] = per_stock
            rows += [
                (f"n = {n}: submissions", ", ".join(f"{c} {k}" for k, c in counts.items())),
                (f"n = {n}: autograder grade ({workers} workers, incl. start-up)", f"{ours_s:.1f} s"),
                (f"n = {n}: stock s / submission (weighted by the mix)", f"{per_stock:.2f}"),
                (f"n = {n}: autograder s / submission", f"{per_ours:.2f}"),
                (
                    f"n = {n}: speed-up (stock / autograder)",
                    f"{per_stock / per_ours:.1f}x (target >= 10x at n = 12)",
                ),
                (
                    f"n = {n}: steady state s / submission (no start-up)",
                    f"{steady:.2f} ({per_stock / steady:.1f}x)",
                ),
                (
                    f"n = {n}: scores, stock vs autograder",
                    ", ".join(f"{k.split('-')[0]} {stock_scores[k]:g}/{our_scores[k]:g}" for k in our_scores),
                ),
                (
                    f"n = {n}: sandbox wall minus the checks' CPU, correct (median)",
                    f"{statistics.median(inside):.3f} s" if inside else "-",
                ),
            ]
            rows.append((f"n = {n}: summary", table.replace("\n", "; ")))
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    return figures


def main() -> None:
    """``make bench`` entry point."""
    sizes = os.environ.get("BENCH_GRADING_N", "12,40")
    run_bench(sizes=tuple(int(v) for v in sizes.split(",")))


if __name__ == "__main__":
    main()
