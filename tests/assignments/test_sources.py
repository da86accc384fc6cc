"""The assignments' notebook sources (``assignments/notebooks/*.md``) and the one nbgrader-metadata helper.

The expected metadata below is written out by hand from nbgrader's cell-metadata schema (version 3: ``grade``,
``grade_id``, ``locked``, ``schema_version``, ``solution``, ``points`` for graded cells), not computed by the
builder under test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "assignments"
sys.path.insert(0, str(COURSE / "tools"))

import build_notebooks  # noqa: E402

from autograder import cells as nbcells  # noqa: E402

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""

TINY = (
    HEADER
    + """
# A tiny assignment

Write `double`.

```{code-cell} ipython3
:locked: setup

%xmode Minimal
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
assert double(2) == 4
### BEGIN HIDDEN TESTS
assert double(-1.5) == -3.0
### END HIDDEN TESTS
```

```{code-cell} ipython3
:locked: helpers
:include: _include/helper.py
```

+++ {"manual": "why", "points": 2}

Because.

+++

A plain note.
"""
)


def write_source(tmp_path: Path, text: str, helper: str = "HELPER = 1\n") -> Path:
    (tmp_path / "_include").mkdir(exist_ok=True)
    (tmp_path / "_include" / "helper.py").write_text(helper)
    md = tmp_path / "tiny.md"
    md.write_text(text)
    return md


def test_every_kind_of_cell_gets_nbgrader_metadata(tmp_path: Path) -> None:
    nb = build_notebooks.build(write_source(tmp_path, TINY))
    got = [(c.cell_type, c.get("id"), c.metadata.get("nbgrader"), c.source) for c in nb.cells]
    base = {"schema_version": 3}
    assert got == [
        ("markdown", "cell-0", None, "# A tiny assignment\n\nWrite `double`."),
        (
            "code",
            "setup",
            {**base, "grade": False, "grade_id": "setup", "locked": True, "solution": False},
            "%xmode Minimal\nimport math",
        ),
        (
            "code",
            "double",
            {**base, "grade": False, "grade_id": "double", "locked": False, "solution": True},
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
        ),
        (
            "code",
            "test-double",
            {
                **base,
                "grade": True,
                "grade_id": "test_double",
                "locked": True,
                "solution": False,
                "points": 3,
            },
            "# Tests: double (3 points)\nassert double(2) == 4\n### BEGIN HIDDEN TESTS\n"
            "assert double(-1.5) == -3.0\n### END HIDDEN TESTS",
        ),
        (
            "code",
            "helpers",
            {**base, "grade": False, "grade_id": "helpers", "locked": True, "solution": False},
            "HELPER = 1",
        ),
        (
            "markdown",
            "why",
            {**base, "grade": True, "grade_id": "why", "locked": False, "solution": True, "points": 2},
            "Because.",
        ),
        ("markdown", "cell-6", None, "A plain note."),
    ]
    assert [nbcells.kind(c) for c in nb.cells] == [
        None,
        "locked",
        "solution",
        "tests",
        "locked",
        "manual",
        None,
    ]
    assert nb.metadata["kernelspec"]["name"] == "python3"
    nbformat.validate(nb)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (":solution: double", ":soluton: double", "unknown option"),
        ("    ### END SOLUTION\n", "", "needs ### BEGIN SOLUTION and ### END SOLUTION"),
        ("# Tests: double (3 points)", "# checks double", "must start with '# Tests:"),
        (":tests: test_double", ":tests: setup", "duplicate grade id 'setup'"),
        (":tests: test_double", ":tests: test double", "Python-style name"),
        (":locked: helpers\n", ":solution: helpers\n", ":include: is for an empty locked cell"),
        (":solution: double\n", ":solution: double\n:locked: d2\n", "one nbgrader role per cell"),
        ('{"manual": "why", "points": 2}', '{"manual": "why"}', "needs positive points"),
        ('{"manual": "why", "points": 2}', '{"points": 2}', "without a role"),
    ],
)
def test_a_malformed_source_is_refused_with_a_clear_error(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in TINY
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("*", r"\*")):
        build_notebooks.build(write_source(tmp_path, TINY.replace(old, new, 1)))


def test_metadata_reads_are_defensive() -> None:
    for cell in [
        {},
        {"metadata": None},
        {"metadata": {"nbgrader": "x"}},
        {"metadata": {"nbgrader": []}},
        "text",
    ]:
        assert nbcells.nbgrader(cell) == {} and nbcells.kind(cell) is None and nbcells.grade_id(cell) is None
    test = {
        "cell_type": "code",
        "metadata": nbcells.metadata("tests", "test_a", pts=2),
        "source": ["a\n", "b"],
    }
    assert (nbcells.kind(test), nbcells.points(test), nbcells.source(test)) == ("tests", 2.0, "a\nb")
    forged = {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "grade_id": 7, "points": "9"}}}
    assert nbcells.grade_id(forged) is None and nbcells.points(forged) == 0.0
    with pytest.raises(ValueError, match="must be a markdown cell"):
        nbcells.metadata("manual", "why", "code", 1)


def test_sources_are_discovered_and_outside_the_released_folders() -> None:
    names = [md.stem for md in build_notebooks.sources()]
    assert names == sorted(p.name for p in (COURSE / "source").iterdir() if p.is_dir())
    # nbgrader copies every file of source/<assignment>/ into the students' release: no solution source there
    assert not list((COURSE / "source").rglob("*.md"))


def test_the_code_cells_are_linted() -> None:
    """``ruff check`` on the built notebooks (every code cell, in context), the shared cells and the tools."""
    ruff = str(Path(sys.executable).parent / "ruff")
    targets = ["assignments/source", "assignments/notebooks", "assignments/tools", "autograder/cells.py"]
    proc = subprocess.run([ruff, "check", "--no-cache", *targets], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = subprocess.run(
        [ruff, "check", "--show-files", *targets], cwd=ROOT, capture_output=True, text=True
    )
    linted = {Path(line.strip()).resolve() for line in files.stdout.splitlines() if line.strip()}
    for md in build_notebooks.sources():  # the notebooks are not excluded from linting
        assert build_notebooks.target(md).resolve() in linted
