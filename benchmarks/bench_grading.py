"""Grading throughput: stock ``nbgrader autograde`` vs ``autograder grade`` on generated a3 submissions.

Generates N submissions of ``a3-sgd-momentum-schedules`` (a mix of correct, wrong and hanging ones), grades a few
of them (one of each kind) with stock nbgrader and all of them with the autograder, in the same run, and prints the
seconds per submission of each and their ratio, plus the autograder's per-submission overhead above the checks' own
compute (the same check functions run in-process on a correct solution, without sandbox).
Both graders get the same per-cell / per-check time limit (``--timeout``), so a hanging submission costs both alike.
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
        kind = KINDS[i % len(KINDS)]
        target = course / "submitted" / f"{kind}-{i:03d}" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(_mutate(solution, kind)))
    return course


def checks_own_compute() -> float:
    """Seconds the a3 checks take in-process on the correct solution (no sandbox, no comparison)."""
    import torch

    from autograder.spec import load_spec, notebook_cells, spec_path

    spec = load_spec(spec_path(ASSIGNMENT))
    src = ROOT / "assignments" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    cells = notebook_cells(src, spec.cells)
    ns: dict = {"__name__": "__main__"}
    exec(spec.prelude, ns)
    for gid in spec.cells:
        exec(cells[gid], ns)
    for c in spec.checks:  # warm-up (first-use imports happen in the sandbox template too)
        c.run(ns, torch.device("cpu"), torch.float64)
    start = time.perf_counter()
    for c in spec.checks:
        c.run(ns, torch.device("cpu"), torch.float64)
    return time.perf_counter() - start


def run_bench(
    n: int = 12, workers: int | None = None, stock_n: int = 3, timeout: int = 15
) -> dict[str, float]:
    """Generate, grade both ways, print the table; returns the figures."""
    workers = workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmpdir = Path(tmp)
        t0 = time.perf_counter()
        course = make_course(n, tmpdir)
        setup_s = time.perf_counter() - t0
        ours = tmpdir / "ours"
        shutil.copytree(course, ours)
        stock_students = sorted(p.name for p in (course / "submitted").iterdir())
        stock_students = [s for k in KINDS for s in stock_students if s.startswith(k)][: max(stock_n, 1)]
        stock_students = sorted({s.split("-")[0]: s for s in stock_students}.values())[:stock_n]
        start = time.perf_counter()
        for student in stock_students:
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
        stock_s = time.perf_counter() - start
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
        sandbox = []
        for student in sorted(p.name for p in (ours / "submitted").iterdir()):
            res = json.loads((ours / "autograded" / student / ASSIGNMENT / "autograder.json").read_text())
            if student.startswith("correct"):
                sandbox.append(res["sandbox_s"])
    own = checks_own_compute()
    per_stock = stock_s / len(stock_students)
    per_ours = ours_s / n
    overhead = statistics.median(sandbox) - own
    figures = {
        "stock_s_per_submission": per_stock,
        "autograder_s_per_submission": per_ours,
        "ratio": per_stock / per_ours,
        "overhead_s": overhead,
    }
    rows = [
        ("submissions generated (correct/wrong/hanging)", f"{n}"),
        ("setup (generate_assignment + notebooks)", f"{setup_s:.1f} s"),
        (f"stock nbgrader autograde ({len(stock_students)} subs, timeout {timeout} s)", f"{stock_s:.1f} s"),
        (f"autograder grade ({n} subs, {workers} workers, incl. start-up)", f"{ours_s:.1f} s"),
        ("stock s / submission", f"{per_stock:.2f}"),
        ("autograder s / submission", f"{per_ours:.2f}"),
        ("speed-up (stock / autograder, per submission)", f"{per_stock / per_ours:.1f}x (target >= 10x)"),
        ("checks' own compute, in-process (correct)", f"{own:.3f} s"),
        ("sandbox time per correct submission (median)", f"{statistics.median(sandbox):.3f} s"),
        ("overhead above the checks' compute", f"{overhead:.3f} s (target <= 0.1 s)"),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    print(proc.stdout.strip())
    return figures


def main() -> None:
    """``make bench`` entry point."""
    run_bench(n=int(os.environ.get("BENCH_GRADING_N", "12")))


if __name__ == "__main__":
    main()
