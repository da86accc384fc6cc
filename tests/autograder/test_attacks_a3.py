"""Red team, a3: every attack class of issue 11 against ``autograder grade`` on the real assignment.

One grading run (``autograder grade --workers 2``, a grader environment holding a secret token) grades ~40
students at once: a blank release and two instructor solutions as controls, victims whose code carries a unique
mark, and the attackers (``students/attacks.py``). Every attacker's notebook is the blank release except for its
attack, so "no more than a blank release on every cell it touches" means: no more than the blank student on every
autograded cell. Each attack below gets the points it targets under stock ``nbgrader autograde`` (delegations,
redefined helpers, oracles) or got them from the autograder as issue 11 found it (swapped checks, forged records).
"""

from __future__ import annotations

import ctypes
import json
import os
import uuid
from pathlib import Path

import pytest
from students import attacks as A
from students import kit

ASSIGNMENT = kit.A3
POINTS = kit.autograded_points(ASSIGNMENT)
MARKS = {f"aa-victim-{i}": f"RTVICTIM-{uuid.uuid4().hex}-END" for i in range(1, 4)}
# One grading run per module, shared by its tests (minutes on a loaded 2-core machine).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
SIZE_CAP = 5 * 1024 * 1024  # an autograder.json or a feedback page; issue 11 saw 180 MB and 60 MB


def _attackers() -> dict[str, dict]:
    """student → {"cells": {...}, "added": [...]} (or {"raw": text} / {"link": target})."""
    out: dict[str, dict] = {
        "spec-swap": {"cells": {"sgd": A.SPEC_SWAP}},
        "spec-print": {"cells": {"sgd": A.SPEC_PRINT}},
        "reference-impl": {"cells": {"sgd": A.REFERENCE_IMPL, "clipping": A.REFERENCE_IMPL}},
        "forge-records": {"cells": {"sgd": A.FORGE_RECORDS}},
        "forge-then-exit": {"cells": {"sgd": A.FORGE_THEN_EXIT}},
        "forge-thread": {"cells": {"sgd": A.FORGE_THREAD}},
        "oracle-globals": {"cells": {"training": A.ORACLE_GLOBALS}},
        "oracle-sklearn": {"cells": {"training": A.ORACLE_SKLEARN}},
        "delegate-schedulers": {"cells": {"schedules": A.DELEGATE_SCHEDULES}},
        "env-leak": {"cells": {"sgd": A.ENV_LEAK}},
        "zz-heap-reader": {"cells": {"sgd": A.HEAP_READER}},
        "ipc-2-receiver": {"cells": {"sgd": A.IPC_RECEIVER}},
        "huge-int": {"cells": A.HUGE_INT_CELLS},
        "garbage-records": {"cells": {"sgd": A.GARBAGE_RECORDS}},
        "huge-record": {"cells": {"sgd": A.HUGE_RECORD, "clipping": A.HUGE_CLIP}},
        "surrogate-and-extremes": {"cells": {"sgd": A.SURROGATE_SGD, "schedules": A.SURROGATE_SCHEDULES}},
        "kill-everyone": {"cells": {"sgd": A.KILL_EVERYONE}},
        "redefine-helpers": {
            "cells": A.REDEFINE_SOLUTIONS,
            "added": [("optim_helpers", A.REDEFINE_HELPERS), ("schedule_helpers", A.REDEFINE_HELPERS)],
        },
        "solution-from-disk": {"cells": {"sgd": A.SOLUTION_FROM_DISK}},
        "probe-spy": {"cells": {"sgd": A.PROBE_SPY}},
        "steal-reference-class": {"cells": {"sgd": A.STEAL_REFERENCE_CLASS}},
        "nested-json": {"raw": "nested"},
        "symlink-solution": {"link": "source"},
        "symlink-classmate": {"link": "classmate"},
        "symlink-environ": {"link": "/proc/self/environ"},
    }
    for name, code in {**A.DELEGATE_SGD, **A.DELEGATE_MORE}.items():
        out[name] = {"cells": {"sgd": code}}
    # These write SGD's constructor (argument checks) themselves and delegate only step(): test_sgd_errors, which
    # only constructs, is their own work, not part of the attack.
    for name in ("delegate-functional", "delegate-fused-kernel", "delegate-subprocess"):
        out[name]["own"] = {"test_sgd_errors"}
    for name, code in A.DELEGATE_CLIPPING.items():
        out[name] = {"cells": {"clipping": code}}
    return out


