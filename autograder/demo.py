"""A demonstration course for instructors: ``make grade-demo`` (or ``python -m autograder.demo DEST``).

Builds, under ``DEST``, a copy of the course directory with one assignment released and a handful of
submissions that show what the autograder does with each kind of student:

- ``solution``: the instructor notebook (full marks);
- ``blank``: the released notebook, untouched (0, without crashing the run);
- one submission per deliberately wrong option of ``assignments/tools/mutations.py`` (loses exactly the cells
  that cover that option);
- ``cheater``: a wrong option *plus* ``torch.allclose``/``numpy.allclose`` patched to always say "equal" and
  ``AssertionError`` rebound — full marks under stock ``nbgrader autograde``, not here.

The course directory is a plain nbgrader course: ``autograder --course DEST grade ASSIGNMENT`` grades it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder import cells as nbcells

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ASSIGNMENT = "a3-sgd-momentum-schedules"

CHEAT = """
# --- a dishonest addition: every comparison now says "equal" ---
import builtins as _b
import numpy as _np
import torch as _t
_t.allclose = lambda *a, **k: True
_t.testing.assert_close = lambda *a, **k: None
_np.allclose = lambda *a, **k: True
_b.AssertionError = type("AssertionError", (Exception,), {})
"""


def _load_mutations(course_src: Path):
    path = course_src / "tools" / "mutations.py"
    spec = importlib.util.spec_from_file_location("_course_mutations", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load the wrong-option submissions from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def make_demo_course(
    dest: Path, assignment: str = DEFAULT_ASSIGNMENT, course_src: Path | None = None
) -> list[str]:
    """Create the demonstration course under ``dest`` (replaced if it exists).

    Parameters
    ----------
    dest : Path
        Directory of the new course.
    assignment : str
        Assignment to release and submit.
    course_src : Path, optional
        The course to copy (default: the repository's ``assignments/``).

    Returns
    -------
    list of str
        The student ids created under ``dest/submitted``.
    """
    import nbformat

    course_src = (course_src or REPO / "assignments").resolve()
    source_nb = course_src / "source" / assignment / f"{assignment}.ipynb"
    if not source_nb.is_file():
        raise ValueError(f"no assignment {assignment!r}: {source_nb} does not exist")
    dest = Path(dest).resolve()
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy(course_src / "nbgrader_config.py", dest)
    shutil.copytree(course_src / "source" / assignment, dest / "source" / assignment)

    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
        cwd=dest,
        env=env,
        check=True,
        capture_output=True,
    )

    def submit(student: str, nb: nbformat.NotebookNode) -> None:
        target = dest / "submitted" / student / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)

    solution = nbformat.read(source_nb, as_version=4)
    release = nbformat.read(dest / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    submit("solution", solution)
    submit("blank", release)

    mutations = _load_mutations(course_src)
    wrong = mutations.MUTATIONS.get(assignment, [])
    for mutation in wrong:
        submit(mutation.student, mutations.mutate(solution, mutation))
    if wrong:
        cheater = mutations.mutate(solution, wrong[0])
        for cell in cheater.cells:
            if nbcells.grade_id(cell) == wrong[0].cell:
                cell.source = cell.source + "\n" + CHEAT
        submit("cheater", cheater)
    (dest / "demo.json").write_text(
        json.dumps(
            {"assignment": assignment, "wrong": {m.student: sorted(m.breaks) for m in wrong}}, indent=2
        )
    )
    return sorted(p.name for p in (dest / "submitted").iterdir())


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.demo DEST [--assignment NAME]``."""
    parser = argparse.ArgumentParser(prog="python -m autograder.demo", description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--assignment", default=DEFAULT_ASSIGNMENT)
    args = parser.parse_args(argv)
    students = make_demo_course(args.dest, args.assignment)
    print(f"demo course {args.dest}: {args.assignment} submitted by {', '.join(students)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
