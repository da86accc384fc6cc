"""Fixtures: a small nbgrader course (assignment ``ag-demo``) generated once per session; the package's wheel, built
once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ag_helpers import FIXTURES, env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def generated_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture course after ``nbgrader generate_assignment ag-demo`` (gradebook with the grade cells)."""
    root = tmp_path_factory.mktemp("course-template") / "course"
    shutil.copytree(FIXTURES / "course", root)
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "ag-demo", "--force"],
        cwd=root,
        env=env(),
        check=True,
        capture_output=True,
    )
    assert (root / "gradebook.db").is_file()
    return root


@pytest.fixture
def course(generated_course: Path, tmp_path: Path) -> Path:
    """A private copy of the generated course for one test."""
    root = tmp_path / "course"
    shutil.copytree(generated_course, root)
    return root


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built by ``pip wheel --no-deps --no-build-isolation`` from a copy of the packaged files
    (``pyproject.toml``, ``README.md``, ``course_pkg/``, ``autograder/``) outside the checkout, with no
    ``PYTHONPATH`` reaching the build."""
    src = tmp_path_factory.mktemp("wheel-src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("course_pkg", "autograder"):
        shutil.copytree(ROOT / package, src / package, ignore=ignore)
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", ".", "-w", "dist"],
        cwd=src,
        env=clean,
        check=True,
        capture_output=True,
    )
    (wheel,) = (src / "dist").glob("*.whl")
    return wheel
