"""Shared by every test folder: ``tests/`` on ``sys.path``, so that the helpers package ``tests/helpers/`` imports
the same way (``from helpers.nbgrader import scores``) from ``tests/assignments``, ``tests/autograder`` and the rest."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

TESTS = str(Path(__file__).resolve().parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)


@pytest.fixture(scope="session")
def generated_assignment(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``generated_assignment(name)``: a course directory where stock nbgrader has generated the real assignment
    ``name`` (release notebook, gradebook), made once per session for every test folder. Shared: tests copy it
    (``helpers.courses.copy_course``) and grade in the copy."""
    from helpers.courses import once_per_assignment

    return once_per_assignment(tmp_path_factory.mktemp("generated-assignments"))