ATTACKERS = _attackers()
# The classmate who publishes a correct SGD through every IPC channel it can reach: its own SGD is honest work (it
# keeps those points); the receiver, graded at the same time, must not get them.
ACCOMPLICE = "ipc-1-sender"


def _nested_notebook(course: Path) -> str:
    """The blank release with 200 000 nested objects in its metadata (a RecursionError for a JSON parser)."""
    text = (course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    depth = 200_000
    return text.replace(
        '"metadata": {', '"metadata": {"deep": ' + '{"a": ' * depth + "1" + "}" * depth + ", ", 1
    )


def _ipc_cleanup() -> list[str]:
    """Remove what the IPC attack may have left on the host; return what was there."""
    left = []
    libc = ctypes.CDLL(None, use_errno=True)
    shm = libc.shmget(A.IPC_KEY, 0, 0)
    if shm >= 0:
        left.append(f"System V shared memory segment with key {A.IPC_KEY:#x}")
        libc.shmctl(shm, 0, None)  # IPC_RMID
    try:
        rt = ctypes.CDLL("librt.so.1", use_errno=True)
    except OSError:
        rt = libc
    if rt.mq_unlink(f"/{A.IPC_NAME}".encode()) == 0:
        left.append(f"POSIX message queue /{A.IPC_NAME}")
    for path in [f"/dev/mqueue/{A.IPC_NAME}"] + [
        f"{d}/{A.IPC_NAME}" for d in ("/dev/shm", "/var/tmp", "/run/lock")
    ]:
        if os.path.lexists(path):
            left.append(path)
            try:
                os.unlink(path)
            except OSError:
                pass
    return left


@pytest.fixture(scope="module")
def attack_run(tmp_path_factory: pytest.TempPathFactory, generated_assignment):
    _ipc_cleanup()
    base = tmp_path_factory.mktemp("redteam-a3")
    course = kit.course_copy(generated_assignment, ASSIGNMENT, base, "course")
    solution = kit.build(ASSIGNMENT, course, kit.solution_cells(ASSIGNMENT))
    kit.submit(course, ASSIGNMENT, "blank", kit.release_notebook(ASSIGNMENT, course))
    kit.submit(course, ASSIGNMENT, "ab-solution", solution)
    kit.submit(course, ASSIGNMENT, "zzz-solution", solution)
    accomplice = {"sgd": A.ipc_sender(kit.solution_cells(ASSIGNMENT)["sgd"])}
    kit.submit(course, ASSIGNMENT, ACCOMPLICE, kit.build(ASSIGNMENT, course, accomplice))
    for student, mark in MARKS.items():
        kit.submit(course, ASSIGNMENT, student, kit.build(ASSIGNMENT, course, {"sgd": A.victim(mark)}))
    for student, how in ATTACKERS.items():
        if "raw" in how:
            kit.submit(course, ASSIGNMENT, student, _nested_notebook(course))
        elif "link" in how:
            path = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            path.parent.mkdir(parents=True)
            target = {
                "source": course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                "classmate": course / "submitted" / "ab-solution" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
            }.get(how["link"], Path(how["link"]))
            path.symlink_to(target)
        else:
            kit.submit(
                course, ASSIGNMENT, student, kit.build(ASSIGNMENT, course, how["cells"], how.get("added"))
            )
    graded = kit.autograde(course, ASSIGNMENT, "--workers", "2", timeout=700)
    host_leftovers = _ipc_cleanup()
    fb = kit.feedback(course, ASSIGNMENT)
    yield course, graded, fb, host_leftovers
    _ipc_cleanup()


def test_the_run_completes_and_grades_everyone(attack_run) -> None:
    course, graded, _, _ = attack_run
    assert graded.returncode == 0 and not graded.timed_out, graded.describe()
    assert "internal grader error" not in graded.stdout + graded.stderr, graded.describe()
    got = kit.scores(course)
    students = ["blank", "ab-solution", "zzz-solution", ACCOMPLICE, *MARKS, *ATTACKERS]
    missing = {
        s: sorted(set(POINTS) - set(got.get(s, {}))) for s in students if set(POINTS) - set(got.get(s, {}))
    }
    assert not missing, f"students without a grade for these cells (regraded on every run): {missing}"


def test_controls_keep_their_grades(attack_run) -> None:
    course, graded, _, _ = attack_run
    got = kit.scores(course)
    for student in ("ab-solution", "zzz-solution"):
        assert got.get(student) == POINTS, (
            f"{student}: {got.get(student)} (expected full marks)\n{graded.describe()}"
        )
    assert got.get("blank") == {g: 0.0 for g in POINTS}, got.get("blank")
    for student in MARKS:
        assert got.get(student) == got.get("blank"), (student, got.get(student))


@pytest.mark.parametrize("student", sorted(ATTACKERS))
def test_attack_scores_no_more_than_blank(attack_run, student: str) -> None:
    course, graded, _, _ = attack_run
    got = kit.scores(course)
    blank = got.get("blank", {})
    mine = got.get(student, {})
    assert set(blank) >= set(POINTS), f"the blank release was not graded: {blank}\n{graded.describe()}"
    assert set(mine) >= set(POINTS), (
        f"{student} was not graded (no score recorded): {mine}\n{graded.describe()}"
    )
    touched = set(POINTS) - ATTACKERS[student].get("own", set())
    over = {g: (mine.get(g), blank.get(g)) for g in touched if (mine.get(g) or 0) > (blank.get(g) or 0)}
    result = kit.json_of(course / "autograded" / student / ASSIGNMENT / "autograder.json") or {}
    assert not over, f"{student} beat the blank release (score, blank): {over}\n{json.dumps(result)[:3000]}"


def test_the_grader_environment_never_reaches_a_student(attack_run) -> None:
    course, graded, fb, _ = attack_run
    for what, text in [
        ("grade output", graded.stdout + graded.stderr),
        ("feedback output", fb.stdout + fb.stderr),
    ]:
        assert kit.SECRET_TOKEN not in text, what
    leaked = [s for s in ATTACKERS if kit.SECRET_TOKEN in kit.student_outputs(course, ASSIGNMENT, s)]
    assert not leaked, f"the grader's secret token appears in the results/feedback of {leaked}"


def test_no_student_reads_another_students_code(attack_run) -> None:
    course, _, _, _ = attack_run
    seen = {
        reader: [
            victim
            for victim, mark in MARKS.items()
            if mark in kit.student_outputs(course, ASSIGNMENT, reader)
        ]
        for reader in ATTACKERS
    }
    assert not {r: v for r, v in seen.items() if v}, f"an earlier student's code reached a later one: {seen}"


def test_hidden_tests_and_spec_never_reach_feedback(attack_run) -> None:
    course, graded, fb, _ = attack_run
    secrets = kit.hidden_secrets(ASSIGNMENT, kit.release_notebook(ASSIGNMENT, course))
    assert len(secrets) > 10
    for student in ["blank", *ATTACKERS]:
        text = kit.student_outputs(course, ASSIGNMENT, student)
        shown = [s for s in secrets if s in text]
        assert not shown, f"{student}'s results/feedback show hidden code: {shown[:5]}"


def test_ipc_leaves_nothing_on_the_host(attack_run) -> None:
    _, _, _, leftovers = attack_run
    assert not leftovers, f"left on the host after grading: {leftovers}"


def test_results_and_feedback_are_size_capped(attack_run) -> None:
    course, _, _, _ = attack_run
    for student in ("huge-record", "garbage-records", "huge-int"):
        for path in [
            *(course / "autograded" / student).rglob("*.json"),
            *(course / "feedback" / student).rglob("*"),
        ]:
            if path.is_file():
                assert path.stat().st_size <= SIZE_CAP, f"{path}: {path.stat().st_size} bytes"


def test_feedback_completes_for_everyone(attack_run) -> None:
    course, _, fb, _ = attack_run
    assert fb.returncode == 0 and not fb.timed_out, fb.describe()
    for student in [
        "blank",
        "ab-solution",
        "zzz-solution",
        "surrogate-and-extremes",
        "huge-int",
        "huge-record",
    ]:
        pages = list((course / "feedback" / student / ASSIGNMENT).glob("*.html"))
        assert pages, f"no feedback page for {student}\n{fb.describe()}"
