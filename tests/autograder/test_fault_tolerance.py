"""SIGKILL the grader in the middle of a batch, rerun: every student ends with exactly one correct grade."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
from ag_helpers import CORRECT_SGD, SPECS, env, scores, submit

WRONG_SGD = CORRECT_SGD.replace('alpha=-group["lr"]', 'alpha=-2 * group["lr"]')
SLOW_SQUARE = "import time\n\ndef square(x):\n    time.sleep(1.0)\n    return x * x\n"


def graded_count(course: Path) -> int:
    con = sqlite3.connect(course / "gradebook.db")
    try:
        return con.execute("SELECT COUNT(*) FROM grade WHERE auto_score IS NOT NULL").fetchone()[0] // 2
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def test_sigkill_mid_batch_then_rerun(course: Path) -> None:
    expected = {}
    for i in range(8):
        if i % 2:
            submit(course, f"s{i}", sgd=WRONG_SGD, square=SLOW_SQUARE)
            expected[f"s{i}"] = {"test_sgd": 0.0, "test_square": 1.0}
        else:
            submit(course, f"s{i}", square=SLOW_SQUARE)
            expected[f"s{i}"] = {"test_sgd": 2.0, "test_square": 1.0}
    cmd = [sys.executable, "-m", "autograder.cli", "--course", str(course), "--specs", str(SPECS)]
    proc = subprocess.Popen(
        [*cmd, "grade", "ag-demo", "--workers", "1", "--device", "cpu", "--no-progress"],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while graded_count(course) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    helpers = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    assert proc.poll() is None, "the batch finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = graded_count(course)
    assert 2 <= done_before < 8
    time.sleep(1.0)
    alive = [pid for pid in helpers if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert not alive, f"sandbox processes outlived the killed grader: {alive}"

    rerun = subprocess.run(
        [*cmd, "grade", "ag-demo", "--no-progress"], env=env(), capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"skipped (already graded)  {done_before}" in rerun.stdout
    assert scores(course) == expected
    con = sqlite3.connect(course / "gradebook.db")
    per_student = con.execute(
        "SELECT student_id, COUNT(*) FROM submitted_assignment GROUP BY student_id"
    ).fetchall()
    con.close()
    assert sorted(per_student) == sorted((s, 1) for s in expected)
