"""Write (or check) the source notebooks of the course's nbgrader assignments.

Usage, from the repository root::

    python assignments/tools/build_notebooks.py           # (re)write assignments/source/*/*.ipynb
    python assignments/tools/build_notebooks.py --check   # exit 1 if a committed notebook is out of date
    python assignments/tools/build_notebooks.py --table   # print the points table of assignments/README.md

The notebooks are committed; this script is their reviewable source. Each ``aN.py`` module next to it defines
``NAME`` and ``build()``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "source"
README = HERE.parent / "README.md"
MODULES = ["a1", "a2", "a3", "a4", "a5", "a6"]
TABLE_START, TABLE_END = "<!-- points-table:start -->", "<!-- points-table:end -->"


def available() -> list:
    """Import the assignment modules that exist (in order a1..a5)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    mods = []
    for name in MODULES:
        if (HERE / f"{name}.py").exists():
            mods.append(importlib.import_module(name))
    return mods


def render(module) -> str:
    """The notebook of one assignment module as the exact text written to disk."""
    return nbformat.writes(module.build(), version=4) + "\n"


def target(module) -> Path:
    """Where the source notebook of ``module`` lives."""
    return SOURCE / module.NAME / f"{module.NAME}.ipynb"


def points_rows(module) -> list[str]:
    """Markdown table rows ``| assignment | grade_id | kind | points |`` for one assignment's grade cells."""
    rows = []
    for cell in module.build().cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            kind = "autograded" if cell.cell_type == "code" else "manual"
            rows.append(f"| {module.NAME} | `{meta['grade_id']}` | {kind} | {meta['points']:g} |")
    return rows


def points_table() -> str:
    """The whole points table (header, one row per grade cell, one total row per assignment)."""
    lines = ["| assignment | grade cell | graded | points |", "| --- | --- | --- | --- |"]
    for module in available():
        rows = points_rows(module)
        total = sum(float(row.rsplit("|", 2)[1]) for row in rows)
        lines += rows + [f"| {module.NAME} | **total** | | **{total:g}** |"]
    return "\n".join(lines)


def readme_with_table(text: str) -> str:
    """``text`` (the README) with the generated points table between its two marker comments."""
    head, _, rest = text.partition(TABLE_START)
    _, _, tail = rest.partition(TABLE_END)
    if not rest or TABLE_END not in rest:
        raise ValueError(f"{README} lacks the markers {TABLE_START} ... {TABLE_END}")
    return f"{head}{TABLE_START}\n{points_table()}\n{TABLE_END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Write the notebooks, or with ``--check`` report the ones that differ from their generator."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    parser.add_argument("--table", action="store_true", help="print the points table (markdown) and exit")
    args = parser.parse_args(argv)
    if args.table:
        print(points_table())
        return 0
    stale = []
    for module in available():
        path, text = target(module), render(module)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(HERE.parent.parent)}")
    readme = README.read_text()
    if args.check:
        if readme_with_table(readme) != readme:
            stale.append(str(README))
    else:
        README.write_text(readme_with_table(readme))
    if stale:
        print("out of date (run python assignments/tools/build_notebooks.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
