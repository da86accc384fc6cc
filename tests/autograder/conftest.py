"""Fixtures: a small nbgrader course (assignment ``ag-demo``) generated once per session."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ag_helpers import FIXTURES, env


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
