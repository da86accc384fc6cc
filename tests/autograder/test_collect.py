"""``autograder collect`` on realistic fake downloads of Canvas, Moodle, Blackboard and plain folders.

Each download is built here the way the LMS names things; the expected student ids, files and times are written
out by hand (and times checked with nbgrader's own parser), never taken from the code under test.
"""

from __future__ import annotations

import csv
import json
import os
import stat
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from ag_helpers import SPECS
from nbgrader.utils import parse_utc

from autograder.cli import main as cli
from autograder.collect import Caps, CollectError, collect, safe_id
from autograder.notebook import Course

NB = "a3"


def notebook(tag: str) -> bytes:
    """A small valid notebook whose content names its author (to see whose file landed where)."""
    doc = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": f"# by {tag}\n",
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(doc).encode()


def make_zip(path: Path, entries: list[tuple[str, bytes] | tuple[str, bytes, tuple[int, ...]]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for entry in entries:
            name, data = entry[0], entry[1]
            info = zipfile.ZipInfo(name, date_time=entry[2] if len(entry) > 2 else (2026, 10, 1, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def bare_course(tmp_path: Path) -> Course:
    root = tmp_path / "course"
    root.mkdir()
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    return Course(root)


def submitted(course: Course) -> dict[str, bytes]:
    base = course.root / "submitted"
    if not base.exists():
        return {}
    return {p.name: (p / "hw" / f"{NB}.ipynb").read_bytes() for p in sorted(base.iterdir())}


def stamp(course: Course, student: str) -> datetime | None:
    """The submission time, as nbgrader reads it (naive UTC)."""
    path = course.root / "submitted" / student / "hw" / "timestamp.txt"
    return parse_utc(path.read_text().strip()) if path.exists() else None


def ids_file(course: Course) -> list[dict[str, str]]:
    return list(csv.DictReader((course.root / "lms_ids.csv").open()))


def nothing_written(course: Course) -> bool:
    return sorted(p.name for p in course.root.iterdir()) == ["nbgrader_config.py"]


def test_safe_id_keeps_full_names_distinct_and_whole() -> None:
    assert safe_id("Tara Smith") == "tara_smith" and safe_id("Tara  Jones") == "tara_jones"
    assert safe_id("Mary O'Brien") == "mary_obrien" and safe_id("o'brien") == "obrien"
    assert (
        safe_id("José Núñez-García") == "jose_nunez_garcia" and safe_id("Jürgen Strauß") == "jurgen_strauss"
    )
    assert safe_id("李华") == ""


def test_canvas_identity_from_the_lms_not_the_file_name_with_times(tmp_path: Path) -> None:
    course = bare_course(tmp_path)
    dl = make_zip(
        tmp_path / "submissions.zip",
        [
            ("smithtara_1001_5001_a3.ipynb", notebook("tara smith"), (2026, 10, 1, 23, 30, 0)),
            ("jonestara_1002_5002_homework.ipynb", notebook("tara jones"), (2026, 10, 1, 22, 0, 0)),
            ("obrienmary_late_1003_5003_a3-1.ipynb", notebook("mary obrien"), (2026, 10, 3, 9, 15, 0)),
            ("doealice_1004_5004_a3.ipynb", notebook("alice doe"), (2026, 10, 1, 8, 0, 0)),
            # Bob uploaded a file named after Alice: it is Bob's submission, Alice's stays hers
            ("smithbob_1005_5005_alice_a3.ipynb", notebook("bob smith"), (2026, 10, 1, 9, 0, 0)),
            ("smithbob_1005_5005_notes.txt", b"my notes", (2026, 10, 1, 9, 0, 0)),
        ],
    )
    done = collect(course, "hw", NB, dl, timezone="America/New_York")
    assert done.layout == "canvas"
    assert submitted(course) == {
        "doealice": notebook("alice doe"),
        "jonestara": notebook("tara jones"),
        "obrienmary": notebook("mary obrien"),
        "smithbob": notebook("bob smith"),
        "smithtara": notebook("tara smith"),
    }
    assert done.ignored == ["smithbob_1005_5005_notes.txt"] and done.flagged_late == ["obrienmary"]
    # 23:30 EDT (UTC-4) on 1 October is 03:30 UTC on 2 October
    assert stamp(course, "smithtara") == datetime(2026, 10, 2, 3, 30)
    assert stamp(course, "obrienmary") == datetime(2026, 10, 3, 13, 15)
    rows = {r["student_id"]: (r["lms"], r["lms_user_id"], r["lms_name"]) for r in ids_file(course)}
    assert rows["smithbob"] == ("canvas", "1005", "smithbob") and rows["obrienmary"] == (
        "canvas",
        "1003",
        "obrienmary",
    )

    # a second download: same files → unchanged; Tara's resubmission is refused without --replace, then taken
    again = [
        ("smithtara_1001_5001_a3-1.ipynb", notebook("tara smith v2"), (2026, 10, 2, 1, 0, 0)),
        ("jonestara_1002_5002_homework.ipynb", notebook("tara jones"), (2026, 10, 1, 22, 0, 0)),
    ]
    dl2 = make_zip(tmp_path / "again.zip", again)
    with pytest.raises(CollectError, match="smithtara.*different"):
        collect(course, "hw", NB, dl2, timezone="America/New_York")
    assert submitted(course)["smithtara"] == notebook("tara smith")
    done = collect(course, "hw", NB, dl2, timezone="America/New_York", replace=True)
    assert done.replaced == ["smithtara"] and done.unchanged == ["jonestara"]
    assert submitted(course)["smithtara"] == notebook("tara smith v2")
    assert stamp(course, "smithtara") == datetime(2026, 10, 2, 5, 0)


def test_canvas_two_files_of_one_student_stop_everything(tmp_path: Path) -> None:
    course = bare_course(tmp_path)
    dl = make_zip(
        tmp_path / "submissions.zip",
        [
            ("smithtara_1001_5001_a3.ipynb", notebook("first")),
            ("smithtara_1001_5001_a3-1.ipynb", notebook("second")),
            ("jonestara_1002_5002_a3.ipynb", notebook("tara jones")),
        ],
    )
    with pytest.raises(CollectError) as exc:
        collect(course, "hw", NB, dl)
    (problem,) = exc.value.problems
    assert "'smithtara_1001_5001_a3.ipynb'" in problem and "'smithtara_1001_5001_a3-1.ipynb'" in problem
    assert nothing_written(course)


def test_one_id_for_two_uploaders_is_refused_unless_ids_come_from_the_lms(tmp_path: Path) -> None:
    course = bare_course(tmp_path)
    dl = make_zip(
        tmp_path / "submissions.zip",
        [
            ("smithtara_1001_5001_a3.ipynb", notebook("tara 1")),
            ("smithtara_1077_5002_a3.ipynb", notebook("tara 2")),
        ],
    )
    with pytest.raises(CollectError, match="would both be student 'smithtara'"):
        collect(course, "hw", NB, dl)
    assert nothing_written(course)
    collect(course, "hw", NB, dl, id_from="lms-id")
    assert submitted(course) == {"1001": notebook("tara 1"), "1077": notebook("tara 2")}

    # the mapping is followed later: a student renamed in Canvas keeps the id
    dl2 = make_zip(tmp_path / "a2.zip", [("smith-jonestara_1001_5001_a3.ipynb", notebook("tara 1 v2"))])
    collect(course, "hw", NB, dl2, replace=True)
    assert submitted(course)["1001"] == notebook("tara 1 v2") and len(ids_file(course)) == 2


def test_existing_student_folder_is_not_taken_over_by_a_new_uploader(tmp_path: Path) -> None:
    course = bare_course(tmp_path)
    (course.root / "submitted" / "doealice" / "hw").mkdir(parents=True)
    dl = make_zip(tmp_path / "s.zip", [("doealice_1004_5004_a3.ipynb", notebook("someone"))])
    with pytest.raises(CollectError, match="already exists under submitted/"):
        collect(course, "hw", NB, dl)


def test_moodle_folder_per_student_keeps_full_names(tmp_path: Path) -> None:
    course = bare_course(tmp_path)
    dl = make_zip(
        tmp_path / "moodle.zip",
        [
            ("Tara Smith_101_assignsubmission_file_/a3.ipynb", notebook("tara smith")),
            ("Tara Jones_102_assignsubmission_file_/a3.ipynb", notebook("tara jones")),
            ("Mary O'Brien_103_assignsubmission_file_/my work.ipynb", notebook("mary obrien")),
            ("Mary O'Brien_103_assignsubmission_onlinetext_/onlinetext.html", b"<p>hi</p>"),
            ("__MACOSX/._junk", b"x"),
        ],
    )
    done = collect(course, "hw", NB, dl)
    assert done.layout == "moodle" and done.without_time == ["mary_obrien", "tara_jones", "tara_smith"]
    assert submitted(course) == {
        "mary_obrien": notebook("mary obrien"),
        "tara_jones": notebook("tara jones"),
        "tara_smith": notebook("tara smith"),
    }
    assert stamp(course, "tara_smith") is None
    rows = {r["student_id"]: r["lms_name"] for r in ids_file(course)}
    assert rows == {"mary_obrien": "Mary O'Brien", "tara_jones": "Tara Jones", "tara_smith": "Tara Smith"}


def test_moodle_flat_files_and_two_notebooks(tmp_path: Path) -> None:
    course = bare_course(tmp_path)
    dl = make_zip(
        tmp_path / "moodle.zip",
        [
            ("Tara Smith_101_assignsubmission_file_a3.ipynb", notebook("tara")),
            ("Ann Lee_104_assignsubmission_file_/a3.ipynb", notebook("ann 1")),
            ("Ann Lee_104_assignsubmission_file_/scratch/copy.ipynb", notebook("ann 2")),
        ],
    )
    with pytest.raises(CollectError, match="'ann_lee' has 2 notebooks"):
        collect(course, "hw", NB, dl)
    assert nothing_written(course)


def blackboard_receipt(user: str, name: str, stem: str, files: list[str]) -> bytes:
    listed = "".join(f"\tOriginal filename: {f.rsplit('_', 1)[-1]}\n\tFilename: {f}\n" for f in files)
    return (
        f"Name: {name} ({user})\nAssignment: Homework 3\nDate Submitted: Thursday, October 1, 2026 11:59:00 PM EDT\n"
        f"Current Grade: Needs Grading\n\nSubmission Field:\nThere is no student submission text data.\n\n"
        f"Comments:\nThere are no student comments for this assignment.\n\nFiles:\n{listed}"
    ).encode()


def test_blackboard_receipts_name_the_uploader_and_the_time(tmp_path: Path) -> None:
    course = bare_course(tmp_path)
    s1, s2 = (
        "Homework_3_tsmith_attempt_2026-10-01-23-59-00",
        "Homework_3_obrien_m_attempt_2026-10-02-10-00-00",
    )
    f1, f2 = f"{s1}_a3.ipynb", f"{s2}_alice_a3.ipynb"
    dl = make_zip(
        tmp_path / "gradebook.zip",
        [
            (f"{s1}.txt", blackboard_receipt("tsmith", "Tara Smith", s1, [f1])),
            (f1, notebook("tara")),
            (f"{s2}.txt", blackboard_receipt("obrien_m", "Mary O'Brien", s2, [f2])),
            (f2, notebook("mary")),
        ],
    )
    done = collect(course, "hw", NB, dl, timezone="Europe/London")
    assert done.layout == "blackboard"
    assert submitted(course) == {"mary_obrien": notebook("mary"), "tara_smith": notebook("tara")}
    # 23:59 BST (UTC+1) on 1 October is 22:59 UTC
    assert stamp(course, "tara_smith") == datetime(2026, 10, 1, 22, 59)
    assert {(r["lms_user_id"], r["student_id"]) for r in ids_file(course)} == {
        ("tsmith", "tara_smith"),
        ("obrien_m", "mary_obrien"),
    }


def test_blackboard_file_without_receipt_and_two_attempts(tmp_path: Path) -> None:
    course = bare_course(tmp_path)
    s1, s2 = "HW3_tsmith_attempt_2026-10-01-10-00-00", "HW3_tsmith_attempt_2026-10-01-11-00-00"
    dl = make_zip(
        tmp_path / "bb.zip",
        [
            (f"{s1}.txt", blackboard_receipt("tsmith", "Tara Smith", s1, [f"{s1}_a3.ipynb"])),
            (f"{s1}_a3.ipynb", notebook("1")),
            (f"{s2}.txt", blackboard_receipt("tsmith", "Tara Smith", s2, [f"{s2}_a3.ipynb"])),
            (f"{s2}_a3.ipynb", notebook("2")),
            ("HW3_mallory_attempt_2026-10-01-12-00-00_a3.ipynb", notebook("3")),
        ],
    )
    with pytest.raises(CollectError) as exc:
        collect(course, "hw", NB, dl)
    text = "\n".join(exc.value.problems)
    assert (
        "'tara_smith' has 2 notebooks" in text and "HW3_mallory_attempt" in text and "no Blackboard" in text
    )
    assert nothing_written(course)


def test_plain_folders_with_timestamps_and_symlinks_refused(tmp_path: Path) -> None:
    course = bare_course(tmp_path)
    dl = tmp_path / "download"
    (dl / "alice").mkdir(parents=True)
    (dl / "alice" / "a3.ipynb").write_bytes(notebook("alice"))
    (dl / "Tara Smith" / "hw").mkdir(parents=True)
    (dl / "Tara Smith" / "hw" / "anything.ipynb").write_bytes(notebook("tara"))
    (dl / "Tara Smith" / "hw" / "timestamp.txt").write_text("2026-10-02 10:00:00.000000 UTC")
    collect(course, "hw", NB, dl)
    assert submitted(course) == {"alice": notebook("alice"), "tara_smith": notebook("tara")}
    assert stamp(course, "tara_smith") == datetime(2026, 10, 2, 10) and stamp(course, "alice") is None

    (dl / "mallory").symlink_to(dl / "alice")
    (dl / "bob").mkdir()
    (dl / "bob" / "a3.ipynb").symlink_to(course.root / "nbgrader_config.py")
    with pytest.raises(CollectError) as exc:
        collect(course, "hw", NB, dl, replace=True)
    assert sorted(p.split("'")[1] for p in exc.value.problems) == ["bob/a3.ipynb", "mallory"]
    assert sorted(submitted(course)) == ["alice", "tara_smith"]


def test_symlink_absolute_and_dotdot_entries_are_refused(tmp_path: Path) -> None:
    course = bare_course(tmp_path)
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("smithtara_1001_5001_a3.ipynb", notebook("tara"))
        link = zipfile.ZipInfo("jonestara_1002_5002_a3.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("../../evil_1_2_x.ipynb", notebook("evil"))
        zf.writestr("/tmp/abs_1_2_x.ipynb", notebook("abs"))
    with pytest.raises(CollectError) as exc:
        collect(course, "hw", NB, path)
    text = "\n".join(exc.value.problems)
    assert "a symbolic link" in text and "'..' path" in text and "absolute path" in text
    assert nothing_written(course) and not (tmp_path.parent / "evil_1_2_x.ipynb").exists()


def test_zip_bomb_and_caps(tmp_path: Path) -> None:
    course = bare_course(tmp_path)
    bomb = tmp_path / "bomb.zip"
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("smithtara_1001_5001_a3.ipynb", "w", force_zip64=True) as fh:
            for _ in range(271):
                fh.write(chunk)
    assert bomb.stat().st_size < 300_000
    with pytest.raises(CollectError, match="over the cap|zip bomb"):
        collect(course, "hw", NB, bomb)
    assert nothing_written(course)

    # a moderate ratio under a generous per-file cap is still refused by the ratio
    with pytest.raises(CollectError, match="zip bomb"):
        collect(course, "hw", NB, bomb, caps=Caps(max_file_bytes=10**9))
    many = make_zip(tmp_path / "many.zip", [(f"s{i}_{i}_{i}_a3.ipynb", notebook(str(i))) for i in range(6)])
    with pytest.raises(CollectError, match="6 entries, over the cap of 5"):
        collect(course, "hw", NB, many, caps=Caps(max_files=5))
    with pytest.raises(CollectError, match="would unpack to"):
        collect(course, "hw", NB, many, caps=Caps(max_total_bytes=500))
    assert nothing_written(course)


def test_unknown_layout_is_listed(tmp_path: Path) -> None:
    course = bare_course(tmp_path)
    dl = make_zip(tmp_path / "x.zip", [("alice_a3.ipynb", notebook("a")), ("bob.ipynb", notebook("b"))])
    with pytest.raises(CollectError) as exc:
        collect(course, "hw", NB, dl)
    assert (
        "'alice_a3.ipynb' fits no layout" in exc.value.problems
        and "'bob.ipynb' fits no layout" in exc.value.problems
    )
    assert nothing_written(course)


def test_cli_collect_course_after_subcommand_and_exit_status(
    course: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    good = make_zip(
        tmp_path / "good.zip", [("Tara Smith_7_assignsubmission_file_/x.ipynb", notebook("tara"))]
    )
    assert cli(["collect", "ag-demo", str(good), "--course", str(course), "--specs", str(SPECS)]) == 0
    assert "imported: 1: tara_smith" in capsys.readouterr().out
    assert (course / "submitted" / "tara_smith" / "ag-demo" / "ag-demo.ipynb").read_bytes() == notebook(
        "tara"
    )
    bad = make_zip(
        tmp_path / "bad.zip",
        [
            ("Ann Lee_8_assignsubmission_file_/a.ipynb", b"{}"),
            ("Ann Lee_8_assignsubmission_file_/b.ipynb", b"{}"),
        ],
    )
    assert cli(["--course", str(course), "--specs", str(SPECS), "collect", "ag-demo", "--zip", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "nothing was collected" in err and "'ann_lee' has 2 notebooks" in err
    assert not (course / "submitted" / "ann_lee").exists()
    assert os.listdir(course / "submitted") == ["tara_smith"]


def test_a_symlinked_destination_is_refused(tmp_path: Path) -> None:
    course = bare_course(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (course.root / "lms_ids.csv").write_text(
        "student_id,lms,lms_user_id,lms_name\ntara_smith,moodle,101,Tara Smith\n"
    )
    (course.root / "submitted").mkdir()
    (course.root / "submitted" / "tara_smith").symlink_to(elsewhere)
    dl = make_zip(tmp_path / "m.zip", [("Tara Smith_101_assignsubmission_file_/a3.ipynb", notebook("tara"))])
    with pytest.raises(CollectError, match="tara_smith is a symbolic link"):
        collect(course, "hw", NB, dl)
    assert list(elsewhere.iterdir()) == []
