"""Build (or check) the course's nbgrader instructor notebooks from their reviewable sources.

Usage, from the repository root::

    python assignments/tools/build_notebooks.py           # (re)write assignments/source/*/*.ipynb
    python assignments/tools/build_notebooks.py --check   # exit 1 if a committed notebook is out of date
    python assignments/tools/build_notebooks.py --table   # print the points table of assignments/README.md

Every ``assignments/notebooks/<assignment>.md`` is one assignment (discovered, not registered): a MyST-Markdown
notebook (jupytext's ``md:myst`` format) whose code cells are real code. A cell's nbgrader role is one option:

* ``:solution: <grade_id>`` — the student's cell; ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` is cleared on
  release;
* ``:tests: <grade_id>`` — a locked, autograded test cell; its first line ``# Tests: <what> (<n> points)`` gives its
  points; hidden checks go between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``;
* ``:locked: <grade_id>`` — locked setup, helpers or data; ``:include: <file>`` (relative to the ``.md``) takes the
  cell's code from a file shared by several notebooks (``notebooks/_include/``);
* a markdown cell ``+++ {"manual": "<grade_id>", "points": <n>}`` — a written answer graded by hand (its text is
  the model answer, cleared on release); ``+++ {"locked": "<grade_id>"}`` — locked instructions.

Cells without an option are plain (instructions, or code students may change). The nbgrader metadata itself is
written by :mod:`autograder.cells`, the one place that knows it. The notebooks are committed (the autograder reads
them); a test runs ``--check``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import jupytext
import nbformat
from nbformat.notebooknode import NotebookNode

HERE = Path(__file__).resolve().parent
COURSE = HERE.parent
ROOT = COURSE.parent
NOTEBOOKS = COURSE / "notebooks"
SOURCE = COURSE / "source"
README = COURSE / "README.md"
TABLE_START, TABLE_END = "<!-- points-table:start -->", "<!-- points-table:end -->"
CODE_OPTIONS = {"solution", "tests", "locked", "include"}
MARKDOWN_OPTIONS = {"manual", "locked", "points"}
TITLE = re.compile(r"# Tests: .+ \((\d+(?:\.\d+)?) points?\)$")
LANGUAGE_INFO = {"name": "python", "version": "3.11"}

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from autograder import cells  # noqa: E402  (the one helper for nbgrader cell metadata)


def sources(notebooks: Path = NOTEBOOKS) -> list[Path]:
    """The assignments' notebook sources, ``notebooks/<assignment>.md``, sorted by name."""
    return sorted(p for p in notebooks.glob("*.md") if not p.name.startswith(("_", ".")))


def target(md: Path, course: Path = COURSE) -> Path:
    """Where the instructor notebook built from ``md`` lives: ``source/<assignment>/<assignment>.ipynb``."""
    return course / "source" / md.stem / f"{md.stem}.ipynb"


