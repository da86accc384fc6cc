"""Grading throughput: stock ``nbgrader autograde`` vs ``autograder grade`` on generated a3 submissions.

Generates N submissions of ``a3-sgd-momentum-schedules`` (6 correct, 3 wrong, 1 hanging in every 10), grades one of
each kind with stock nbgrader (its seconds per submission weighted by the mix) and all N with the autograder, in the
same run, and prints the seconds per submission of each and their ratio, plus the autograder's per-submission
overhead above the checks' own compute (a submission's sandbox time minus the time its checks took inside the
sandbox, same run; the checks' in-process time without any sandbox is printed for comparison).
Stock nbgrader gets a per-cell timeout of 15 s (enough for its slowest cell, the training; the course's own setting
is 120 s, which would make stock grading of a hanging submission slower still); the autograder applies the spec's
per-check limits (a3: 5 s per check, 90 s for the training check).
"""

from __future__ import annotations

import contextlib
import io
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
            src = src.replace("buf = g.detach().clone()", "buf = g.detach().clone().mul_(1 - tau)")
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


def checks_own_compute() -> float:
    """Seconds the a3 checks take in-process on the correct solution (no sandbox, no comparison)."""
    import torch

    from autograder.spec import load_spec, notebook_cells, spec_path

    spec = load_spec(spec_path(ASSIGNMENT))
    src = ROOT / "assignments" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    cells = notebook_cells(src, spec.cells)
    ns: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(spec.prelude, ns)
        for gid in spec.cells:
            exec(cells[gid], ns)
        for c in spec.checks:  # warm-up (first-use imports happen in the sandbox template too)
            c.run(ns, torch.device("cpu"), torch.float64)
        start = time.perf_counter()
        for c in spec.checks:
            c.run(ns, torch.device("cpu"), torch.float64)
        return time.perf_counter() - start


def run_bench(n: int = 40, workers: int | None = None, timeout: int = 15) -> dict[str, float]:
    """Generate, grade both ways, print the table; returns the figures."""
    workers = workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmpdir = Path(tmp)
        t0 = time.perf_counter()
        course = make_course(n, tmpdir)
        setup_s = time.perf_counter() - t0
        ours = tmpdir / "ours"
        shutil.copytree(course, ours)
        everyone = sorted(p.name for p in (course / "submitted").iterdir())
        stock_students = [
            next(s for s in everyone if s.startswith(k))
            for k in KINDS
            if any(s.startswith(k) for s in everyone)
        ]
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
        start = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "autograder.cli",
                "--course",
                str(ours),
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
        ours_s = time.perf_counter() - start
        stock_scores = {s: _total(course, s) for s in stock_students}
        our_scores = {s: _total(ours, s) for s in stock_students}
        sandbox, all_sandbox, inside = [], [], []
        for student in sorted(p.name for p in (ours / "submitted").iterdir()):
            res = json.loads((ours / "autograded" / student / ASSIGNMENT / "autograder.json").read_text())
            all_sandbox.append(res["sandbox_s"])
            if student.startswith("correct"):
                sandbox.append(res["sandbox_s"])
                inside.append(res["sandbox_s"] - res["checks_s"])
    own = min(checks_own_compute() for _ in range(3))
    counts = {k: sum(1 for i in range(n) if MIX[i % len(MIX)] == k) for k in KINDS}
    per_stock = sum(stock_times[k] * c for k, c in counts.items() if k in stock_times) / n
    per_ours = ours_s / n
    # Same run, same load: the sandbox time of a submission minus the time its checks took inside the sandbox.
    overhead = statistics.median(inside)
    steady = sum(all_sandbox) / workers / n  # start-up excluded: what one more submission costs
    figures = {
        "stock_s_per_submission": per_stock,
        "autograder_s_per_submission": per_ours,
        "ratio": per_stock / per_ours,
        "overhead_s": overhead,
        "steady_s_per_submission": steady,
    }
    rows = [
        ("submissions generated", f"{n} ({', '.join(f'{c} {k}' for k, c in counts.items())})"),
        ("setup (generate_assignment + notebooks)", f"{setup_s:.1f} s"),
        (
            f"stock nbgrader autograde, one of each kind (cell timeout {timeout} s)",
            ", ".join(f"{k} {v:.1f} s" for k, v in stock_times.items()),
        ),
        (f"autograder grade ({n} subs, {workers} workers, incl. start-up)", f"{ours_s:.1f} s"),
        ("stock s / submission (weighted by the mix)", f"{per_stock:.2f}"),
        ("autograder s / submission", f"{per_ours:.2f}"),
        ("speed-up (stock / autograder, per submission)", f"{per_stock / per_ours:.1f}x (target >= 10x)"),
        ("autograder steady state s / submission (no start-up)", f"{steady:.2f}"),
        ("speed-up in steady state (large N)", f"{per_stock / steady:.1f}x"),
        (
            "scores, stock vs autograder (same submissions)",
            ", ".join(f"{k.split('-')[0]} {stock_scores[k]:g}/{our_scores[k]:g}" for k in stock_students),
        ),
        ("checks' own compute, in-process, no sandbox (correct)", f"{own:.3f} s"),
        (
            "sandbox time per correct submission (min, median)",
            f"{min(sandbox):.3f} s, {statistics.median(sandbox):.3f} s",
        ),
        ("overhead above the checks' compute (median)", f"{overhead:.3f} s (target <= 0.1 s)"),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    print(proc.stdout.strip())
    return figures


def main() -> None:
    """``make bench`` entry point."""
    run_bench(n=int(os.environ.get("BENCH_GRADING_N", "40")))


if __name__ == "__main__":
    main()
