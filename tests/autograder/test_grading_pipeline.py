"""End to end on the small test course: grade → gradebook → rerun → feedback → exports (ours and nbgrader's)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from ag_helpers import CORRECT_SGD, SPECS, env, scores, submit

from autograder.cli import main as cli

WRONG_MOMENTUM = CORRECT_SGD.replace('mul_(group["momentum"]).add_(g)', 'mul_(group["momentum"]).add_(2 * g)')


def run_cli(course: Path, *args: str) -> int:
    return cli(["--course", str(course), "--specs", str(SPECS), *args])


def test_grade_rerun_feedback_and_exports(
    course: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert WRONG_MOMENTUM != CORRECT_SGD
    submit(course, "alice")
    submit(course, "bob", sgd=WRONG_MOMENTUM, square="def square(x):\n    return x ** 3\n")
    submit(course, "carol", square="def square(x):\n    return x.abs() * x.abs()\n")

    assert run_cli(course, "grade", "ag-demo", "--workers", "2", "--device", "cpu", "--no-progress") == 0
    out = capsys.readouterr().out
    assert "students" in out and "mean score" in out and "timeouts" in out
    # plain SGD right, momentum wrong: half of the cell's 2 points (partial credit by weight in this spec)
    assert scores(course) == {
        "alice": {"test_sgd": 2.0, "test_square": 1.0},
        "bob": {"test_sgd": 1.0, "test_square": 0.0},
        "carol": {"test_sgd": 2.0, "test_square": 1.0},
    }

    # a rerun skips everyone; --force regrades one student without duplicating anything
    assert run_cli(course, "grade", "ag-demo", "--no-progress") == 0
    assert "skipped (already graded)  3" in capsys.readouterr().out
    submit(course, "bob")
    assert run_cli(course, "grade", "ag-demo", "--student", "bob", "--force", "--no-progress") == 0
    assert scores(course)["bob"] == {"test_sgd": 2.0, "test_square": 1.0}

    assert run_cli(course, "feedback", "ag-demo") == 0
    page = (course / "feedback" / "bob" / "ag-demo" / "ag-demo.html").read_text()
    assert "3 / 3" in page

    out_csv = tmp_path / "grades.csv"
    assert run_cli(course, "export", "ag-demo", "--format", "csv", "--output", str(out_csv)) == 0
    rows = {r["student_id"]: r for r in csv.DictReader(out_csv.open())}
    assert (
        rows["alice"]["score"] == "3" and rows["alice"]["test_square"] == "1" and rows["bob"]["score"] == "3"
    )

    gs = tmp_path / "gradescope"
    assert run_cli(course, "export", "ag-demo", "--format", "gradescope", "--output", str(gs)) == 0
    doc = json.loads((gs / "carol" / "results.json").read_text())
    assert doc["score"] == 3.0 and {t["name"] for t in doc["tests"]} == {"test_sgd", "test_square"}

    # nbgrader's own export reads the same gradebook
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "export"], cwd=course, env=env(), check=True, capture_output=True
    )
    exported = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert float(exported["alice"]["raw_score"]) == 3.0 and float(exported["bob"]["raw_score"]) == 3.0


def test_bad_arguments_are_reported(course: Path, capsys: pytest.CaptureFixture) -> None:
    assert run_cli(course, "grade", "no-such-assignment") == 2
    assert "no grading spec" in capsys.readouterr().err
    submit(course, "alice")
    assert run_cli(course, "grade", "ag-demo", "--student", "mallory") == 2
    assert "mallory" in capsys.readouterr().err
    assert cli(["--course", str(course.parent), "grade", "ag-demo"]) == 2
    assert "not an nbgrader course" in capsys.readouterr().err