def _role(options: dict, allowed: set[str], where: str) -> tuple[str | None, str | None]:
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown option(s) {sorted(unknown)} (allowed: {sorted(allowed)})")
    roles = [k for k in ("solution", "tests", "locked", "manual") if k in options]
    if len(roles) > 1:
        raise ValueError(f"{where}: one nbgrader role per cell, got {roles}")
    if not roles:
        if options:
            raise ValueError(
                f"{where}: options {sorted(options)} without a role (solution, tests, locked, manual)"
            )
        return None, None
    gid = options[roles[0]]
    if not isinstance(gid, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", gid):
        raise ValueError(f"{where}: grade id {gid!r} must be a Python-style name")
    return roles[0], gid


def _code_cell(cell: NotebookNode, md: Path, where: str) -> NotebookNode:
    role, gid = _role(dict(cell.metadata), CODE_OPTIONS, where)
    text = cell.source
    if "include" in cell.metadata:
        if role != "locked" or text.strip():
            raise ValueError(f"{where}: :include: is for an empty locked cell")
        text = (md.parent / cell.metadata["include"]).read_text(encoding="utf-8").strip("\n")
    if role is None:
        return nbformat.v4.new_code_cell(text)
    pts = None
    if role == "solution" and ("### BEGIN SOLUTION" not in text or "### END SOLUTION" not in text):
        raise ValueError(f"{where}: solution cell {gid!r} needs ### BEGIN SOLUTION and ### END SOLUTION")
    if role == "tests":
        match = TITLE.match(text.splitlines()[0] if text else "")
        if not match:
            raise ValueError(f"{where}: test cell {gid!r} must start with '# Tests: <what> (<n> points)'")
        pts = float(match.group(1))
        pts = int(pts) if pts.is_integer() else pts
    return nbformat.v4.new_code_cell(text, metadata=cells.metadata(role, gid, "code", pts))


def _markdown_cell(cell: NotebookNode, where: str) -> NotebookNode:
    role, gid = _role(dict(cell.metadata), MARKDOWN_OPTIONS, where)
    if role is None:
        return nbformat.v4.new_markdown_cell(cell.source)
    pts = cell.metadata.get("points") if role == "manual" else None
    return nbformat.v4.new_markdown_cell(cell.source, metadata=cells.metadata(role, gid, "markdown", pts))


def build(md: Path) -> NotebookNode:
    """The instructor notebook of one assignment source (validated; unique grade ids, stable cell ids)."""
    text = md.read_text(encoding="utf-8")
    parsed = jupytext.reads(text, fmt="md:myst")
    out = []
    for i, cell in enumerate(parsed.cells):
        where = f"{md.name}, cell {i + 1}"
        if cell.cell_type == "code":
            out.append(_code_cell(cell, md, where))
        elif cell.cell_type == "markdown":
            out.append(_markdown_cell(cell, where))
        else:
            raise ValueError(f"{where}: {cell.cell_type} cells are not supported")
    seen: set[str] = set()
    for i, cell in enumerate(out):
        gid = cells.grade_id(cell)
        if gid in seen:
            raise ValueError(f"{md.name}: duplicate grade id {gid!r}")
        if gid is not None:
            seen.add(gid)
        cell["id"] = gid.replace("_", "-") if gid else f"cell-{i}"
    if not any(cells.of_kind(out, "tests")):
        raise ValueError(f"{md.name}: no test cell (':tests: <grade_id>')")
    kernelspec = parsed.metadata.get("kernelspec") or {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb = nbformat.v4.new_notebook(
        cells=out, metadata={"kernelspec": dict(kernelspec), "language_info": dict(LANGUAGE_INFO)}
    )
    nbformat.validate(nb)
    return nb


def render(md: Path) -> str:
    """The instructor notebook of ``md`` as the exact text written to disk."""
    return nbformat.writes(build(md), version=4) + "\n"


def write(md: Path, course: Path = COURSE) -> Path:
    """Build ``md`` into ``course/source/<assignment>/<assignment>.ipynb``; returns that path."""
    path = target(md, course)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(md), encoding="utf-8")
    return path


def points_rows(nb: NotebookNode, name: str) -> list[str]:
    """Markdown table rows ``| assignment | grade_id | kind | points |`` for one notebook's grade cells."""
    rows = []
    for cell in cells.of_kind(nb.cells, "tests", "manual"):
        graded = "autograded" if cells.kind(cell) == "tests" else "manual"
        rows.append(f"| {name} | `{cells.grade_id(cell)}` | {graded} | {cells.points(cell):g} |")
    return rows


def points_table() -> str:
    """The whole points table (header, one row per grade cell, one total row per assignment)."""
    lines = ["| assignment | grade cell | graded | points |", "| --- | --- | --- | --- |"]
    for md in sources():
        rows = points_rows(build(md), md.stem)
        total = sum(float(row.rsplit("|", 2)[1]) for row in rows)
        lines += rows + [f"| {md.stem} | **total** | | **{total:g}** |"]
    return "\n".join(lines)


def readme_with_table(text: str) -> str:
    """``text`` (the README) with the generated points table between its two marker comments."""
    head, _, rest = text.partition(TABLE_START)
    _, _, tail = rest.partition(TABLE_END)
    if not rest or TABLE_END not in rest:
        raise ValueError(f"{README} lacks the markers {TABLE_START} ... {TABLE_END}")
    return f"{head}{TABLE_START}\n{points_table()}\n{TABLE_END}{tail}"


def stale_notebooks() -> list[Path]:
    """Built notebooks that differ from their source, and notebooks under ``source/`` that no source builds."""
    stale = [
        target(md) for md in sources() if not target(md).exists() or target(md).read_text() != render(md)
    ]
    built = {target(md) for md in sources()}
    return stale + sorted(p for p in SOURCE.glob("*/*.ipynb") if p not in built)


def main(argv: list[str] | None = None) -> int:
    """Write the notebooks, or with ``--check`` report the ones that differ from their source."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    parser.add_argument("--table", action="store_true", help="print the points table (markdown) and exit")
    args = parser.parse_args(argv)
    if args.table:
        print(points_table())
        return 0
    if args.check:
        stale = [str(p) for p in stale_notebooks()]
        readme = README.read_text()
        if readme_with_table(readme) != readme:
            stale.append(str(README))
        if stale:
            print("out of date (run python assignments/tools/build_notebooks.py):", *stale, sep="\n  ")
            return 1
        return 0
    for md in sources():
        print(f"wrote {write(md).relative_to(ROOT)}")
    README.write_text(readme_with_table(README.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
