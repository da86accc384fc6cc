"""A grading server without the checkout: the wheel, installed in a fresh venv, grades a copy of the course directory.

The wheel is built from the checkout, installed (without dependencies) into a new virtual environment, and run as
the ``autograder`` command from a working directory outside the checkout, on a copy of the course directory
(``nbgrader_config.py`` and ``source/``). To stay fast, the new venv reaches the third-party packages already
installed (torch, numpy, nbgrader, …) through a ``.pth`` file naming the test interpreter's ``site-packages``
directory, resolved. A ``.pth`` rather than ``--system-site-packages``: the packages live in a venv, not in the base
interpreter that ``--system-site-packages`` would expose; and a path listed in a ``.pth`` file is a plain
``sys.path`` entry appended *after* the new venv's own ``site-packages`` (so the wheel's ``autograder`` and
``course_pkg`` win) whose own ``.pth`` files are not executed (so the checkout's editable install, a ``.pth`` hook
there, stays off). The test asserts both: the modules come from the new venv, and the checkout is not on
``sys.path``. No ``PYTHONPATH`` reaches the installed command.

Expected grades come from the instructor notebook's own metadata (each test cell's points): the solution scores
every cell's points, and a submission whose SGD applies dampening to the first momentum step (torch initialises the
buffer with the raw gradient) loses exactly ``test_sgd_dampening``, the only cell that sets ``dampening``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from helpers.courses import copy_course
from helpers.nbgrader import scores as gradebook_scores

ROOT = Path(__file__).resolve().parents[2]
A3 = "a3-sgd-momentum-schedules"
BUGGY = ("buf = g.detach().clone()", "buf = g.detach().clone().mul_(1 - dampening)")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("setuptools") is None, reason="building a wheel needs setuptools"
    ),
]


def _points(nb: dict) -> dict[str, float]:
    """grade_id → points of every autograded test cell (nbgrader metadata of the instructor notebook)."""
    out = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("grade") and not meta.get("solution"):
            out[meta["grade_id"]] = float(meta["points"])
    return out


def _wrong(nb: dict) -> dict:
    nb = json.loads(json.dumps(nb))
    hits = 0
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "sgd":
            src = "".join(cell["source"])
            hits += src.count(BUGGY[0])
            cell["source"] = src.replace(BUGGY[0], BUGGY[1])
    assert hits == 1, "the solution's SGD no longer initialises its momentum buffer as this test expects"
    return nb


def test_installed_wheel_grades_a_course_outside_the_checkout(
    tmp_path: Path, built_wheel: Path, generated_assignment
) -> None:
    # 1. the wheel, built from a copy of the packaged files (conftest.py)
    wheel = built_wheel
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}

    # 2. a fresh venv holding only the wheel; third-party packages through a .pth (see the module docstring)
    venv = tmp_path / "server-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env=clean, check=True)
    py = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", str(wheel)],
        env=clean,
        check=True,
        capture_output=True,
    )
    site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            env=clean,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    shared = Path(sysconfig.get_paths()["purelib"]).resolve()
    (site / "zz-shared-third-party.pth").write_text(f"{shared}\n")
    env = dict(
        clean, PATH=f"{venv / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin"
    )
    env["HOME"] = str(tmp_path)
    where = subprocess.run(
        [
            str(py),
            "-c",
            "import json, sys, autograder, course_pkg; "
            "print(json.dumps([autograder.__file__, course_pkg.__file__, sys.path]))",
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    ag_file, pkg_file, path = json.loads(where.stdout)
    assert Path(ag_file).is_relative_to(site) and Path(pkg_file).is_relative_to(site), (ag_file, pkg_file)
    assert str(ROOT) not in [str(Path(p).resolve()) if p else str(tmp_path) for p in path], path

    # 3. a copy of the course directory (outside the checkout) with its release and gradebook (stock nbgrader's
    # generate_assignment, once per session), two submissions
    course = copy_course(generated_assignment(A3), tmp_path / "course")
    solution = json.loads((course / "source" / A3 / f"{A3}.ipynb").read_text())
    for student, nb in (("solution", solution), ("dampening-bug", _wrong(solution))):
        target = course / "submitted" / student / A3 / f"{A3}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(nb))

    # 4. the installed command grades them, from a directory outside the checkout
    graded = subprocess.run(
        [
            str(venv / "bin" / "autograder"),
            "--course",
            str(course),
            "grade",
            A3,
            "--device",
            "cpu",
            "--no-progress",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "internal grader error" not in graded.stdout + graded.stderr
    points = _points(solution)
    assert "test_sgd_dampening" in points and "test_train_digits" in points
    scores = gradebook_scores(course)
    assert scores["solution"] == points, graded.stdout + graded.stderr
    assert scores["dampening-bug"] == {**points, "test_sgd_dampening": 0.0}
    result = json.loads((course / "autograded" / "solution" / A3 / "autograder.json").read_text())
    assert not [p for p in result["problems"] if "unavailable" in p or "could not hide" in p], result[
        "problems"
    ]
