"""Course directories of the real assignments, released by stock ``nbgrader generate_assignment``.

Generating one assignment costs ~10 s of nbgrader start-up and processing; the session fixture
``generated_assignment`` (tests/conftest.py) generates each assignment once and every test that grades it works in
its own copy (:func:`copy_course`).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from helpers.nbgrader import VENV_BIN, env

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "assignments"


def generate(assignment: str, dest: Path) -> Path:
    """``dest``: the course's ``nbgrader_config.py`` and ``source/<assignment>``, after ``nbgrader
    generate_assignment`` (release notebook and gradebook written)."""
    dest.mkdir(parents=True)
    shutil.copy(COURSE / "nbgrader_config.py", dest)
    shutil.copytree(COURSE / "source" / assignment, dest / "source" / assignment)
    proc = subprocess.run(
        [f"{VENV_BIN}/nbgrader", "generate_assignment", assignment, "--force"],
        cwd=dest,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"nbgrader generate_assignment {assignment}:\n{proc.stdout}\n{proc.stderr}"
    released = dest / "release" / assignment / f"{assignment}.ipynb"
    assert released.is_file(), "generate_assignment wrote no release notebook"
    assert (dest / "gradebook.db").is_file(), "generate_assignment wrote no gradebook"
    return dest


def once_per_assignment(base: Path) -> Callable[[str], Path]:
    """``get(assignment)``: :func:`generate` into ``base/<assignment>`` on the first call, the same folder after
    (safe from several threads: one generation per assignment)."""
    guard = threading.Lock()
    locks: dict[str, threading.Lock] = {}
    made: dict[str, Path] = {}

    def get(assignment: str) -> Path:
        with guard:
            lock = locks.setdefault(assignment, threading.Lock())
        with lock:
            if assignment not in made:
                made[assignment] = generate(assignment, base / assignment)
        return made[assignment]

    return get


def copy_course(generated: Path, dest: Path) -> Path:
    """A private copy of a generated course (the shared one is never written to)."""
    shutil.copytree(generated, dest)
    return dest
