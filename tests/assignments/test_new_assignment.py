"""Adding an assignment is one notebook source: a tiny new assignment, end to end, in a fresh course directory.

The source (one solution cell, one test cell with a visible and a hidden check) is built into the instructor
notebook, released with stock ``nbgrader generate_assignment``, and graded by the autograder, which has no spec
file for it and derives the checks from the notebook's own test cell. The expected scores are nbgrader's rule
applied by hand: the solution earns the cell's points; a submission that passes the visible check but not the
hidden one, and the untouched release, earn 0.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from helpers.nbgrader import env, scores

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "assignments"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(COURSE / "tools"))

import build_notebooks  # noqa: E402
from mutations import Mutation, mutate  # noqa: E402

from autograder.pipeline import grade_assignment  # noqa: E402
from autograder.spec import SPECS_DIR, load_spec, spec_path  # noqa: E402

NAME = "z9-tiny-double"
SOURCE = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A tiny assignment

Write `double(x)`, which returns $2x$.

```{code-cell} ipython3
:locked: setup

import math
```

```{code-cell} ipython3
:solution: double

def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
```

```{code-cell} ipython3
:tests: test_double

# Tests: double (3 points)
assert double(2) == 4, f"double(2) = {double(2)}"
### BEGIN HIDDEN TESTS
assert math.isclose(double(-1.5), -3.0), f"double(-1.5) = {double(-1.5)}"
### END HIDDEN TESTS
```
"""
# Right on the visible check (x = 2), wrong on the hidden one (x = -1.5).
WRONG = Mutation("wrong_sign", "double", "return 2 * x", "return abs(2 * x)", frozenset({"test_double"}))


def test_a_new_assignment_is_one_notebook_source(tmp_path: Path) -> None:
    assert not (SPECS_DIR / f"{NAME}.py").exists()
    course = tmp_path / "course"
    (course / "notebooks").mkdir(parents=True)
    shutil.copy(COURSE / "nbgrader_config.py", course)
    md = course / "notebooks" / f"{NAME}.md"
    md.write_text(SOURCE)
    assert build_notebooks.sources(course / "notebooks") == [md]  # discovered
    source_nb = build_notebooks.write(md, course)
    assert source_nb == course / "source" / NAME / f"{NAME}.ipynb"

    # the spec is derived from the notebook: its one test cell, replayed in the grader
    assert spec_path(NAME, course=course) == source_nb.resolve()
    spec = load_spec(spec_path(NAME, course=course))
    assert (spec.assignment, spec.cells, spec.grade_ids()) == (NAME, ["double"], ["test_double"])
    assert [c.replay for c in spec.checks] == [str(source_nb.resolve())]

    subprocess.run(
        [str(BIN / "nbgrader"), "generate_assignment", NAME, "--force"],
        cwd=course,
        env=env(),
        check=True,
        capture_output=True,
    )
    release = course / "release" / NAME / f"{NAME}.ipynb"
    assert "HIDDEN" not in release.read_text() and "return 2 * x" not in release.read_text()
    assert sorted(p.name for p in (course / "release" / NAME).iterdir()) == [f"{NAME}.ipynb"]
    solution = nbformat.read(source_nb, as_version=4)
    for student, nb in {
        "solution": solution,
        "blank": nbformat.read(release, as_version=4),
        WRONG.student: mutate(solution, WRONG),
    }.items():
        path = course / "submitted" / student / NAME / f"{NAME}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)

    summary = grade_assignment(NAME, course, workers=1, device="cpu", progress=False)
    assert (summary.graded, summary.max_score) == (3, 3.0)
    assert scores(course) == {
        "solution": {"test_double": 3.0},
        "blank": {"test_double": 0.0},
        "wrong_sign": {"test_double": 0.0},
    }


def test_without_spec_file_or_notebook_the_error_names_both(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(
        ValueError, match=r"expected .*nope\.py or an instructor notebook .*source/nope/nope\.ipynb"
    ):
        spec_path("nope", course=tmp_path)
    # an assignment with a spec file keeps it, whatever the course holds
    a3 = "a3-sgd-momentum-schedules"
    assert spec_path(a3, course=tmp_path) == SPECS_DIR / f"{a3}.py"
