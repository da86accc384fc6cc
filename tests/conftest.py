"""Shared by every test folder: ``tests/`` on ``sys.path``, so that the helpers package ``tests/helpers/`` imports
the same way (``from helpers.nbgrader import scores``) from ``tests/assignments``, ``tests/autograder`` and the rest."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
