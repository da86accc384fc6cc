"""Resubmissions are regraded (content hash), lateness is recorded as nbgrader records it and its late-penalty
plugin applies, exports show lateness and are safe to open in a spreadsheet, symlinks are never followed.

One small course is graded twice for the whole module (grading is the slow part): round 1 grades alice (on time)
and bob (two hours late, under a one-mark-per-hour plugin); round 2 changes alice's notebook and gives bob an
extension. Expected values are written out from the dates (hours late → marks), and stock ``nbgrader autograde``
grades bob once in a copy, as the reference for what nbgrader records.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from ag_helpers import CORRECT_SGD, SPECS, env, scores, submit

from autograder.cli import main as cli
from autograder.gradebook import open_gradebook, submission_digest
from autograder.notebook import Course
from autograder.reports import spreadsheet_safe

WRONG_SQUARE = "def square(x):\n    return x ** 3\n"
LATE_PLUGIN = '''
from nbgrader.plugins import BasePlugin


class SubMarks(BasePlugin):
    """nbgrader's documented example: one mark per hour late (rounded)."""

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return round(total_seconds_late / 3600)
'''
DUE = "2026-10-01 12:00:00 UTC"


def grade(course: Path, *args: str) -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        # --course and --specs after the subcommand (issue 12: it used to be accepted only before it)
        status = cli(
            ["grade", "ag-demo", "--course", str(course), "--specs", str(SPECS), "--no-progress", *args]
        )
    assert status == 0
    return buf.getvalue()


def export_csv(course: Path, output: Path) -> list[dict[str, str]]:
    """``autograder --course COURSE --specs SPECS export ag-demo --output OUTPUT``, its rows read back."""
    assert (
        cli(["--course", str(course), "--specs", str(SPECS), "export", "ag-demo", "--output", str(output)])
        == 0
    )
    with output.open(newline="") as fh:
        return list(csv.DictReader(fh))


def gradebook_rows(course: Path) -> dict[str, tuple]:
    """``student → (timestamp, late_submission_penalty)`` straight from the SQLite file."""
    con = sqlite3.connect(course / "gradebook.db")
    rows = con.execute(
        "SELECT sa.student_id, sa.timestamp, sn.late_submission_penalty FROM submitted_assignment sa "
        "JOIN submitted_notebook sn ON sn.assignment_id = sa.id"
    ).fetchall()
    con.close()
    return {s: (t, p) for s, t, p in rows}


@pytest.fixture(scope="module")
def semester(generated_course: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("semester") / "course"
    shutil.copytree(generated_course, root)
    (root / "late.py").write_text(LATE_PLUGIN)
    with (root / "nbgrader_config.py").open("a") as fh:
        fh.write('c.AssignLatePenalties.plugin_class = "late.SubMarks"\n')
    with open_gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        gb.update_or_create_assignment("ag-demo", duedate=DUE)
    submit(root, "alice")
    (root / "submitted" / "alice" / "ag-demo" / "timestamp.txt").write_text("2026-10-01 11:00:00.000000 UTC")
    submit(root, "bob")  # 16:00 in Paris (CEST, UTC+2) is 14:00 UTC: two hours late
    (root / "submitted" / "bob" / "ag-demo" / "timestamp.txt").write_text("2026-10-01 16:00:00 Europe/Paris")
    (root / "submitted" / "mallory").symlink_to(root / "submitted" / "alice")  # not a student
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (root / "autograded").mkdir()
    (root / "autograded" / "alice").symlink_to(elsewhere)  # the grader must not write through it

    out: dict = {"root": root, "elsewhere": elsewhere}
    out["run1"] = grade(root, "--device", "cpu")
    out["scores1"], out["late1"] = scores(root), gradebook_rows(root)
    out["rerun"] = grade(root)

    # stock nbgrader grades bob in a copy: the reference for what nbgrader records
    stock = tmp_path_factory.mktemp("stock") / "course"
    shutil.copytree(root, stock, symlinks=True)
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", "ag-demo", "--student", "bob", "--force"],
        cwd=stock,
        env=env(),
        check=True,
        capture_output=True,
    )
    out["stock"] = gradebook_rows(stock)

    # round 2: alice resubmits a wrong square (regraded); bob gets a 3-hour extension (not regraded, not late)
    submit(root, "alice", square=WRONG_SQUARE)
    with open_gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        gb.find_submission("ag-demo", "bob").extension = dt.timedelta(hours=3)
        gb.db.commit()
    out["run2"] = grade(root, "--device", "cpu")
    out["scores2"], out["late2"] = scores(root), gradebook_rows(root)
    return out


def test_lateness_recorded_and_penalised_as_nbgrader_does(semester: dict) -> None:
    late = semester["late1"]
    assert set(late) == {"alice", "bob"}  # the symlinked folder is no student
    assert late["alice"] == ("2026-10-01 11:00:00.000000", None)
    assert late["bob"] == ("2026-10-01 14:00:00.000000", 2.0)  # two hours late, one mark an hour
    assert semester["stock"]["bob"] == late["bob"]  # exactly what stock `nbgrader autograde` records
    assert semester["scores1"]["bob"] == {"test_sgd": 2.0, "test_square": 1.0}


def test_unchanged_submissions_are_skipped_changed_ones_regraded(semester: dict) -> None:
    assert "graded                    2" in semester["run1"]
    assert "skipped (already graded)  2" in semester["rerun"]
    assert (
        "graded                    1" in semester["run2"]
        and "skipped (already graded)  1" in semester["run2"]
    )
    assert semester["scores2"]["alice"] == {"test_sgd": 2.0, "test_square": 0.0}
    assert semester["scores2"]["bob"] == semester["scores1"]["bob"]
    # bob was not regraded, but his extension (due 15:00 UTC, submitted 14:00) removed the penalty
    assert semester["late2"]["bob"] == ("2026-10-01 14:00:00.000000", None)


def test_digest_covers_notebook_bytes_and_timestamp_not_mtime(semester: dict, tmp_path: Path) -> None:
    course = Course(tmp_path)
    nb = submit(tmp_path, "eve", sgd=CORRECT_SGD)
    first = submission_digest(course, "ag-demo", "eve", "ag-demo")
    nb.write_bytes(nb.read_bytes())  # touched, same bytes
    assert submission_digest(course, "ag-demo", "eve", "ag-demo") == first
    (nb.parent / "timestamp.txt").write_text("2026-10-01 11:00:00 UTC")
    second = submission_digest(course, "ag-demo", "eve", "ag-demo")
    assert second != first
    nb.write_bytes(nb.read_bytes().replace(b"return x * x", b"return x * x "))
    assert submission_digest(course, "ag-demo", "eve", "ag-demo") not in (first, second)
    stored = json.loads(
        (semester["root"] / "autograded" / "alice" / "ag-demo" / "autograder.json").read_text()
    )
    assert stored["submission_sha256"] == submission_digest(
        Course(semester["root"]), "ag-demo", "alice", "ag-demo"
    )


def test_symlinks_under_submitted_and_autograded_are_not_followed(semester: dict) -> None:
    root = semester["root"]
    assert not (root / "autograded" / "mallory").exists()
    assert not (root / "autograded" / "alice").is_symlink() and (root / "autograded" / "alice").is_dir()
    assert list(semester["elsewhere"].iterdir()) == []
    (root / "feedback").mkdir(exist_ok=True)
    (root / "feedback" / "bob").symlink_to(semester["elsewhere"])
    assert cli(["--course", str(root), "--specs", str(SPECS), "feedback", "ag-demo", "--student", "bob"]) == 0
    assert (root / "feedback" / "bob" / "ag-demo" / "ag-demo.html").is_file()
    assert not (root / "feedback" / "bob").is_symlink() and list(semester["elsewhere"].iterdir()) == []


def test_exports_show_lateness(semester: dict, tmp_path: Path) -> None:
    root = semester["root"]
    # a third, late submission that was never graded still appears (score 0) with its lateness
    with open_gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        gb.update_or_create_student("carol")
        gb.update_or_create_submission("ag-demo", "carol", timestamp="2026-10-01 13:30:00 UTC")
    rows = {r["student_id"]: r for r in export_csv(root, tmp_path / "g.csv")}
    assert (rows["alice"]["seconds_late"], rows["alice"]["late_penalty"], rows["alice"]["score"]) == (
        "0",
        "0",
        "2",
    )
    assert rows["carol"]["seconds_late"] == "5400" and rows["carol"]["timestamp"] == "2026-10-01 13:30:00 UTC"

    # round 1's lateness of bob, restored, in both formats and in nbgrader's own export
    with open_gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        gb.find_submission("ag-demo", "bob").extension = None
        gb.db.commit()
    grade(root)  # bob unchanged: skipped, but his penalty is recorded again
    assert (
        cli(
            [
                "export",
                "ag-demo",
                "--output",
                str(tmp_path / "g.csv"),
                "--course",
                str(root),
                "--specs",
                str(SPECS),
            ]
        )
        == 0
    )
    bob = {r["student_id"]: r for r in csv.DictReader((tmp_path / "g.csv").open())}["bob"]
    assert (bob["seconds_late"], bob["late_penalty"], bob["raw_score"], bob["score"]) == (
        "7200",
        "2",
        "3",
        "1",
    )
    gs = tmp_path / "gs"
    args = ["--course", str(root), "--specs", str(SPECS), "export", "ag-demo", "--format", "gradescope"]
    assert cli([*args, "--output", str(gs)]) == 0
    doc = json.loads((gs / "bob" / "results.json").read_text())
    assert (
        doc["score"] == 1.0
        and doc["extra_data"]["seconds_late"] == 7200
        and doc["extra_data"]["late_penalty"] == 2
    )
    assert "7200 s late; late penalty 2" in doc["output"]
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "export"], cwd=root, env=env(), check=True, capture_output=True
    )
    theirs = {r["student_id"]: r for r in csv.DictReader((root / "grades.csv").open())}
    assert float(theirs["bob"]["late_submission_penalty"]) == 2.0 and float(theirs["bob"]["score"]) == 1.0
    # the feedback page's total is nbgrader's score (after the penalty) and says why
    assert cli([*args[:4], "feedback", "ag-demo", "--student", "bob"]) == 0
    page = (root / "feedback" / "bob" / "ag-demo" / "ag-demo.html").read_text()
    assert "ag-demo: 1 / " in page and "2.00 h late: late penalty 2 (score before the penalty 3)" in page


def test_csv_cells_cannot_become_formulas(semester: dict, tmp_path: Path) -> None:
    # OWASP "CSV Injection": a cell starting with = + - @, a tab or a carriage return gets a leading quote
    for bad in ("=1+2", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_safe(bad) == "'" + bad
    for fine in ("alice", "3", "2026-10-01 12:00:00 UTC", "o'brien", ""):
        assert spreadsheet_safe(fine) == fine
    root = tmp_path / "course"
    shutil.copytree(semester["root"], root, symlinks=True)
    with open_gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for sid in ('=HYPERLINK("http://x")', "@evil", "-1+1"):
            gb.add_student(sid)
            gb.add_submission("ag-demo", sid)
    ids = [r["student_id"] for r in export_csv(root, tmp_path / "g.csv")]
    assert sorted(i for i in ids if i.startswith("'")) == ["'-1+1", '\'=HYPERLINK("http://x")', "'@evil"]
    assert not any(i.startswith(("=", "+", "-", "@")) for i in ids)


def test_unreadable_timestamp_stops_grading(course: Path, capsys: pytest.CaptureFixture) -> None:
    submit(course, "dave")
    (course / "submitted" / "dave" / "ag-demo" / "timestamp.txt").write_text("yesterday, around noon")
    assert cli(["grade", "ag-demo", "--course", str(course), "--specs", str(SPECS), "--no-progress"]) == 2
    assert "dave/ag-demo/timestamp.txt: not a submission time" in capsys.readouterr().err


def test_course_config_chooses_nbgrader_plugin(tmp_path: Path) -> None:
    from autograder.gradebook import late_penalty_preprocessor

    (tmp_path / "nbgrader_config.py").write_text(
        'c = get_config()\nc.LateSubmissionPlugin.penalty_method = "zero"\n'
    )
    plugin = late_penalty_preprocessor(tmp_path).plugin_inst
    assert plugin.late_submission_penalty("x", 2.5, 10.0) == 2.5  # nbgrader's "zero": the whole score
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    assert late_penalty_preprocessor(tmp_path).plugin_inst.late_submission_penalty("x", 2.5, 10.0) is None
    assert str(tmp_path) not in sys.path
